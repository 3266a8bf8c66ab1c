import Foundation

/// A minimal Markdown builder for the report (tables with escaped cells, fixed number formats).
struct ReportMarkdown {
    private(set) var text = ""

    mutating func heading(_ level: Int, _ s: String) { text += String(repeating: "#", count: level) + " " + s + "\n\n" }
    mutating func paragraph(_ s: String) { text += s + "\n\n" }

    mutating func table(_ header: [String], _ rows: [[String]], alignLeft: Bool = false) {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        text += "| " + header.map(cell).joined(separator: " | ") + " |\n"
        text += "|" + header.map { _ in alignLeft ? "---|" : "---|" }.joined() + "\n"
        for r in rows { text += "| " + r.map(cell).joined(separator: " | ") + " |\n" }
        text += "\n"
    }

    static func num(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return "—" }
        return String(format: "%.\(decimals)f", v)
    }
}

/// RFC 4180 CSV.
enum CSV {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        func field(_ s: String) -> String {
            s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}
