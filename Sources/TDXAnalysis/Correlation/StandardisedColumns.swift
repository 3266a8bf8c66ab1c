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

    /// Column means and norms in Double (shifted by the first row for stability), then (x − mean) / ‖x − mean‖
    /// in place. Columns are split across cores.
    static func standardise(_ x: inout [Float], rows: Int, cols: Int) {
        guard rows > 0 else { return }
        x.withUnsafeMutableBufferPointer { xb in
            let p = UncheckedPointer(xb.baseAddress!)
            Parallel.chunks(cols, minChunk: 64) { range in standardiseSerial(p.value, rows: rows, cols: cols, columns: range) }
        }
    }

    private static func standardiseSerial(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, columns: Range<Int>) {
        let w = columns.count, c0 = columns.lowerBound
        var sum = [Double](repeating: 0, count: w), sq = [Double](repeating: 0, count: w)
        let shift = (0..<w).map { Double(p[c0 + $0]) }
        sum.withUnsafeMutableBufferPointer { s in sq.withUnsafeMutableBufferPointer { q in shift.withUnsafeBufferPointer { sh in
            for r in 0..<rows {
                let row = p + r * cols + c0
                for j in 0..<w { let c = Double(row[j]) - sh[j]; s[j] += c; q[j] += c * c }
            }
        } } }
        var mean = [Float](repeating: 0, count: w), inv = [Float](repeating: 0, count: w)
        for j in 0..<w {
            let m = sum[j] / Double(rows)
            let ss = sq[j] - m * sum[j]
            mean[j] = Float(shift[j] + m)
            // A column whose spread is rounding noise counts as constant (r = 0).
            let scale = max(abs(shift[j] + m), 1e-30)
            inv[j] = ss > 1e-20 * scale * scale * Double(rows) && ss > 0 ? Float(1 / ss.squareRoot()) : 0
        }
        mean.withUnsafeBufferPointer { mb in inv.withUnsafeBufferPointer { ib in
            for r in 0..<rows {
                let row = p + r * cols + c0
                for j in 0..<w { row[j] = (row[j] - mb[j]) * ib[j] }
            }
        } }
    }

    /// Replaces each column by its ranks (`averageRanks`).
    static func rankColumns(_ x: inout [Float], rows: Int, cols: Int) {
        for j in 0..<cols {
            let ranks = averageRanks((0..<rows).map { x[$0 * cols + j] })
            for r in 0..<rows { x[r * cols + j] = ranks[r] }
        }
    }

    /// 1-based ranks, ties averaged (scipy.stats.rankdata's "average").
    static func averageRanks<T: BinaryFloatingPoint>(_ x: [T]) -> [T] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var out = [T](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var k = i
            while k + 1 < order.count && x[order[k + 1]] == x[order[i]] { k += 1 }
            for t in i...k { out[order[t]] = T(Double(i + k) / 2 + 1) }
            i = k + 1
        }
        return out
    }
}
