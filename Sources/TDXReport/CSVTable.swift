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

    public static func field(_ s: String) -> String {
        let needsQuotes = s.contains { $0 == "," || $0 == "\"" || $0.isNewline }
            || s.first == " " || s.last == " "
        guard needsQuotes else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
