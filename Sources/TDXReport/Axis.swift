import Foundation

/// A numeric axis: its range and round tick values (steps of 1, 2 or 5 × 10ᵏ).
struct Axis: Equatable {
    var lo: Double
    var hi: Double
    var step: Double
    var ticks: [Double]

    /// An axis covering `values` (non-finite ones ignored), widened to the nearest ticks.
    /// Degenerate data (none, one value, all equal) still gives a sensible non-empty range.
    static func covering(_ values: [Double], targetTicks: Int = 6, includeZero: Bool = false) -> Axis {
        var finite = values.filter(\.isFinite)
        if includeZero { finite.append(0) }
        guard var lo = finite.min(), var hi = finite.max() else { return covering([0, 1], targetTicks: targetTicks) }
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.5
            lo -= pad; hi += pad
            if includeZero && values.allSatisfy({ !$0.isFinite || $0 == 0 }) { lo = 0 }
        }
        let step = niceStep((hi - lo) / Double(max(targetTicks - 1, 1)))
        let niceLo = (lo / step).rounded(.down) * step
        let niceHi = (hi / step).rounded(.up) * step
        return Axis(lo: niceLo, hi: niceHi, step: step, ticks: tickValues(niceLo, niceHi, step))
    }

    /// A fixed range with round ticks inside it (used for fixed y ranges and equal-aspect panels).
    static func fixed(_ lo: Double, _ hi: Double, targetTicks: Int = 6, step: Double? = nil) -> Axis {
        guard lo.isFinite, hi.isFinite, hi > lo else { return covering([lo, hi], targetTicks: targetTicks) }
        let step = step ?? niceStep((hi - lo) / Double(max(targetTicks - 1, 1)))
        let first = (lo / step - 1e-9).rounded(.up) * step
        return Axis(lo: lo, hi: hi, step: step, ticks: tickValues(first, hi, step))
    }

    /// The 1, 2 or 5 × 10ᵏ nearest to `raw` on a log scale, so tick counts stay close to the target.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let e = (log10(raw)).rounded(.down)
        let base = pow(10, e)
        let f = raw / base
        let m: Double = f < 1.4142 ? 1 : f < 3.1623 ? 2 : f < 7.0711 ? 5 : 10
        return m * base
    }

    private static func tickValues(_ first: Double, _ last: Double, _ step: Double) -> [Double] {
        var out: [Double] = []
        var i = 0.0
        while true {
            // Multiply rather than accumulate so ticks do not drift (0.30000000000000004).
            var t = first + i * step
            if t > last + step * 1e-6 || out.count > 1000 { break }
            t = (t / step).rounded() * step
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            i += 1
        }
        return out
    }

    /// Tick text with just enough decimals for the step; scientific for very small or large steps.
    func label(_ v: Double) -> String {
        if step < 1e-4 || step >= 1e7 { return NumberFormat.scientific(v, digits: 2) }
        let decimals = max(0, Int((-log10(step) - 1e-9).rounded(.up)))
        return NumberFormat.fixed(v, decimals: decimals)
    }

    /// Maps a value to a pixel coordinate between `a` (at `lo`) and `b` (at `hi`).
    func map(_ v: Double, _ a: Double, _ b: Double) -> Double {
        a + (v - lo) / (hi - lo) * (b - a)
    }
}
