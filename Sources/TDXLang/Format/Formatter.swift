import Foundation

// `tdx fmt`: the canonical layout of one file. Keeps comments, the user's spellings (`γ`, `1e-5`)
// and imports as written; only whitespace, quoting and line breaks change, so the resolved meaning
// never does. Files with syntax errors are not formatted.

public struct Formatter {
    public var indentUnit = "  "
    public var maxWidth = 100

    public init() {}

    public func format(_ ast: SpecAST) -> String {
        var out = ""
        for (i, item) in ast.items.enumerated() {
            let isBlock: Bool = if case .block = item.kind { true } else { false }
            let prevIsBlock: Bool = i > 0 && { if case .block = ast.items[i - 1].kind { return true }; return false }()
            if i > 0 && (isBlock || prevIsBlock || item.trivia.blankLineBefore) { out += "\n" }
            out += comments(item.trivia.leading, indent: "")
            switch item.kind {
            case .header(let v): out += "tdx \(v)"
            case .importFile(let p): out += "import \(Value.quote(p))"
            case .letBinding(let n, let e): out += "let \(n.text) = \(expr(e, indent: ""))"
            case .setting(let e): out += entry(e, indent: "")
            case .block(let b): out += block(b)
            }
            out += trailing(item.trivia.trailing) + "\n"
        }
        if !ast.trailingComments.isEmpty {
            if !ast.items.isEmpty { out += "\n" }
            out += comments(ast.trailingComments, indent: "")
        }
        return out
    }

    private func comments(_ cs: [Comment], indent: String) -> String {
        cs.map { indent + $0.text + "\n" }.joined()
    }

    private func trailing(_ c: Comment?) -> String { c.map { "  " + $0.text } ?? "" }

    private func block(_ b: Block) -> String {
        let header = b.kind.text + (b.label.map { " " + $0.text } ?? "")
        if b.entries.isEmpty && b.closingComments.isEmpty { return header + " {}" }
        var out = header + " {\n"
        for (i, e) in b.entries.enumerated() {
            if i > 0 && e.trivia.blankLineBefore { out += "\n" }
            out += comments(e.trivia.leading, indent: indentUnit)
            out += indentUnit + entry(e, indent: indentUnit) + trailing(e.trivia.trailing) + "\n"
        }
        out += comments(b.closingComments, indent: indentUnit)
        return out + "}"
    }

    private func entry(_ e: Entry, indent: String) -> String {
        "\(e.key.text) \(e.isSweep ? "in" : "=") \(expr(e.value, indent: indent))"
    }

    func expr(_ e: Expr, indent: String) -> String {
        switch e.kind {
        case .integer(let v): return String(v)
        case .float(_, let lit): return lit.replacingOccurrences(of: "E", with: "e")
        case .string(let s, let triple):
            if triple, let t = ResolvedSpec.tripleQuoted(s, indent: indent + indentUnit) { return t }
            return Value.quote(s)
        case .bool(let b): return b ? "true" : "false"
        case .identifier(let s): return s
        case .range(let a, let b, let s): return s.map { "\(a)..\(b) by \($0)" } ?? "\(a)..\(b)"
        case .call(let n, let args): return n.text + "(" + args.map { expr($0, indent: indent) }.joined(separator: ", ") + ")"
        case .list(let xs):
            let flat = "[" + xs.map { expr($0, indent: indent) }.joined(separator: ", ") + "]"
            if !flat.contains("\n") && indent.count + flat.count <= maxWidth - 20 { return flat }
            let inner = indent + indentUnit
            return "[\n" + xs.map { inner + expr($0, indent: inner) + ",\n" }.joined() + indent + "]"
        case .error: return ""
        }
    }
}
