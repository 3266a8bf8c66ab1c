/// A text template with `{name}` placeholders, e.g. `"You receive {reward} points.\n"`.
/// `{{` and `}}` write literal braces. Unknown placeholders are left for `validate` to report.
public struct Template: Codable, Sendable, Hashable, ExpressibleByStringLiteral {
    public let source: String
    /// `source` parsed once, so rendering does not rescan it.
    private let pieces: [Piece]

    public init(_ source: String) { self.source = source; pieces = Self.parse(source) }
    public init(stringLiteral value: String) { self.init(value) }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public static func == (a: Template, b: Template) -> Bool { a.source == b.source }
    public func hash(into h: inout Hasher) { h.combine(source) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(source)
    }

    private enum Piece: Sendable { case literal(String), field(String) }

    private static func parse(_ source: String) -> [Piece] {
        var out: [Piece] = []
        var literal = ""
        var i = source.startIndex
        while i < source.endIndex {
            let c = source[i]
            let next = source.index(after: i)
            if c == "{", next < source.endIndex, source[next] == "{" {
                literal.append("{"); i = source.index(after: next); continue
            }
            if c == "}", next < source.endIndex, source[next] == "}" {
                literal.append("}"); i = source.index(after: next); continue
            }
            if c == "{", let close = source[next...].firstIndex(of: "}") {
                if !literal.isEmpty { out.append(.literal(literal)); literal = "" }
                out.append(.field(String(source[next..<close])))
                i = source.index(after: close); continue
            }
            literal.append(c); i = next
        }
        if !literal.isEmpty { out.append(.literal(literal)) }
        return out
    }

    /// Placeholder names used, in order.
    public var fields: [String] {
        pieces.compactMap { if case .field(let f) = $0 { return f } else { return nil } }
    }

    /// Problems when the template uses names outside `allowed`, or lacks one of `required` (the placeholders
    /// whose spans events are aligned to), for `validate()`.
    public func problems(allowed: Set<String>, required: Set<String> = [], name: String) -> [String] {
        let used = fields
        let unknown = used.filter { !allowed.contains($0) }.map {
            "\(name): unknown placeholder {\($0)}; allowed: \(allowed.sorted().map { "{\($0)}" }.joined(separator: ", "))"
        }
        let missing = required.subtracting(used).sorted().map {
            "\(name) must contain {\($0)} (its event is aligned there)"
        }
        return unknown + missing
    }

    /// Renders into a transcript. Fields listed in `events` become event spans (their value's text);
    /// the others are plain text. Unknown fields render as empty text.
    public func render(into t: inout Transcript, values: [String: String],
                       events: [String: (EventKind, Int?, Double?)] = [:], episode: Int, step: Int) {
        for p in pieces {
            switch p {
            case .literal(let s): t.append(s)
            case .field(let f):
                let v = values[f] ?? ""
                if let (kind, state, value) = events[f] {
                    t.appendEvent(v, kind: kind, episode: episode, step: step, state: state, value: value)
                } else {
                    t.append(v)
                }
            }
        }
    }

    /// Plain rendering (no events).
    public func render(_ values: [String: String]) -> String {
        var t = Transcript()
        render(into: &t, values: values, episode: 0, step: 0)
        return t.text
    }
}
