import Foundation

/// RFC 4180 CSV, except that lines end in `\n` (every reader accepts it and diffs stay clean).
/// Fields are quoted only when they contain a comma, a double quote, a line break or an edge space.
public enum CSVTable {
    public static func render(header: [String], rows: [[String]]) -> String {
        var out = line(header)
        for r in rows { out += line(r) }
        return out
    }

    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }

    /// Reads what `render` writes (and any RFC 4180 text): the first row is the header.
    public static func parse(_ text: String) -> (header: [String], rows: [[String]]) {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false, pendingQuote = false, started = false
        for ch in text {
            if quoted {
                if pendingQuote {
                    pendingQuote = false
                    if ch == "\"" { field.append(ch); continue }
                    quoted = false
                } else if ch == "\"" { pendingQuote = true; continue } else { field.append(ch); continue }
            }
            switch ch {
            case "\"" where field.isEmpty: quoted = true; started = true
            case ",": row.append(field); field = ""; started = true
            case "\n", "\r\n": row.append(field); rows.append(row); row = []; field = ""; started = false
            default: field.append(ch); started = true
            }
        }
        if started || !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        guard let header = rows.first else { return ([], []) }
        return (header, Array(rows.dropFirst()))
    }

    public static func field(_ s: String) -> String {
        let needsQuotes = s.contains { $0 == "," || $0 == "\"" || $0.isNewline }
            || s.first == " " || s.last == " "
        guard needsQuotes else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
