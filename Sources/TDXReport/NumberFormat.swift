import Foundation

/// How a number is shown in a Markdown table. CSV output ignores this and writes the exact value.
public enum NumberStyle: Sendable, Equatable {
    /// Fixed decimals, switching to scientific when the value would print as zero or is huge
    /// (p-values, tiny losses). The default.
    case auto(decimals: Int)
    /// Always fixed decimals.
    case fixed(decimals: Int)
    /// Always scientific with this many significant digits.
    case scientific(digits: Int)
    /// Multiplied by 100 with a `%` sign.
    case percent(decimals: Int)
}

/// Locale-independent number formatting for reports (always `.` as the decimal mark).
public enum NumberFormat {
    /// Shown for NaN in human-readable output.
    public static let missing = "—"

    public static func format(_ x: Double, _ style: NumberStyle = .auto(decimals: 3)) -> String {
        if x.isNaN { return missing }
        if x.isInfinite { return x > 0 ? "∞" : "−∞" }
        switch style {
        case .fixed(let d): return fixed(x, decimals: d)
        case .scientific(let s): return scientific(x, digits: s)
        case .percent(let d): return fixed(x * 100, decimals: d) + " %"
        case .auto(let d):
            let a = abs(x)
            if x != 0 && (a < 0.5 * pow(10, -Double(max(d, 0))) || a >= 1e7) { return scientific(x, digits: 2) }
            return fixed(x, decimals: d)
        }
    }

    /// `x` with exactly `decimals` decimals; never prints `-0.00`.
    public static func fixed(_ x: Double, decimals: Int) -> String {
        if !x.isFinite { return format(x) }
        let s = String(format: "%.\(max(0, min(decimals, 17)))f", x)
        return isNegativeZero(s) ? String(s.dropFirst()) : s
    }

    /// `x` as `d.dde-NN` with `digits` significant digits.
    public static func scientific(_ x: Double, digits: Int) -> String {
        if !x.isFinite { return format(x) }
        return String(format: "%.\(max(0, min(digits - 1, 16)))e", x)
    }

    /// Machine-readable text for CSV: 15 significant digits (every decimal a Double carries exactly,
    /// without binary noise such as `0.12000000000000001`); NaN and infinities as `NaN`, `inf`, `-inf`,
    /// which spreadsheet and pandas readers accept.
    public static func exact(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == 0 { return "0" }
        return String(format: "%.15g", x)
    }

    private static func isNegativeZero(_ s: String) -> Bool {
        s.hasPrefix("-") && s.dropFirst().allSatisfy { $0 == "0" || $0 == "." }
    }
}
