import TDXNumerics

/// The strongest correlate of one variable among many features (latents or raw dimensions).
public struct MaxCorrelation: Sendable, Equatable, Codable {
    /// Feature index with the largest score (|r| unless a sign is chosen).
    public var index: Int
    /// Its signed r.
    public var r: Float
    public var absR: Float { abs(r) }
}

/// A feature picked on training experiments and its correlation on held-out experiments.
public struct HeldOutSelection: Sendable, Equatable, Codable {
    public var index: Int
    public var trainR: Float
    public var testR: Float
}

/// Pearson / Spearman correlation of every feature with every variable as one matrix product (SCIENCE.md §6.1).
public enum Correlation {
    /// r[f, v] for features × variables (row-major), from standardised columns over the same samples.
    public static func matrix(_ features: StandardisedColumns, _ variables: StandardisedColumns) -> Tensor {
        precondition(features.rows == variables.rows, "features and variables need the same samples")
        let (l, p, n) = (features.cols, variables.cols, features.rows)
        var r = [Float](repeating: 0, count: l * p)
        features.data.withUnsafeBufferPointer { z in variables.data.withUnsafeBufferPointer { v in r.withUnsafeMutableBufferPointer { c in
            BLAS.sgemm(.transpose, .none, m: l, n: p, k: n, a: z.baseAddress!, lda: l, b: v.baseAddress!, ldb: p,
                       c: c.baseAddress!, ldc: p)
        } } }
        // Rounding can push |r| a hair past 1.
        for i in r.indices { r[i] = min(1, max(-1, r[i])) }
        return Tensor(shape: [l, p], data: r)
    }

    /// r[f, v] for sparse features with standardised variables over the same samples.
    public static func matrix(_ features: SparseFeatures, _ variables: StandardisedColumns) -> Tensor {
        precondition(features.rows == variables.rows, "features and variables need the same samples")
        let (l, p) = (features.cols, variables.cols)
        var r = [Float](repeating: 0, count: l * p)
        variables.data.withUnsafeBufferPointer { v in r.withUnsafeMutableBufferPointer { features.correlate(v.baseAddress!, m: p, out: $0.baseAddress!) } }
        return Tensor(shape: [l, p], data: r)
    }

    /// r of features (samples × featureCount) with variables (samples × variableCount), optionally on a row subset.
    public static func matrix(features: [Float], variables: [Float], samples n: Int, featureCount l: Int, variableCount p: Int,
                              rows: [Int]? = nil, method: CorrelationMethod = .pearson) -> Tensor {
        matrix(StandardisedColumns(features, rows: n, cols: l, selecting: rows, method: method),
               StandardisedColumns(variables, rows: n, cols: p, selecting: rows, method: method))
    }

    /// For each variable (column of r), the feature with the largest `sign.score(r)` (first one on ties).
    public static func strongest(_ r: Tensor, sign: CorrelationSign = .absolute) -> [MaxCorrelation] {
        let (l, p) = (r.shape[0], r.shape[1])
        return (0..<p).map { j in
            var best = MaxCorrelation(index: 0, r: l > 0 ? r.data[j] : 0)
            for f in 1..<max(l, 1) where sign.score(r.data[f * p + j]) > sign.score(best.r) {
                best = MaxCorrelation(index: f, r: r.data[f * p + j])
            }
            return best
        }
    }

    /// Picks each variable's strongest feature on `trainRows` and reports that feature's r on `testRows`.
    public static func heldOut(features: [Float], variables: [Float], samples n: Int, featureCount l: Int, variableCount p: Int,
                               trainRows: [Int], testRows: [Int], method: CorrelationMethod = .pearson,
                               sign: CorrelationSign = .absolute) -> [HeldOutSelection] {
        let train = strongest(matrix(features: features, variables: variables, samples: n, featureCount: l, variableCount: p,
                                     rows: trainRows, method: method), sign: sign)
        // Only the chosen features are needed on the test rows.
        let chosen = train.map(\.index)
        var sub = [Float](repeating: 0, count: n * chosen.count)
        for r in 0..<n { for (k, f) in chosen.enumerated() { sub[r * chosen.count + k] = features[r * l + f] } }
        let test = matrix(features: sub, variables: variables, samples: n, featureCount: chosen.count, variableCount: p,
                          rows: testRows, method: method)
        return (0..<p).map { j in HeldOutSelection(index: chosen[j], trainR: train[j].r, testR: test[j, j]) }
    }
}
