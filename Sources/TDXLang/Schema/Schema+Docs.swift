// Documentation generated from the schema: Grammar/README.md's parameter tables and `tdx help <block>`.

extension Schema {
    static func defaultText(_ p: Param) -> String {
        func text(_ v: Value) -> String { let s = v.canonical; return s == "\"\"" ? "`\"\"`" : "`\(s)`" }
        return text(p.defaultValue) + p.kindDefaults.keys.sorted().map { "; \($0): \(text(p.kindDefaults[$0]!))" }.joined()
    }

    /// The parameter tables, one per block kind, in Markdown.
    public static func markdownTables() -> String {
        var out = "### Top level\n\n| parameter | type | default | meaning |\n|---|---|---|---|\n"
        for p in topLevel.params { out += row(p) }
        for b in blocks {
            out += "\n### `\(b.name)`\n\n\(b.doc)"
            if b.multiple { out += " Several may appear, each with its own name." }
            if b.implicit { out += " Implied with every default when omitted." }
            out += "\n"
            if b.hasKinds {
                out += "\nKinds: " + b.subKinds.map { "`\($0.name)` (\($0.doc))" }.joined(separator: "; ") + "\n"
            }
            out += "\n| parameter | type | default | kinds | meaning |\n|---|---|---|---|---|\n"
            for p in b.params { out += row(p, withKinds: true) }
        }
        out += "\n### Variables\n\n| variable | provided by | meaning |\n|---|---|---|\n"
        for v in variables { out += "| `\(v.name)` | \(v.providedBy.map { "`\($0)`" }.joined(separator: ", ")) | \(v.doc) |\n" }
        return out
    }

    private static func row(_ p: Param, withKinds: Bool = false) -> String {
        let name = ([p.name] + p.aliases).map { "`\($0)`" }.joined(separator: " / ")
        let type = p.type.description.replacingPipes()
        let kinds = p.kinds.map { $0.joined(separator: ", ") } ?? "all"
        let sweep = p.sweepable ? "" : " Not sweepable."
        let doc = (p.elided ? p.doc + " Left out of the resolved form at its default." : p.doc).replacingPipes()
        return withKinds ? "| \(name) | \(type) | \(defaultText(p).replacingPipes()) | \(kinds) | \(doc)\(sweep) |\n"
                         : "| \(name) | \(type) | \(defaultText(p).replacingPipes()) | \(doc) |\n"
    }

    /// Plain-text help for one block kind.
    public static func helpText(block name: String) -> String? {
        let b: BlockSchema
        if name == "spec" || name == "top" { b = topLevel } else if let found = block(named: name) { b = found } else { return nil }
        var out = "\(b.name): \(b.doc)\n"
        if b.hasKinds { out += "\nKinds:\n" + b.subKinds.map { "  \($0.name.padded(12)) \($0.doc)\n" }.joined() }
        out += "\nParameters:\n"
        for p in b.params {
            let names = ([p.name] + p.aliases).joined(separator: " / ")
            out += "  \(names.padded(18)) \(p.type.description)\n"
            out += "  \("".padded(18)) default \(p.defaultValue.canonical)"
                + p.kindDefaults.keys.sorted().map { " (\($0): \(p.kindDefaults[$0]!.canonical))" }.joined()
            if let k = p.kinds { out += "; kinds: \(k.joined(separator: ", "))" }
            out += "\n  \("".padded(18)) \(p.doc)\n"
        }
        return out
    }
}

extension String {
    func replacingPipes() -> String { String(flatMap { $0 == "|" ? Array("\\|") : [$0] }) }
    func padded(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
