/// Builds a Markdown document block by block; `text` is the result.
public struct MarkdownReport: Sendable, Equatable {
    public private(set) var text: String

    /// Starts the document with a level-1 title.
    public init(title: String) {
        text = "# \(Markdown.escapeInline(title))\n"
    }

    /// A heading; `level` is clamped to 1…6.
    public mutating func heading(_ title: String, level: Int = 2) {
        block(String(repeating: "#", count: min(max(level, 1), 6)) + " " + Markdown.escapeInline(title))
    }

    /// A paragraph of Markdown text, written as given (so it may contain emphasis or links).
    public mutating func paragraph(_ markdown: String) {
        block(markdown)
    }

    /// A bulleted list of Markdown items.
    public mutating func bullets(_ items: [String]) {
        guard !items.isEmpty else { return }
        block(items.map { "- " + String($0.map { $0.isNewline ? " " : $0 }) }.joined(separator: "\n"))
    }

    /// A two-column key–value table, e.g. the provenance header of a report. Values are shown as
    /// inline code when `codeValues` is true (digests, stage keys).
    public mutating func keyValueTable(_ pairs: [(key: String, value: String)],
                                       header: (String, String) = ("Key", "Value"), codeValues: Bool = false) {
        let rows: [[Cell]] = pairs.map { p in
            [.text(p.key), .text(codeValues ? Markdown.code(p.value) : p.value)]
        }
        table(ReportTable(columns: [header.0, header.1], rows: rows))
    }

    public mutating func table(_ table: ReportTable) {
        block(String(table.markdown.dropLast()))
    }

    /// An image link, e.g. to an SVG written next to the report; `path` is relative to the report.
    public mutating func image(_ path: String, alt: String) {
        block("![\(Markdown.escapeInline(alt))](\(Markdown.escapeLink(path)))")
    }

    /// A fenced code block; the fence is made longer than any backtick run inside `code`.
    public mutating func codeBlock(_ code: String, language: String = "") {
        var longest = 0, run = 0
        for ch in code {
            run = ch == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        let body = code.hasSuffix("\n") ? String(code.dropLast()) : code
        block(fence + language + "\n" + body + "\n" + fence)
    }

    private mutating func block(_ s: String) {
        text += "\n" + s + "\n"
    }
}

/// Escaping rules for the few places where text is embedded in Markdown syntax.
public enum Markdown {
    /// A table cell: `|` escaped, line breaks turned into `<br>`.
    public static func escapeCell(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch == "|" { out += "\\|" } else if ch.isNewline { out += "<br>" } else { out.append(ch) }
        }
        return out
    }

    /// Text in a heading or alt text: line breaks become spaces, brackets are escaped.
    public static func escapeInline(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "[", "]": out += "\\" + String(ch)
            default: out += ch.isNewline ? " " : String(ch)
            }
        }
        return out
    }

    /// A link target: spaces and parentheses percent-encoded so the link does not break.
    public static func escapeLink(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case " ": out += "%20"
            case "(": out += "%28"
            case ")": out += "%29"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Inline code that survives backticks in the value.
    public static func code(_ s: String) -> String {
        let fence = s.contains("`") ? "``" : "`"
        let pad = s.hasPrefix("`") || s.hasSuffix("`") ? " " : ""
        return fence + pad + s + pad + fence
    }
}
