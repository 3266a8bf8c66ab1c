import Foundation
import TDXNumerics

// Fused loops of the parallel training step (SAETrainStep.swift). They work on column blocks of row-major
// matrices (leading dimension ≥ cols) so each thread touches only its own latents. Each has a naive twin in
// `SAEKernels.Naive`, compared on odd shapes in SAEKernelTests.

enum SAEKernels {
    /// Back through ReLU plus L1 on a block: g = (h > 0) ? g + l1 : 0 in place, and sums[c] = Σ_r g[r, c]
    /// (rows added in order, as `Kernels.columnSums` does).
    static func reluBackwardL1(_ g: FloatPtr, ldg: Int, h: ConstFloatPtr, ldh: Int, rows: Int, cols: Int, l1: Float,
                               columnSums sums: FloatPtr) {
        sums.update(repeating: 0, count: cols)
        let zero = SIMD8<Float>(repeating: 0), l = SIMD8<Float>(repeating: l1)
        for r in 0..<rows {
            let gr = g + r * ldg, hr = h + r * ldh
            var j = 0
            while j + 8 <= cols {
                let v = zero.replacing(with: load8(gr + j) + l, where: load8(hr + j) .> zero)
                store8(v, gr + j)
                store8(load8(sums + j) + v, sums + j)
                j += 8
            }
            while j < cols { let v = hr[j] > 0 ? gr[j] + l1 : 0; gr[j] = v; sums[j] += v; j += 1 }
        }
    }

    /// Adam on a rows × cols block: param and its moments m, v with row stride ldp, the gradient with stride ldg.
    /// With `unitRows` each updated row is then scaled to unit L2 norm while it is still in cache (the decoder
    /// constraint; same arithmetic as `Kernels.normaliseRows`).
    static func adam(_ param: FloatPtr, m: FloatPtr, v: FloatPtr, ldp: Int, grad: ConstFloatPtr, ldg: Int,
                     rows: Int, cols: Int, _ c: Adam.Coefficients, unitRows: Bool) {
        for r in 0..<rows {
            let p = param + r * ldp
            Adam.step(p, grad: grad + r * ldg, m: m + r * ldp, v: v + r * ldp, count: cols, c)
            if unitRows { Kernels.normaliseRow(p, count: cols) }
        }
    }

    /// Straightforward scalar versions, the reference for tests.
    enum Naive {
        static func biasReLU(_ h: inout [Float], ld: Int, rows: Int, cols: Int, bias: [Float]) -> Double {
            var total = 0.0
            for r in 0..<rows { for j in 0..<cols { h[r * ld + j] = max(0, h[r * ld + j] + bias[j]); total += Double(h[r * ld + j]) } }
            return total
        }

        static func reluBackwardL1(_ g: inout [Float], ldg: Int, h: [Float], ldh: Int, rows: Int, cols: Int, l1: Float) -> [Float] {
            var sums = [Float](repeating: 0, count: cols)
            for r in 0..<rows { for j in 0..<cols {
                g[r * ldg + j] = h[r * ldh + j] > 0 ? g[r * ldg + j] + l1 : 0
                sums[j] += g[r * ldg + j]
            } }
            return sums
        }

        static func adam(_ p: inout [Float], m: inout [Float], v: inout [Float], ldp: Int, grad: [Float], ldg: Int,
                         rows: Int, cols: Int, t: Int, lr: Float, beta1: Float, beta2: Float, eps: Float, unitRows: Bool) {
            let c1 = 1 / (1 - pow(Double(beta1), Double(t))), c2 = 1 / (1 - pow(Double(beta2), Double(t)))
            for r in 0..<rows {
                for j in 0..<cols {
                    let (i, g) = (r * ldp + j, Double(grad[r * ldg + j]))
                    m[i] = Float(Double(beta1) * Double(m[i]) + (1 - Double(beta1)) * g)
                    v[i] = Float(Double(beta2) * Double(v[i]) + (1 - Double(beta2)) * g * g)
                    p[i] = Float(Double(p[i]) - Double(lr) * c1 * Double(m[i]) / ((Double(v[i]) * c2).squareRoot() + Double(eps)))
                }
                guard unitRows else { continue }
                let norm = (0..<cols).reduce(0.0) { $0 + Double(p[r * ldp + $1]) * Double(p[r * ldp + $1]) }.squareRoot()
                if norm > 0 { for j in 0..<cols { p[r * ldp + j] = Float(Double(p[r * ldp + j]) / norm) } }
            }
        }
    }
}
