import Foundation
import TDXCore

/// Metric multidimensional scaling by SMACOF on a precomputed dissimilarity matrix, as scikit-learn's
/// `MDS(metric=True, dissimilarity="precomputed")` / `smacof` do: random uniform [0, 1) starts, Guttman
/// transform X ← B(X)·X / n, raw stress Σ_{i<j} (d_ij − δ_ij)², stop when the stress drop divided by
/// Σ_{i<j} d_ij² is below `eps`; the start with the lowest final stress wins.
public struct MDSResult: Sendable, Equatable {
    /// n × components, row-major.
    public var coordinates: [Double]
    public var components: Int
    /// Raw stress Σ_{i<j} (d_ij − δ_ij)².
    public var stress: Double
    /// Kruskal's Stress-1: √(raw stress / Σ_{i<j} d_ij²).
    public var normalisedStress: Double
    public var iterations: Int
}

public enum MDS {
    /// Best of `starts` random starts. `dissimilarity` is n × n, symmetric, row-major.
    public static func smacof(_ dissimilarity: [Double], n: Int, components: Int = 2, starts: Int = 4, maxIterations: Int = 300,
                              eps: Double = 1e-6, rng: inout SeededRNG) -> MDSResult {
        precondition(dissimilarity.count == n * n && starts >= 1)
        var best: MDSResult?
        for _ in 0..<starts {
            let initial = (0..<(n * components)).map { _ in rng.uniform() }
            let r = smacof(dissimilarity, n: n, initial: initial, components: components, maxIterations: maxIterations, eps: eps)
            if best == nil || r.stress < best!.stress { best = r }
        }
        return best!
    }

    /// One SMACOF run from the given start (n × components, row-major).
    public static func smacof(_ delta: [Double], n: Int, initial: [Double], components k: Int, maxIterations: Int = 300,
                              eps: Double = 1e-6) -> MDSResult {
        var x = initial
        var dist = distances(x, n: n, k: k)
        var oldStress: Double?
        var stress = 0.0
        var it = 0
        var b = [Double](repeating: 0, count: n * n)
        while it < maxIterations {
            // B(X): b_ij = −δ_ij / d_ij (i ≠ j), b_ii = Σ_j δ_ij / d_ij; zero distances count as 1e-5.
            for i in 0..<n {
                var rowSum = 0.0
                for j in 0..<n {
                    let d = dist[i * n + j] == 0 ? 1e-5 : dist[i * n + j]
                    let ratio = delta[i * n + j] / d
                    b[i * n + j] = -ratio
                    rowSum += ratio
                }
                b[i * n + i] += rowSum
            }
            var next = [Double](repeating: 0, count: n * k)
            for i in 0..<n { for j in 0..<n {
                let bij = b[i * n + j]
                if bij != 0 { for c in 0..<k { next[i * k + c] += bij * x[j * k + c] } }
            } }
            for i in next.indices { next[i] /= Double(n) }
            x = next
            dist = distances(x, n: n, k: k)
            stress = 0
            var sumSq = 0.0
            for i in 0..<(n * n) { let e = dist[i] - delta[i]; stress += e * e; sumSq += dist[i] * dist[i] }
            stress /= 2
            it += 1
            if let old = oldStress, (old - stress) / (sumSq / 2) < eps { break }
            oldStress = stress
        }
        let sumSq = dist.reduce(0) { $0 + $1 * $1 } / 2
        return MDSResult(coordinates: x, components: k, stress: stress,
                         normalisedStress: sumSq > 0 ? (stress / sumSq).squareRoot() : 0, iterations: it)
    }

    /// Euclidean distances between the rows of an n × k matrix.
    public static func distances(_ x: [Double], n: Int, k: Int) -> [Double] {
        var d = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) {
            var s = 0.0
            for c in 0..<k { let t = x[i * k + c] - x[j * k + c]; s += t * t }
            d[i * n + j] = s.squareRoot(); d[j * n + i] = d[i * n + j]
        } }
        return d
    }
}
