import TDXNumerics

/// Scratch buffers for one batch of forward and backward passes, reused across steps.
final class SAEWorkspace {
    let capacity: Int
    var x: [Float]       // batch × d_in, normalised inputs
    var h: [Float]       // batch × d_sae, latents
    var e: [Float]       // batch × d_in, x̂ − x̃
    var gh: [Float]      // batch × d_sae, dL/dpre
    var grads: SAEParameters

    /// `gradients: false` for the trainer, whose fused step (SAETrainStep) never materialises weight gradients.
    init(batch: Int, dIn: Int, dSAE: Int, gradients: Bool = true) {
        capacity = batch
        x = .init(repeating: 0, count: batch * dIn)
        h = .init(repeating: 0, count: batch * dSAE)
        e = .init(repeating: 0, count: batch * dIn)
        gh = .init(repeating: 0, count: batch * dSAE)
        grads = gradients ? SAEParameters(dIn: dIn, dSAE: dSAE) : SAEParameters(dIn: 0, dSAE: 0)
    }
}

extension SparseAutoencoder {
    /// Forward pass on `rows` normalised inputs already in `ws.x`; leaves h and e in the workspace.
    func forward(_ ws: SAEWorkspace, rows: Int) -> SAELoss {
        let (d, s) = (dIn, dSAE)
        let l1Sum = ws.x.withUnsafeBufferPointer { x in ws.h.withUnsafeMutableBufferPointer { h in
            encodeInto(x.baseAddress!, rows: rows, h: h.baseAddress!)
        } }
        let sse = ws.h.withUnsafeBufferPointer { h in params.wDec.withUnsafeBufferPointer { w in
            ws.e.withUnsafeMutableBufferPointer { e in ws.x.withUnsafeBufferPointer { x in params.bDec.withUnsafeBufferPointer { b in
                BLAS.sgemm(.none, .none, m: rows, n: d, k: s, a: h.baseAddress!, lda: s, b: w.baseAddress!, ldb: d,
                           c: e.baseAddress!, ldc: d)
                return Kernels.biasedResidual(e.baseAddress!, target: x.baseAddress!, rows: rows, cols: d, bias: b.baseAddress!)
            } } }
        } }
        let n = Double(rows)
        let mse = sse / n, l1 = l1Sum / n
        return SAELoss(mse: mse, l1: l1, total: mse + Double(config.l1Coefficient) * l1)
    }

    /// Gradients of the batch loss after `forward`, into `ws.grads`.
    func backward(_ ws: SAEWorkspace, rows: Int) {
        let (d, s) = (dIn, dSAE)
        let scale = 2 / Float(rows)
        ws.h.withUnsafeBufferPointer { hb in ws.e.withUnsafeBufferPointer { eb in
        ws.x.withUnsafeBufferPointer { xb in ws.gh.withUnsafeMutableBufferPointer { ghb in
        params.wDec.withUnsafeBufferPointer { wd in
            let h = hb.baseAddress!, e = eb.baseAddress!, x = xb.baseAddress!, gh = ghb.baseAddress!
            // dL/dW_dec = (2/B) hᵀ e ; dL/db_dec = (2/B) Σ e
            ws.grads.wDec.withUnsafeMutableBufferPointer {
                BLAS.sgemm(.transpose, .none, m: s, n: d, k: rows, alpha: scale, a: h, lda: s, b: e, ldb: d,
                           c: $0.baseAddress!, ldc: d)
            }
            ws.grads.bDec.withUnsafeMutableBufferPointer {
                Kernels.columnSums(e, rows: rows, cols: d, scale: scale, out: $0.baseAddress!)
            }
            // dL/dpre = [(2/B) e W_decᵀ + β/B] ⊙ 1[h > 0]
            BLAS.sgemm(.none, .transpose, m: rows, n: s, k: d, alpha: scale, a: e, lda: d, b: wd.baseAddress!, ldb: d,
                       c: gh, ldc: s)
            Kernels.reluBackwardL1(gh, h: h, count: rows * s, l1: config.l1Coefficient / Float(rows))
            // dL/dW_enc = x̃ᵀ dpre ; dL/db_enc = Σ dpre
            ws.grads.wEnc.withUnsafeMutableBufferPointer {
                BLAS.sgemm(.transpose, .none, m: d, n: s, k: rows, a: x, lda: d, b: gh, ldb: s, c: $0.baseAddress!, ldc: s)
            }
            ws.grads.bEnc.withUnsafeMutableBufferPointer {
                Kernels.columnSums(gh, rows: rows, cols: s, scale: 1, out: $0.baseAddress!)
            }
        } } } } }
    }

    /// Loss and gradients for a batch of normalised inputs (rows × d_in). For tests and diagnostics; training reuses buffers.
    public func lossAndGradients(normalised x: [Float], rows: Int) -> (SAELoss, SAEParameters) {
        let ws = SAEWorkspace(batch: rows, dIn: dIn, dSAE: dSAE)
        ws.x = x
        let loss = forward(ws, rows: rows)
        backward(ws, rows: rows)
        return (loss, ws.grads)
    }
}
