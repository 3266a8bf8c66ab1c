import TDXNumerics

/// Mostly-zero features (SAE latents) kept as compressed rows, for Pearson r without densifying.
/// Since the variables are centred, Σᵢ (zᵢ − z̄) vᵢ = Σᵢ zᵢ vᵢ: only non-zeros matter, and r = Σ zᵢ vᵢ / ‖z − z̄‖.
public struct SparseFeatures: Sendable {
    public let rows: Int
    public let cols: Int
    var rowStart: [Int]
    var column: [Int32]
    var value: [Float]
    /// 1 / ‖z_f − z̄_f‖, 0 for constant features.
    var invNorm: [Float]

    public var nonZeros: Int { value.count }
    public var density: Double { rows * cols > 0 ? Double(nonZeros) / Double(rows * cols) : 0 }

    /// From raw features (samples × cols, row-major), optionally only `selecting` rows in that order.
    public init(_ x: [Float], rows: Int, cols: Int, selecting: [Int]? = nil) {
        precondition(x.count == rows * cols)
        let picked = selecting ?? Array(0..<rows)
        self.rows = picked.count
        self.cols = cols
        rowStart = [0]; rowStart.reserveCapacity(picked.count + 1)
        column = []; value = []
        var sum = [Double](repeating: 0, count: cols), sq = sum
        for r in picked {
            for f in 0..<cols {
                let z = x[r * cols + f]
                if z != 0 {
                    column.append(Int32(f)); value.append(z)
                    sum[f] += Double(z); sq[f] += Double(z) * Double(z)
                }
            }
            rowStart.append(column.count)
        }
        let n = Double(max(picked.count, 1))
        invNorm = (0..<cols).map { f in
            let ss = sq[f] - sum[f] * sum[f] / n
            return ss > 1e-12 * max(sq[f], 1e-30) ? Float(1 / ss.squareRoot()) : 0
        }
    }

    /// out[f, c] = r of feature f with column c of `v` (rows × m, row-major, columns centred and unit norm),
    /// for an out buffer of cols × m. Column tiles are spread over cores.
    func correlate(_ v: UnsafePointer<Float>, m: Int, out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: cols * m)
        let tile = 32
        let tiles = (m + tile - 1) / tile
        let vb = UncheckedPointer(UnsafeMutablePointer(mutating: v)), ob = UncheckedPointer(out)
        rowStart.withUnsafeBufferPointer { rs in column.withUnsafeBufferPointer { cb in value.withUnsafeBufferPointer { zb in
            invNorm.withUnsafeBufferPointer { nb in
                Parallel.chunks(tiles, minChunk: 1) { range in
                    for t in range {
                        let c0 = t * tile, w = min(tile, m - c0)
                        for i in 0..<rows {
                            let vrow = UnsafePointer(vb.value) + i * m + c0
                            for k in rs[i]..<rs[i + 1] {
                                axpy(w, zb[k], vrow, ob.value + Int(cb[k]) * m + c0)
                            }
                        }
                        for f in 0..<cols {
                            let o = ob.value + f * m + c0, s = nb[f]
                            for c in 0..<w { o[c] = min(1, max(-1, o[c] * s)) }
                        }
                    }
                }
            }
        } } }
    }

    @inline(__always) private func axpy(_ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let va = SIMD16<Float>(repeating: a)
        var i = 0
        while i + 16 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(va, xv), as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { y[i] += a * x[i]; i += 1 }
    }
}
