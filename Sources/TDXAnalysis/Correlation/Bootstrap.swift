import CBLAS
import TDXCore
import TDXNumerics

/// A point estimate with a percentile bootstrap interval.
public struct BootstrapCI: Sendable, Equatable, Codable {
    public var estimate: Double
    public var lower: Double
    public var upper: Double
}

/// Bootstrap over experiments (resampled with replacement) for correlation statistics. Each experiment is
/// reduced once to sufficient statistics (n, Σz, Σz², Σv, Σv², Σzv); a resample is then a weighted sum of
/// them, done for many resamples at once as one dgemm.
public struct ExperimentCorrelationSums {
    public let experiments: [Int]
    let l: Int, p: Int
    var n: [Double]            // E
    var sz: [Double], szz: [Double]    // E × l
    var sv: [Double], svv: [Double]    // E × p
    var szv: [Double]          // E × (l·p)

    /// Sums over the rows of each experiment, from globally standardised features and variables (so sums are
    /// well conditioned in float).
    public init(features: StandardisedColumns, variables: StandardisedColumns, experimentIDs: [Int]) {
        precondition(features.rows == variables.rows && experimentIDs.count == features.rows)
        let (l, p) = (features.cols, variables.cols)
        self.l = l; self.p = p
        var groups: [Int: [Int]] = [:]
        for (i, e) in experimentIDs.enumerated() { groups[e, default: []].append(i) }
        experiments = groups.keys.sorted()
        let e = experiments.count
        n = .init(repeating: 0, count: e)
        sz = .init(repeating: 0, count: e * l); szz = sz
        sv = .init(repeating: 0, count: e * p); svv = sv
        szv = .init(repeating: 0, count: e * l * p)
        for (k, id) in experiments.enumerated() {
            let rows = groups[id]!
            n[k] = Double(rows.count)
            var zk = [Float](repeating: 0, count: rows.count * l), vk = [Float](repeating: 0, count: rows.count * p)
            for (t, r) in rows.enumerated() {
                for f in 0..<l { let z = features.data[r * l + f]; zk[t * l + f] = z; sz[k * l + f] += Double(z); szz[k * l + f] += Double(z) * Double(z) }
                for j in 0..<p { let v = variables.data[r * p + j]; vk[t * p + j] = v; sv[k * p + j] += Double(v); svv[k * p + j] += Double(v) * Double(v) }
            }
            var prod = [Float](repeating: 0, count: l * p)
            BLAS.sgemm(.transpose, .none, m: l, n: p, k: rows.count, a: zk, b: vk, c: &prod)
            for i in 0..<(l * p) { szv[k * l * p + i] = Double(prod[i]) }
        }
    }

    /// r[f, v] for each weight vector (rows of `weights`, resamples × experiments): resamples × (l·p).
    func correlations(weights w: [Double], resamples b: Int) -> [Double] {
        let e = experiments.count
        func agg(_ s: [Double], _ width: Int) -> [Double] {
            var out = [Double](repeating: 0, count: b * width)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(b), Int32(width), Int32(e), 1, w, Int32(e),
                        s, Int32(width), 0, &out, Int32(width))
            return out
        }
        let nn = agg(n, 1), az = agg(sz, l), azz = agg(szz, l), av = agg(sv, p), avv = agg(svv, p), azv = agg(szv, l * p)
        var r = [Double](repeating: 0, count: b * l * p)
        for k in 0..<b {
            let nk = nn[k]
            for f in 0..<l {
                let vz = nk * azz[k * l + f] - az[k * l + f] * az[k * l + f]
                for j in 0..<p {
                    let vv = nk * avv[k * p + j] - av[k * p + j] * av[k * p + j]
                    let cov = nk * azv[(k * l + f) * p + j] - az[k * l + f] * av[k * p + j]
                    let den = (max(vz, 0) * max(vv, 0)).squareRoot()
                    r[(k * l + f) * p + j] = den > 1e-12 ? cov / den : 0
                }
            }
        }
        return r
    }

    /// Experiment weights (multiplicities) of `count` resamples with replacement.
    func resampleWeights(count b: Int, rng: inout SeededRNG) -> [Double] {
        let e = experiments.count
        var w = [Double](repeating: 0, count: b * e)
        for k in 0..<b { for _ in 0..<e { w[k * e + rng.int(below: e)] += 1 } }
        return w
    }
}

public enum Bootstrap {
    /// Percentile CIs for the max over features of `sign.score(r)`, per variable. `estimate` is the full-data value.
    public static func maxCorrelation(_ sums: ExperimentCorrelationSums, resamples: Int = 1000, level: Double = 0.95,
                                      sign: CorrelationSign = .absolute, rng: inout SeededRNG) -> [BootstrapCI] {
        statistic(sums, resamples: resamples, level: level, rng: &rng) { r, _, _ in sign.score(r) } reduce: { $0.max() ?? 0 }
    }

    /// Percentile CIs for the signed r of one fixed feature per variable (e.g. the held-out selection).
    public static func correlation(_ sums: ExperimentCorrelationSums, features: [Int], resamples: Int = 1000, level: Double = 0.95,
                                   rng: inout SeededRNG) -> [BootstrapCI] {
        precondition(features.count == sums.p)
        return statistic(sums, resamples: resamples, level: level, rng: &rng) { r, f, j in f == features[j] ? r : nil }
            reduce: { $0.first ?? 0 }
    }

    /// Generic driver: `pick` maps (r, feature, variable) to a value kept for that variable, `reduce` folds them.
    static func statistic(_ sums: ExperimentCorrelationSums, resamples: Int, level: Double, rng: inout SeededRNG,
                          pick: (Double, Int, Int) -> Double?, reduce: ([Double]) -> Double) -> [BootstrapCI] {
        let (l, p, e) = (sums.l, sums.p, sums.experiments.count)
        func stats(_ r: [Double], _ k: Int) -> [Double] {
            (0..<p).map { j in reduce((0..<l).compactMap { f in pick(r[(k * l + f) * p + j], f, j) }) }
        }
        let full = stats(sums.correlations(weights: .init(repeating: 1, count: e), resamples: 1), 0)
        var draws = [[Double]](repeating: [], count: p)
        var done = 0
        while done < resamples {
            let b = min(64, resamples - done)
            let r = sums.correlations(weights: sums.resampleWeights(count: b, rng: &rng), resamples: b)
            for k in 0..<b { for (j, s) in stats(r, k).enumerated() { draws[j].append(s) } }
            done += b
        }
        let alpha = (1 - level) / 2 * 100
        return (0..<p).map { j in
            BootstrapCI(estimate: full[j], lower: percentile(draws[j], alpha), upper: percentile(draws[j], 100 - alpha))
        }
    }
}
