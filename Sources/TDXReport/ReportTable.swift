/// One table cell. Numbers keep their exact value so the same table renders both as a rounded
/// Markdown table and as an exact CSV file.
public enum Cell: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral {
    case text(String)
    case int(Int)
    case number(Double, NumberStyle)

    public static func number(_ x: Double) -> Cell { .number(x, .auto(decimals: 3)) }

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .number(value) }

    /// Human-readable form (Markdown): rounded per the number style, `—` for NaN.
    public var display: String {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .number(let x, let style): return NumberFormat.format(x, style)
        }
    }

    /// Machine-readable form (CSV): exact round-trip numbers.
    public var exact: String {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .number(let x, _): return NumberFormat.exact(x)
        }
    }

    var isNumeric: Bool {
        if case .text = self { return false }
        return true
    }
}

/// A table with a header row; rows shorter than the header are padded with empty cells.
public struct ReportTable: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[Cell]]

    public init(columns: [String], rows: [[Cell]] = []) {
        self.columns = columns
        self.rows = rows
    }

    public mutating func append(_ row: [Cell]) { rows.append(row) }

    /// RFC 4180 CSV with exact numbers.
    public var csv: String {
        CSVTable.render(header: columns, rows: rows.map { padded($0).map(\.exact) })
    }

    /// A GitHub-flavoured Markdown table; numeric columns are right-aligned.
    public var markdown: String {
        let width = columns.count
        let body = rows.map { padded($0) }
        let numeric = (0..<width).map { c in !body.isEmpty && body.allSatisfy { $0[c].isNumeric } }
        var lines = [mdRow(columns)]
        lines.append("|" + numeric.map { $0 ? " ---: |" : " --- |" }.joined())
        for r in body { lines.append(mdRow(r.map(\.display))) }
        return lines.joined(separator: "\n") + "\n"
    }

    private func padded(_ row: [Cell]) -> [Cell] {
        let width = columns.count
        if row.count >= width { return Array(row.prefix(width)) }
        return row + Array(repeating: .text(""), count: width - row.count)
    }

    private func mdRow(_ cells: [String]) -> String {
        "| " + cells.map(Markdown.escapeCell).joined(separator: " | ") + " |"
    }
}
