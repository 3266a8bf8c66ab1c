import TDXCore

// A checked parameter value. Values are what the resolved spec, the planner and the stages see.

public indirect enum Value: Sendable, Hashable {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    /// An enum value or a reference to a named block / variable.
    case symbol(String)
    case list([Value])
    case range(from: Int, to: Int, by: Int)
    case call(String, [Value])

    public var intValue: Int? { if case .int(let v) = self { return v }; return nil }
    public var doubleValue: Double? {
        switch self { case .float(let v): v; case .int(let v): Double(v); default: nil }
    }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }
    public var symbolValue: String? { if case .symbol(let v) = self { return v }; return nil }
    public var listValue: [Value]? { if case .list(let v) = self { return v }; return nil }

    /// A range or list of integers as an array.
    public var intList: [Int]? {
        switch self {
        case .range(let a, let b, let s): return s > 0 ? Array(stride(from: a, through: b, by: s)) : nil
        case .list(let xs): return xs.compactMap(\.intValue).count == xs.count ? xs.compactMap(\.intValue) : nil
        case .int(let v): return [v]
        default: return nil
        }
    }

    /// The name of a call (`common` in `common(0.7)`) or a bare symbol.
    public var head: String? {
        switch self { case .symbol(let s): s; case .call(let n, _): n; default: nil }
    }
    public var arguments: [Value] { if case .call(_, let a) = self { return a }; return [] }
}

extension Value {
    /// The canonical text of a value: exact (floats round-trip), locale-free, one spelling per value.
    public var canonical: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return Value.canonicalFloat(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let s): return Value.quote(s)
        case .symbol(let s): return s
        case .list(let xs): return "[" + xs.map(\.canonical).joined(separator: ", ") + "]"
        case .range(let a, let b, let s): return s == 1 ? "\(a)..\(b)" : "\(a)..\(b) by \(s)"
        case .call(let n, let args): return n + "(" + args.map(\.canonical).joined(separator: ", ") + ")"
        }
    }

    /// Shortest text that parses back to the same Double, always recognisable as a float.
    public static func canonicalFloat(_ v: Double) -> String {
        var s = "\(v)"  // Swift prints the shortest round-trip representation
        if let e = s.firstIndex(of: "e") {
            // 1e-05 -> 1e-5
            var mant = String(s[..<e])
            var exp = String(s[s.index(after: e)...])
            let neg = exp.hasPrefix("-")
            exp = String(exp.drop { $0 == "-" || $0 == "+" })
            exp = String(exp.drop { $0 == "0" })
            if mant.hasSuffix(".0") { mant.removeLast(2) }
            s = mant + "e" + (neg ? "-" : "") + (exp.isEmpty ? "0" : exp)
        }
        return s
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    /// JSON rendering for `--json` outputs and parameter encodings.
    public var json: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return v.isFinite ? Value.canonicalFloat(v) : "null"
        case .bool(let v): return v ? "true" : "false"
        case .string(let s), .symbol(let s): return JSONText.string(s)
        case .list(let xs): return "[" + xs.map(\.json).joined(separator: ",") + "]"
        case .range: return "[" + (intList ?? []).map(String.init).joined(separator: ",") + "]"
        case .call(let n, let args):
            return "{\"call\":\(JSONText.string(n)),\"args\":[" + args.map(\.json).joined(separator: ",") + "]}"
        }
    }
}
