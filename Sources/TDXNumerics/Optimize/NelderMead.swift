import TDXCore

/// Derivative-free minimisation in a box: Nelder–Mead (standard coefficients 1, 2, ½, ½) with every trial point
/// projected onto [lower, upper], plus seeded random restarts. Used for maximum-likelihood fits of small RL
/// models, whose likelihoods have no cheap gradients and whose optima often sit on a bound (γ = 0, α = 1).
public enum NelderMead {
    public struct Options: Sendable {
        /// Stop when this many function values have been computed (per start).
        public var maxEvaluations = 1000
        /// Stop when the simplex's values differ by less than this (absolute) …
        public var fTolerance = 1e-7
        /// … and its vertices by less than this fraction of each coordinate's range.
        public var xTolerance = 1e-6
        /// Initial simplex edge as a fraction of each coordinate's range.
        public var initialStep = 0.15
        public init() {}
    }

    public struct Result: Sendable {
        public var x: [Double]
        public var value: Double
        public var evaluations: Int
        public var converged: Bool
    }

    /// One Nelder–Mead run from `start`. Non-finite function values count as +∞.
    public static func minimize(_ f: ([Double]) -> Double, start: [Double], lower: [Double], upper: [Double],
                                options: Options = Options()) -> Result {
        let n = start.count
        precondition(lower.count == n && upper.count == n && n > 0)
        let range = (0..<n).map { upper[$0] - lower[$0] }
        func clamp(_ x: [Double]) -> [Double] { (0..<n).map { min(max(x[$0], lower[$0]), upper[$0]) } }
        var evaluations = 0
        func eval(_ x: [Double]) -> Double {
            evaluations += 1
            let v = f(x)
            return v.isFinite ? v : .infinity
        }
        var simplex = [clamp(start)]
        for i in 0..<n {
            var v = simplex[0]
            let step = options.initialStep * range[i]
            // Step inwards when the start sits at the upper bound, so the simplex is not degenerate.
            v[i] = v[i] + step <= upper[i] ? v[i] + step : v[i] - step
            simplex.append(clamp(v))
        }
        var values = simplex.map(eval)
        var converged = false
        while evaluations < options.maxEvaluations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let fSpread = values[n] - values[0]
            let xSpread = (0..<n).map { i in
                simplex.map { abs($0[i] - simplex[0][i]) }.max()! / max(range[i], 1e-300)
            }.max()!
            if fSpread <= options.fTolerance && xSpread <= options.xTolerance { converged = true; break }
            if xSpread <= options.xTolerance * 1e-3 { converged = true; break }   // collapsed onto a bound
            var centroid = Array(repeating: 0.0, count: n)
            for v in simplex.dropLast() { for i in 0..<n { centroid[i] += v[i] / Double(n) } }
            func along(_ t: Double) -> [Double] { clamp((0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) }) }
            let reflected = along(-1), fr = eval(reflected)
            if fr < values[0] {
                let expanded = along(-2), fe = eval(expanded)
                if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
            } else if fr < values[n - 1] {
                simplex[n] = reflected; values[n] = fr
            } else {
                let outside = fr < values[n]
                let contracted = along(outside ? -0.5 : 0.5), fc = eval(contracted)
                if fc < (outside ? fr : values[n]) {
                    simplex[n] = contracted; values[n] = fc
                } else {
                    for j in 1...n {
                        simplex[j] = clamp((0..<n).map { simplex[0][$0] + 0.5 * (simplex[j][$0] - simplex[0][$0]) })
                        values[j] = eval(simplex[j])
                    }
                }
            }
        }
        let best = values.indices.min { values[$0] < values[$1] }!
        return Result(x: simplex[best], value: values[best], evaluations: evaluations, converged: converged)
    }

    /// Best of `restarts` runs: the first from `start` (or the box centre), the rest from uniformly random points
    /// drawn from `rng`; the best run is then restarted once from its own optimum (a fresh simplex escapes the
    /// occasional premature collapse).
    public static func minimize(_ f: ([Double]) -> Double, lower: [Double], upper: [Double], start: [Double]? = nil,
                                restarts: Int, rng: inout SeededRNG, options: Options = Options()) -> Result {
        let n = lower.count
        var best: Result?
        var total = 0
        for r in 0..<max(restarts, 1) {
            var x0 = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let u: Double = r == 0 ? 0.5 : rng.uniform()
                x0[i] = lower[i] + (upper[i] - lower[i]) * u
            }
            if r == 0, let start { x0 = start }
            let res = minimize(f, start: x0, lower: lower, upper: upper, options: options)
            total += res.evaluations
            if best == nil || res.value < best!.value { best = res }
        }
        var polished = minimize(f, start: best!.x, lower: lower, upper: upper, options: options)
        total += polished.evaluations
        if polished.value > best!.value { polished = best! }
        polished.evaluations = total
        return polished
    }
}
