import CBLAS
import Foundation

/// Row-wise numeric kernels of the forward pass.
enum Kernels {
    /// y[n × m] = x[n × k] · W[m × k]ᵀ + beta·y  (W row-major [out × in], as stored). With threads > 1 the
    /// product is split along its longer side into one single-threaded BLAS call per thread; the caller keeps
    /// OpenBLAS itself at one thread (see `LanguageModel.forward`).
    static func linear(_ x: UnsafePointer<Float>, rows n: Int, inDim k: Int, _ w: UnsafePointer<Float>, outDim m: Int,
                       _ y: UnsafeMutablePointer<Float>, ldx: Int? = nil, ldy: Int? = nil, beta: Float = 0, threads: Int = 1) {
        guard n > 0 else { return }
        let ldx = ldx ?? k, ldy = ldy ?? m
        @Sendable func gemm(_ rows: Int, _ cols: Int, _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(cols), Int32(k), 1,
                        xp, Int32(ldx), wp, Int32(k), beta, yp, Int32(ldy))
        }
        let parts = n * m * k < 1 << 20 ? 1 : threads
        guard parts > 1 else { gemm(n, m, x, w, y); return }
        let xs = SendablePointer(UnsafeMutablePointer(mutating: x)), ws = SendablePointer(UnsafeMutablePointer(mutating: w))
        let ys = SendablePointer(y)
        if n >= m {
            parallelRows(n, parts: parts) { r in gemm(r.count, m, xs.p + r.lowerBound * ldx, ws.p, ys.p + r.lowerBound * ldy) }
        } else {
            // Output columns in multiples of 16, the width of OpenBLAS's AVX-512 micro-kernel.
            parallelRows((m + 15) / 16, parts: parts) { b in
                let c0 = b.lowerBound * 16, c1 = min(m, b.upperBound * 16)
                gemm(n, c1 - c0, xs.p, ws.p + c0 * k, ys.p + c0)
            }
        }
    }

    /// Naive reference for `linear` (tests).
    static func linearNaive(_ x: [Float], rows n: Int, inDim k: Int, _ w: [Float], outDim m: Int) -> [Float] {
        var y = [Float](repeating: 0, count: n * m)
        for r in 0..<n { for o in 0..<m {
            var s: Float = 0
            for i in 0..<k { s += x[r * k + i] * w[o * k + i] }
            y[r * m + o] = s
        } }
        return y
    }

    /// out[r] = x[r] / sqrt(mean(x[r]²) + eps) ⊙ w, for n rows of width d.
    static func rmsNorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, rows n: Int, dim d: Int, eps: Float,
                        _ out: UnsafeMutablePointer<Float>) {
        for r in 0..<n {
            let xr = x + r * d, yr = out + r * d
            var ss: Float = 0
            for i in 0..<d { ss += xr[i] * xr[i] }
            let inv = 1 / (ss / Float(d) + eps).squareRoot()
            for i in 0..<d { yr[i] = xr[i] * inv * w[i] }
        }
    }

    /// Rotates adjacent pairs (2i, 2i+1) of each head of one row by angle pos·θᵢ.
    static func rope(_ v: UnsafeMutablePointer<Float>, heads: Int, headDim hd: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        for h in 0..<heads {
            let p = v + h * hd
            for i in 0..<(hd / 2) {
                let a = p[2 * i], b = p[2 * i + 1]
                p[2 * i] = a * cos[i] - b * sin[i]
                p[2 * i + 1] = a * sin[i] + b * cos[i]
            }
        }
    }

    /// cos/sin of pos·θᵢ for i < hd/2, computed in double as the reference does.
    static func ropeAngles(position: Int, config c: LlamaConfig) -> (cos: [Float], sin: [Float]) {
        let half = c.headDim / 2
        var cs = [Float](repeating: 0, count: half), sn = cs
        for i in 0..<half {
            var theta = Double(position) * pow(c.ropeBase, -Double(2 * i) / Double(c.headDim))
            if let f = c.ropeFreqFactors { theta /= Double(f[i]) }
            cs[i] = Float(Foundation.cos(theta)); sn[i] = Float(Foundation.sin(theta))
        }
        return (cs, sn)
    }

    /// In-place softmax of the first `valid` entries of a row; entries past it become 0.
    static func softmaxPrefix(_ row: UnsafeMutablePointer<Float>, valid: Int, count: Int) {
        var mx = -Float.infinity
        for j in 0..<valid { mx = max(mx, row[j]) }
        var sum: Float = 0
        for j in 0..<valid { let e = expf(row[j] - mx); row[j] = e; sum += e }
        let inv = 1 / sum
        for j in 0..<valid { row[j] *= inv }
        for j in valid..<count { row[j] = 0 }
    }

    /// out[r, i] = silu(gu[r, i]) · gu[r, F + i]  for gu [n × 2F] → out [n × F].
    static func swiglu(_ gu: UnsafePointer<Float>, rows n: Int, ffn f: Int, _ out: UnsafeMutablePointer<Float>) {
        for r in 0..<n {
            let g = gu + r * 2 * f, u = g + f, o = out + r * f
            for i in 0..<f { o[i] = g[i] / (1 + expf(-g[i])) * u[i] }
        }
    }
}
