import TDXCore
// The one place diagnostics become text: `path:line:col: error: message`, the source line, a caret
// under the span, and a help line. Colour only when asked (the CLI asks on a TTY).

public struct DiagnosticRenderer {
    public var sources: SourceManager
    public var color: Bool

    public init(sources: SourceManager, color: Bool = false) { self.sources = sources; self.color = color }

    private func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    public func render(_ d: Diagnostic) -> String {
        var out = ""
        let sev = d.severity.rawValue
        let sevText = paint(sev, d.severity == .error ? "1;31" : d.severity == .warning ? "1;33" : "1;36")
        guard let file = sources[d.range.file] else {
            return "\(sevText): \(paint(d.message, "1"))\n" + (d.help.map { "  = help: \($0)\n" } ?? "")
        }
        let loc = file.location(of: d.range.start)
        if file.text.isEmpty {
            // No text to point into (a file that could not be read, or an empty one): the path alone.
            out += "\(paint("\(file.path):", "1")) \(sevText): \(paint(d.message, "1"))\n"
        } else {
            out += "\(paint("\(file.path):\(loc.line):\(loc.column):", "1")) \(sevText): \(paint(d.message, "1"))\n"
            out += snippet(file, d.range, underline: "^")
        }
        for (label, r) in d.related {
            if let f = sources[r.file] {
                let l = f.location(of: r.start)
                out += "  \(paint("note:", "1;36")) \(label) at \(f.path):\(l.line):\(l.column)\n"
            }
        }
        if let h = d.help { out += "  \(paint("= help:", "1;36")) \(h)\n" }
        return out
    }

    private func snippet(_ file: SourceFile, _ range: SourceRange, underline: String) -> String {
        let start = file.location(of: range.start)
        let lineText = file.line(start.line).replacingTabs()
        let endLoc = file.location(of: range.end)
        let width = endLoc.line == start.line ? max(1, endLoc.column - start.column) : max(1, lineText.unicodeScalars.count - start.column + 1)
        let gutter = String(start.line)
        let pad = String(repeating: " ", count: gutter.count)
        var out = "\(pad) \(paint("|", "1;34"))\n"
        out += "\(paint(gutter, "1;34")) \(paint("|", "1;34")) \(lineText)\n"
        let caretLine = String(repeating: " ", count: max(0, start.column - 1)) + String(repeating: underline, count: width)
        out += "\(pad) \(paint("|", "1;34")) \(paint(caretLine, "1;31"))\n"
        return out
    }

    public func render(_ ds: [Diagnostic]) -> String {
        var out = ds.map(render).joined(separator: "\n")
        let errors = ds.filter { $0.severity == .error }.count
        if errors > 0 { out += "\n\(errors) error\(errors == 1 ? "" : "s")\n" }
        return out
    }

    /// Machine-readable form: one object per diagnostic with 1-based positions.
    public func json(_ ds: [Diagnostic]) -> String {
        let items = ds.map { d -> String in
            var fields: [String] = []
            if let f = sources[d.range.file] {
                let s = f.location(of: d.range.start), e = f.location(of: d.range.end)
                fields += ["\"file\":\(JSONText.string(f.path))", "\"line\":\(s.line)", "\"column\":\(s.column)",
                           "\"end_line\":\(e.line)", "\"end_column\":\(e.column)"]
            }
            fields += ["\"severity\":\"\(d.severity.rawValue)\"", "\"code\":\"\(d.code)\"",
                       "\"message\":\(JSONText.string(d.message))"]
            if let h = d.help { fields.append("\"help\":\(JSONText.string(h))") }
            return "{" + fields.joined(separator: ",") + "}"
        }
        let errors = ds.filter { $0.severity == .error }.count
        return "{\"diagnostics\":[" + items.joined(separator: ",") + "],\"errors\":\(errors)}"
    }
}

extension String {
    /// Tabs would misalign the caret; show them as single spaces (columns count them as one).
    func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}
