import TDXNumerics

/// Correlation type. Spearman is Pearson on ranks (ties get their average rank).
public enum CorrelationMethod: String, Sendable, Codable, CaseIterable {
    case pearson, spearman
}

/// Columns of a samples × columns matrix centred and scaled to unit L2 norm, so that the dot product of two
/// such columns is their Pearson r. Constant columns become all zero (r = 0 with everything).
public struct StandardisedColumns: Sendable {
    public let rows: Int
    public let cols: Int
    /// rows × cols, row-major.
    public var data: [Float]

    /// Standardises `x` (samples × cols, row-major), using only `selecting` rows (in that order) when given.
    public init(_ x: [Float], rows: Int, cols: Int, selecting: [Int]? = nil, method: CorrelationMethod = .pearson) {
        precondition(x.count == rows * cols)
        let picked = selecting ?? Array(0..<rows)
        let n = picked.count
        self.rows = n
        self.cols = cols
        var out = [Float](repeating: 0, count: n * cols)
        x.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { dst in
            for (k, r) in picked.enumerated() {
                (dst.baseAddress! + k * cols).update(from: src.baseAddress! + r * cols, count: cols)
            }
        } }
        if method == .spearman { Self.rankColumns(&out, rows: n, cols: cols) }
        Self.standardise(&out, rows: n, cols: cols)
        data = out
    }

    /// Column means and norms in Double, then (x − mean) / ‖x − mean‖ in place.
    static func standardise(_ x: inout [Float], rows: Int, cols: Int) {
        var mean = [Double](repeating: 0, count: cols)
        var ss = [Double](repeating: 0, count: cols)
        x.withUnsafeMutableBufferPointer { xb in
            let p = xb.baseAddress!
            mean.withUnsafeMutableBufferPointer { m in
                for r in 0..<rows { let row = p + r * cols; for j in 0..<cols { m[j] += Double(row[j]) } }
                for j in 0..<cols { m[j] /= Double(max(rows, 1)) }
                ss.withUnsafeMutableBufferPointer { s in
                    for r in 0..<rows { let row = p + r * cols; for j in 0..<cols { let c = Double(row[j]) - m[j]; s[j] += c * c } }
                }
            }
            // Relative threshold: a column whose spread is rounding noise counts as constant.
            let inv = (0..<cols).map { j -> Float in
                let scale = max(abs(mean[j]), 1e-30)
                return ss[j] > 1e-20 * scale * scale * Double(rows) && ss[j] > 0 ? Float(1 / ss[j].squareRoot()) : 0
            }
            let m32 = mean.map { Float($0) }
            m32.withUnsafeBufferPointer { mb in inv.withUnsafeBufferPointer { ib in
                Kernels.affineColumns(p, rows: rows, cols: cols, mean: mb.baseAddress!, invScale: ib.baseAddress!)
            } }
        }
    }

    /// Replaces each column by its ranks (1-based, ties averaged, as scipy.stats.rankdata's "average").
    static func rankColumns(_ x: inout [Float], rows: Int, cols: Int) {
        var column = [Float](repeating: 0, count: rows)
        var order = [Int](repeating: 0, count: rows)
        for j in 0..<cols {
            for r in 0..<rows { column[r] = x[r * cols + j]; order[r] = r }
            order.sort { column[$0] < column[$1] }
            var i = 0
            while i < rows {
                var k = i
                while k + 1 < rows && column[order[k + 1]] == column[order[i]] { k += 1 }
                let rank = Float(Double(i + k) / 2 + 1)
                for t in i...k { x[order[t] * cols + j] = rank }
                i = k + 1
            }
        }
    }
}
