import TDXCore
import TDXLang

/// The canonical, versioned encoding a stage key is the SHA-256 of. Text, one fact per line, sorted:
/// exact floats (shortest round-trip form), no locale, no rounding.
public enum StageKey {
    public static let encodingVersion = 1

    public static func encoding(_ s: Stage, inputKeys: [String: String]) -> String {
        var out = "tdx-stage-key \(encodingVersion)\nkind \(s.kind.rawValue)\ncode \(s.codeVersion)\n"
        if let l = s.layer { out += "layer \(l)\n" }
        if let n = s.name { out += "name \(n)\n" }
        for k in s.params.keys.sorted() { out += "param \(k) = \(s.params[k]!.canonical)\n" }
        // Inputs by key only: renaming a stage id never changes what a result means.
        for k in s.inputs.map({ inputKeys[$0] ?? "?" }).sorted() { out += "input \(k)\n" }
        return out
    }

    public static func key(_ s: Stage, inputKeys: [String: String]) -> String {
        SHA256.hex(encoding(s, inputKeys: inputKeys))
    }
}
