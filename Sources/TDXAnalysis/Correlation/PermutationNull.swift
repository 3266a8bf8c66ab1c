import TDXCore
import TDXNumerics

/// Null distribution of the max over features of |r| (or of r, or −r: `CorrelationSign`), from shuffling each
/// variable within experiments (SCIENCE.md §6.1).
public struct PermutationNull: Sendable, Equatable {
    /// maxScore[v][k]: max over features of the score of r with variable v under permutation k.
    public var maxScore: [[Float]]

    /// The q-th percentile (0…100) of each variable's null, with NumPy's default linear interpolation.
    public func percentile(_ q: Double) -> [Float] { maxScore.map { TDXAnalysis.percentile($0, q) } }

    /// The 95th percentile band per variable.
    public var percentile95: [Float] { percentile(95) }

    /// Runs `permutations` shuffles. `experimentIDs` labels the standardised rows (same order). Permutations are
    /// evaluated `chunk` at a time as one matrix product each; standardisation survives a permutation.
    public static func compute(features: StandardisedColumns, variables: StandardisedColumns, experimentIDs: [Int],
                               permutations: Int, rng: inout SeededRNG, chunk: Int = 128,
                               sign: CorrelationSign = .absolute) -> PermutationNull {
        precondition(features.rows == variables.rows)
        let (n, l) = (features.rows, features.cols)
        var prod = [Float](repeating: 0, count: min(chunk, permutations) * variables.cols * l)
        return run(variables: variables, experimentIDs: experimentIDs, permutations: permutations, chunk: chunk, rng: &rng) { vp, m, emit in
            // prod[col, f] = Σ_i vp[i, col] z[i, f]; each row's max score is one null draw.
            features.data.withUnsafeBufferPointer { b in prod.withUnsafeMutableBufferPointer { cc in
                BLAS.sgemm(.transpose, .none, m: m, n: l, k: n, a: vp, lda: m, b: b.baseAddress!, ldb: l, c: cc.baseAddress!, ldc: l)
                for col in 0..<m { emit(col, min(1, maxScore(cc.baseAddress! + col * l, count: l, sign: sign))) }
            } }
        }
    }

    /// The same null for sparse features (e.g. SAE latents with small L0); identical draws for the same `rng`.
    public static func compute(features: SparseFeatures, variables: StandardisedColumns, experimentIDs: [Int],
                               permutations: Int, rng: inout SeededRNG, chunk: Int = 128,
                               sign: CorrelationSign = .absolute) -> PermutationNull {
        precondition(features.rows == variables.rows)
        let l = features.cols
        let mMax = min(chunk, permutations) * variables.cols
        var out = [Float](repeating: 0, count: l * mMax)
        var colMax = [Float](repeating: 0, count: mMax)
        return run(variables: variables, experimentIDs: experimentIDs, permutations: permutations, chunk: chunk, rng: &rng) { vp, m, emit in
            out.withUnsafeMutableBufferPointer { ob in
                features.correlate(vp, m: m, out: ob.baseAddress!)
                // out is l × m: fold the scores row by row into per-column maxima (a score is at least −1).
                for c in 0..<m { colMax[c] = sign == .absolute ? 0 : -1 }
                for f in 0..<l { for c in 0..<m { colMax[c] = max(colMax[c], sign.score(ob[f * m + c])) } }
            }
            for c in 0..<m { emit(c, colMax[c]) }
        }
    }

    /// Draws permutations within experiments, builds vp[i, k·p + j] = v[π_k(i), j] for a chunk of them, and hands
    /// it (rows × m) to `evaluate`, which reports each column's max score through `emit(column, value)`.
    private static func run(variables: StandardisedColumns, experimentIDs: [Int], permutations: Int, chunk: Int,
                            rng: inout SeededRNG,
                            evaluate: (UnsafePointer<Float>, Int, (Int, Float) -> Void) -> Void) -> PermutationNull {
        precondition(experimentIDs.count == variables.rows && chunk > 0)
        let (n, p) = (variables.rows, variables.cols)
        var groups: [Int: [Int]] = [:]
        for (i, e) in experimentIDs.enumerated() { groups[e, default: []].append(i) }
        let groupList = groups.keys.sorted().map { groups[$0]! }
        var result = [[Float]](repeating: [], count: p)
        var perm = [Int](repeating: 0, count: n)
        // Reused across chunks to avoid page-faulting fresh memory each time.
        var vp = [Float](repeating: 0, count: n * min(chunk, permutations) * p)
        var done = 0
        while done < permutations {
            let c = min(chunk, permutations - done)
            let m = c * p
            for k in 0..<c {
                for g in groupList {
                    var shuffled = g
                    shuffled.shuffle(using: &rng)
                    for (a, b) in zip(g, shuffled) { perm[a] = b }
                }
                for i in 0..<n {
                    let src = perm[i] * p, dst = i * m + k * p
                    for j in 0..<p { vp[dst + j] = variables.data[src + j] }
                }
            }
            vp.withUnsafeBufferPointer { evaluate($0.baseAddress!, m) { col, value in result[col % p].append(value) } }
            done += c
        }
        return PermutationNull(maxScore: result)
    }

    /// max over x of `sign.score` (−1 for no elements unless absolute, where it is 0).
    static func maxScore(_ x: UnsafePointer<Float>, count n: Int, sign: CorrelationSign) -> Float {
        var acc = SIMD8<Float>(repeating: sign == .absolute ? 0 : -1)
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let a: SIMD8<Float>
            switch sign {
            case .absolute: a = v.replacing(with: -v, where: v .< 0)
            case .positive: a = v
            case .negative: a = -v
            }
            acc.replace(with: a, where: a .> acc)
            i += 8
        }
        var m = acc.max()
        while i < n { m = max(m, sign.score(x[i])); i += 1 }
        return m
    }
}
