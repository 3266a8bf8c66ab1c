// The types a parameter can have, with bounds. Checking and help text both read from here.

public struct Bounds: Sendable, Equatable {
    public var min: Double?
    public var minOpen = false
    public var max: Double?
    public var maxOpen = false

    public static let any = Bounds()
    public static func atLeast(_ v: Double) -> Bounds { Bounds(min: v) }
    public static func above(_ v: Double) -> Bounds { Bounds(min: v, minOpen: true) }
    public static func closed(_ a: Double, _ b: Double) -> Bounds { Bounds(min: a, max: b) }
    public static func open(_ a: Double, _ b: Double) -> Bounds { Bounds(min: a, minOpen: true, max: b, maxOpen: true) }

    public func contains(_ v: Double) -> Bool {
        if let lo = min, minOpen ? !(v > lo) : !(v >= lo) { return false }
        if let hi = max, maxOpen ? !(v < hi) : !(v <= hi) { return false }
        return true
    }

    private func fmt(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : Value.canonicalFloat(v) }

    public var description: String {
        switch (min, max) {
        case (nil, nil): return "any"
        case (let lo?, nil): return minOpen ? "> \(fmt(lo))" : "≥ \(fmt(lo))"
        case (nil, let hi?): return maxOpen ? "< \(fmt(hi))" : "≤ \(fmt(hi))"
        case (let lo?, let hi?): return "in \(minOpen ? "(" : "[")\(fmt(lo)), \(fmt(hi))\(maxOpen ? ")" : "]")"
        }
    }
}

/// One alternative of a choice: a bare symbol (`deterministic`) or a call (`common(0.7)`).
/// Trailing arguments with a default may be left out. The resolved value drops trailing arguments equal
/// to their defaults (`top(td_error, 1)` is `top(td_error)`), so adding an optional argument never changes
/// an existing spec's resolved form or stage keys, and the two spellings hash alike.
public struct Variant: Sendable {
    public var name: String
    public var arguments: [(name: String, type: ParamType)]
    /// Defaults of the last `defaults.count` arguments.
    public var defaults: [Value]
    public var doc: String
    public init(_ name: String, _ arguments: [(name: String, type: ParamType)] = [], defaults: [Value] = [], doc: String = "") {
        precondition(defaults.count <= arguments.count)
        self.name = name; self.arguments = arguments; self.defaults = defaults; self.doc = doc
    }
    /// How many arguments must be written.
    public var required: Int { arguments.count - defaults.count }
    public var signature: String {
        guard !arguments.isEmpty else { return name }
        let names = arguments.enumerated().map { $0.offset < required ? $0.element.name : "[\($0.element.name)]" }
        return name + "(" + names.joined(separator: ", ") + ")"
    }
}

public indirect enum ParamType: Sendable {
    case int(Bounds)
    case float(Bounds)
    case bool
    case string
    case choice([Variant])
    case list(ParamType)
    /// `all`, one block index, a range (`0..29 by 2`) or a list of indices.
    case layers
    /// A variable an RL model produces (`td_error`), see `Schema.variables`.
    case variable
    /// The name of a block of the given kind, or "" for "the default one".
    case blockRef(String)
    /// The first alternative that accepts the value.
    case either([ParamType])

    public var description: String {
        switch self {
        case .int(let b): return b == .any ? "integer" : "integer \(b.description)"
        case .float(let b): return b == .any ? "number" : "number \(b.description)"
        case .bool: return "true | false"
        case .string: return "string"
        case .choice(let vs): return vs.map(\.signature).joined(separator: " | ")
        case .list(let t): return "list of \(t.description)"
        case .layers: return "all | block | range | list of blocks"
        case .variable: return "variable"
        case .blockRef(let k): return "\(k) block name"
        case .either(let ts): return ts.map(\.description).joined(separator: " | ")
        }
    }

    /// A short name for "expected …" messages.
    public var noun: String {
        switch self {
        case .int: return "an integer"
        case .float: return "a number"
        case .bool: return "`true` or `false`"
        case .string: return "a string"
        case .choice(let vs): return "one of " + vs.map { "`\($0.signature)`" }.joined(separator: ", ")
        case .list(let t): return "a list of \(t.description)s"
        case .layers: return "`all`, a block number, a range like `0..29` or a list of blocks"
        case .variable: return "a variable name"
        case .blockRef(let k): return "the name of a `\(k)` block"
        case .either(let ts): return ts.map(\.noun).joined(separator: " or ")
        }
    }
}
