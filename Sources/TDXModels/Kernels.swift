import CBLAS
import Foundation

/// Row-wise numeric kernels of the forward pass.
enum Kernels {
    /// y[n × m] = x[n × k] · W[m × k]ᵀ + beta·y  (W row-major [out × in], as stored).
    static func linear(_ x: UnsafePointer<Float>, rows n: Int, inDim k: Int, _ w: UnsafePointer<Float>, outDim m: Int,
                       _ y: UnsafeMutablePointer<Float>, ldx: Int? = nil, ldy: Int? = nil, beta: Float = 0) {
        guard n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(m), Int32(k), 1,
                    x, Int32(ldx ?? k), w, Int32(k), beta, y, Int32(ldy ?? m))
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
