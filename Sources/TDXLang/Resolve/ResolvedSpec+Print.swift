// The canonical text of a resolved spec: `tdx check --resolved` prints it and `tdx hash` digests it.
// One spelling per meaning (canonical names, canonical numbers, schema order), so formatting and
// comments never change the digest and every semantic change does.

import TDXCore

extension ResolvedSpec {
    public var canonicalText: String {
        var out = "tdx \(version)\n"
        for s in settings { out += ResolvedSpec.line(s, indent: "") }
        for b in blocks {
            out += "\n"
            let header = b.name == b.kind ? b.kind : "\(b.kind) \(b.name)"
            out += "\(header) {\n"
            for p in b.params { out += ResolvedSpec.line(p, indent: "  ") }
            out += "}\n"
        }
        return out
    }

    /// SHA-256 of the canonical text: the spec's digest.
    public var digest: String { SHA256.hex(canonicalText) }

    static func line(_ p: ResolvedParam, indent: String) -> String {
        if let sweep = p.sweep {
            return "\(indent)\(p.name) in [" + sweep.map { ResolvedSpec.render($0, indent: indent) }.joined(separator: ", ") + "]\n"
        }
        return "\(indent)\(p.name) = \(render(p.value, indent: indent))\n"
    }

    static func render(_ v: Value, indent: String) -> String {
        // Long multi-line texts (prompts) read best as `"""` blocks; short ones stay on one line.
        if case .string(let s) = v, s.count >= 60, s.filter({ $0 == "\n" }).count >= 2,
           let t = tripleQuoted(s, indent: indent + "  ") { return t }
        return v.canonical
    }

    /// Multi-line strings print as `"""` blocks when that form reads back to exactly the same text.
    static func tripleQuoted(_ s: String, indent: String) -> String? {
        guard s.contains("\n"), !s.contains("\"\"\""), !s.contains("\r") else { return nil }
        let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
        for l in lines where !l.isEmpty && l.allSatisfy({ $0 == " " || $0 == "\t" }) { return nil }
        var out = "\"\"\"\n"
        for l in lines { out += l.isEmpty ? "\n" : indent + l + "\n" }
        return out + indent + "\"\"\""
    }
}
