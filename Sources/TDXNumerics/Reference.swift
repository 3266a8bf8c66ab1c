import Foundation

/// Naive, obviously-correct twins of the fast kernels; tests compare the fast ones against these.
public enum Reference {
    /// C = alpha · op(A) · op(B) + beta · C, row-major with leading dimensions, accumulated in Double.
    public static func sgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                             a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: inout [Float], ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = 0
                for p in 0..<k {
                    let av = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let bv = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    s += Double(av) * Double(bv)
                }
                c[i * ldc + j] = alpha * Float(s) + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }

    public static func addBiasReLU(_ x: inout [Float], rows: Int, cols: Int, bias: [Float]) -> Double {
        var total: Double = 0
        for r in 0..<rows { for c in 0..<cols {
            x[r * cols + c] = max(0, x[r * cols + c] + bias[c]); total += Double(x[r * cols + c])
        } }
        return total
    }

    public static func biasedResidual(_ xhat: inout [Float], target: [Float], rows: Int, cols: Int, bias: [Float]) -> Double {
        var total: Double = 0
        for r in 0..<rows { for c in 0..<cols {
            let e = xhat[r * cols + c] + bias[c] - target[r * cols + c]
            xhat[r * cols + c] = e; total += Double(e) * Double(e)
        } }
        return total
    }

    public static func reluBackwardL1(_ g: inout [Float], h: [Float], l1: Float) {
        for i in g.indices { g[i] = h[i] > 0 ? g[i] + l1 : 0 }
    }

    public static func columnSums(_ x: [Float], rows: Int, cols: Int, scale: Float) -> [Float] {
        (0..<cols).map { c in scale * (0..<rows).reduce(Float(0)) { $0 + x[$1 * cols + c] } }
    }

    public static func normaliseRows(_ x: inout [Float], rows: Int, cols: Int) {
        for r in 0..<rows {
            let norm = (0..<cols).reduce(Double(0)) { $0 + Double(x[r * cols + $1]) * Double(x[r * cols + $1]) }.squareRoot()
            if norm > 0 { for c in 0..<cols { x[r * cols + c] = Float(Double(x[r * cols + c]) / norm) } }
        }
    }

    public static func topKRows(_ x: inout [Float], rows: Int, cols: Int, k: Int) {
        guard k < cols else { return }
        for r in 0..<rows {
            let order = (0..<cols).sorted { a, b in
                let (va, vb) = (x[r * cols + a], x[r * cols + b])
                return va > vb || (va == vb && a < b)
            }
            for j in order[k...] { x[r * cols + j] = 0 }
        }
    }

    /// One Adam step at step number t, in Double.
    public static func adam(_ p: inout [Float], grad: [Float], m: inout [Float], v: inout [Float], t: Int,
                            lr: Double, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
        for i in p.indices {
            let g = Double(grad[i])
            let mi = beta1 * Double(m[i]) + (1 - beta1) * g
            let vi = beta2 * Double(v[i]) + (1 - beta2) * g * g
            m[i] = Float(mi); v[i] = Float(vi)
            let mh = mi / (1 - pow(beta1, Double(t))), vh = vi / (1 - pow(beta2, Double(t)))
            p[i] = Float(Double(p[i]) - lr * mh / (vh.squareRoot() + eps))
        }
    }
}
