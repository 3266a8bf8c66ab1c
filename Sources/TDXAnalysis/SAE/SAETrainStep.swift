import CBLAS
import Dispatch
import Foundation
import TDXNumerics

/// Adam's first and second moments of the four SAE tensors, in one allocation (layout as `SAEParameters`).
final class SAEMoments {
    let dIn: Int, dSAE: Int
    private let storage: FloatPtr
    private let total: Int

    init(dIn d: Int, dSAE s: Int) {
        dIn = d; dSAE = s
        total = 2 * (2 * d * s + s + d)
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
    }

    deinit { storage.deallocate() }

    /// m of W_enc, then b_enc, W_dec, b_dec; v follows the same layout after all the m's.
    private var half: Int { total / 2 }
    var mWEnc: FloatPtr { storage }
    var mBEnc: FloatPtr { storage + dIn * dSAE }
    var mWDec: FloatPtr { storage + dIn * dSAE + dSAE }
    var mBDec: FloatPtr { storage + 2 * dIn * dSAE + dSAE }
    func v(_ m: FloatPtr) -> FloatPtr { m + half }

    /// Forgets latent k's moments (W_enc column, b_enc entry, W_dec row) after it is re-initialised.
    func resetLatent(_ k: Int) {
        let (d, s) = (dIn, dSAE)
        for m in [mWEnc + k, v(mWEnc) + k] { for j in 0..<d { m[j * s] = 0 } }
        mBEnc[k] = 0; v(mBEnc)[k] = 0
        (mWDec + k * d).update(repeating: 0, count: d)
        (v(mWDec) + k * d).update(repeating: 0, count: d)
    }
}

/// Per-thread buffers of the fused step; part t writes only its own.
final class SAEStepScratch {
    /// Threads the step runs on; latents and encoder rows are each split into this many contiguous ranges.
    let parts: Int
    let latentSlices: [Range<Int>]
    let inputSlices: [Range<Int>]
    private let tileSize: Int, gradSize: Int
    private let buffer: FloatPtr
    let sums: UnsafeMutablePointer<Double>

    init(dIn d: Int, dSAE s: Int, parts: Int) {
        precondition(parts >= 1)
        self.parts = parts
        latentSlices = Self.split(s, parts: parts, align: 16)
        inputSlices = Self.split(d, parts: parts, align: 1)
        gradSize = max((latentSlices.first?.count ?? 0) * d, (inputSlices.first?.count ?? 0) * s)
        tileSize = gradSize + (latentSlices.first?.count ?? 0)
        buffer = .allocate(capacity: parts * tileSize + d)
        sums = .allocate(capacity: 2 * parts)
    }

    deinit { buffer.deallocate(); sums.deallocate() }

    /// The gradient of part t's W_dec rows (latent slice × d_in), later of its W_enc rows (input slice × d_sae).
    func gradTile(_ t: Int) -> FloatPtr { buffer + t * tileSize }
    /// The b_enc gradient of latent slice t.
    func bEncGrad(_ t: Int) -> FloatPtr { gradTile(t) + gradSize }
    /// d_in: the b_dec gradient.
    var bDecGrad: FloatPtr { buffer + parts * tileSize }

    /// Contiguous ranges covering 0..<n, at most `parts`, boundaries at multiples of `align` where possible.
    static func split(_ n: Int, parts: Int, align: Int) -> [Range<Int>] {
        let per = max(align, ((n + parts - 1) / parts + align - 1) / align * align)
        var out: [Range<Int>] = []
        var a = 0
        while a < n { out.append(a..<min(n, a + per)); a += per }
        return out
    }
}

private struct Shared<T>: @unchecked Sendable { let value: T }

/// Runs body(0..<n) on up to n threads; callers guarantee each index touches disjoint memory.
func parallel(_ n: Int, _ body: (Int) -> Void) {
    if n == 1 { body(0); return }
    withoutActuallyEscaping(body) { b in
        let box = Shared(value: b)
        DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
    }
}

/// One training step (forward, backward, Adam, decoder renormalisation) split over threads in four phases, each
/// a disjoint partition that needs no reduction: encoder by latent, decoder by batch row, dL/dpre with the
/// decoder and b_enc updates by latent, the W_enc update by encoder row (contiguous memory; a latent split would
/// stride through W_enc and its moments). Each thread's gradient slice goes straight into a fused Adam (with the
/// decoder renormalisation), so no full gradient matrix is written and OpenBLAS's idle threads never spin
/// against ours. Computes the same as `forward`, `backward`, four
/// `Adam.update`s and `Kernels.normaliseRows`, up to the order of float sums.
enum SAETrainStep {
    /// `adam` must have had `beginStep()` for this step. Inputs are the normalised rows in `ws.x`; leaves h and e there.
    static func run(_ params: inout SAEParameters, moments: SAEMoments, config: SAEConfig, adam: Adam, ws: SAEWorkspace,
                    scratch: SAEStepScratch, rows: Int) -> SAELoss {
        let (d, s, P) = (config.dIn, config.dSAE, scratch.parts)
        let coeffs = adam.coefficients
        let scale = 2 / Float(rows), l1Grad = config.l1Coefficient / Float(rows)
        let topK: Int? = { if case let .topK(k) = config.activation { return k } else { return nil } }()
        let rowParts = SAEStepScratch.split(rows, parts: P, align: 1)
        let sums = scratch.sums
        sums.update(repeating: 0, count: 2 * P)
        params.withPointers { p in ws.x.withUnsafeMutableBufferPointer { xb in
        ws.h.withUnsafeMutableBufferPointer { hb in ws.e.withUnsafeMutableBufferPointer { eb in
        ws.gh.withUnsafeMutableBufferPointer { ghb in
            let x = xb.baseAddress!, h = hb.baseAddress!, e = eb.baseAddress!, gh = ghb.baseAddress!

            // h = ReLU(x̃ W_enc + b_enc), by latent slice.
            parallel(scratch.latentSlices.count) { t in
                let S = scratch.latentSlices[t]
                BLAS.sgemm(.none, .none, m: rows, n: S.count, k: d, a: x, lda: d, b: p.wEnc + S.lowerBound, ldb: s,
                           c: h + S.lowerBound, ldc: s)
                sums[2 * t + 1] = Kernels.addBiasReLU(h + S.lowerBound, rows: rows, cols: S.count, ld: s,
                                                      bias: p.bEnc + S.lowerBound)
            }

            // e = h W_dec + b_dec − x̃, by batch rows (TopK selects within whole rows first).
            parallel(rowParts.count) { t in
                let R = rowParts[t], hr = h + R.lowerBound * s, er = e + R.lowerBound * d
                if let k = topK {
                    Kernels.topKRows(hr, rows: R.count, cols: s, k: k)
                    var l1 = 0.0
                    for i in 0..<(R.count * s) { l1 += Double(hr[i]) }
                    sums[2 * t + 1] = l1
                }
                BLAS.sgemm(.none, .none, m: R.count, n: d, k: s, a: hr, lda: s, b: p.wDec, ldb: d, c: er, ldc: d)
                sums[2 * t] = Kernels.biasedResidual(er, target: x + R.lowerBound * d, rows: R.count, cols: d, bias: p.bDec)
            }
            if topK != nil { for t in rowParts.count..<P { sums[2 * t + 1] = 0 } }

            // dL/dpre, the b_enc and W_dec gradients and their Adam steps, by latent slice.
            parallel(scratch.latentSlices.count) { t in
                if t == 0 {
                    // dL/db_dec = (2/B) Σ e
                    Kernels.columnSums(e, rows: rows, cols: d, scale: scale, out: scratch.bDecGrad)
                    SAEKernels.adam(p.bDec, m: moments.mBDec, v: moments.v(moments.mBDec), ldp: d, grad: scratch.bDecGrad,
                                    ldg: d, rows: 1, cols: d, coeffs, unitRows: false)
                }
                let S = scratch.latentSlices[t]
                let g = scratch.gradTile(t), gb = scratch.bEncGrad(t)
                // dL/dpre = [(2/B) e W_decᵀ + β/B] ⊙ 1[h > 0] (decoder rows from before this step's update)
                BLAS.sgemm(.none, .transpose, m: rows, n: S.count, k: d, alpha: scale, a: e, lda: d,
                           b: p.wDec + S.lowerBound * d, ldb: d, c: gh + S.lowerBound, ldc: s)
                SAEKernels.reluBackwardL1(gh + S.lowerBound, ldg: s, h: h + S.lowerBound, ldh: s, rows: rows, cols: S.count,
                                          l1: l1Grad, columnSums: gb)
                SAEKernels.adam(p.bEnc + S.lowerBound, m: moments.mBEnc + S.lowerBound, v: moments.v(moments.mBEnc) + S.lowerBound,
                                ldp: S.count, grad: gb, ldg: S.count, rows: 1, cols: S.count, coeffs, unitRows: false)
                // dL/dW_dec = (2/B) hᵀ e → Adam, rows back to unit norm
                let c0 = S.lowerBound
                BLAS.sgemm(.transpose, .none, m: S.count, n: d, k: rows, alpha: scale, a: h + c0, lda: s, b: e, ldb: d,
                           c: g, ldc: d)
                SAEKernels.adam(p.wDec + c0 * d, m: moments.mWDec + c0 * d, v: moments.v(moments.mWDec) + c0 * d, ldp: d,
                                grad: g, ldg: d, rows: S.count, cols: d, coeffs, unitRows: true)
            }

            // dL/dW_enc = x̃ᵀ dpre → Adam, by encoder rows so each thread updates contiguous memory.
            parallel(scratch.inputSlices.count) { t in
                let g = scratch.gradTile(t)
                let J = scratch.inputSlices[t], j0 = J.lowerBound
                BLAS.sgemm(.transpose, .none, m: J.count, n: s, k: rows, a: x + j0, lda: d, b: gh, ldb: s, c: g, ldc: s)
                SAEKernels.adam(p.wEnc + j0 * s, m: moments.mWEnc + j0 * s, v: moments.v(moments.mWEnc) + j0 * s,
                                ldp: s, grad: g, ldg: s, rows: J.count, cols: s, coeffs, unitRows: false)
            }
        } } } } }
        var sse = 0.0, l1 = 0.0
        for t in 0..<P { sse += sums[2 * t]; l1 += sums[2 * t + 1] }
        let mse = sse / Double(rows), meanL1 = l1 / Double(rows)
        return SAELoss(mse: mse, l1: meanL1, total: mse + Double(config.l1Coefficient) * meanL1)
    }

    /// Runs `body` with OpenBLAS single-threaded when the step itself uses several threads (each calls BLAS on
    /// its own slice), restoring the previous thread count after.
    static func withBLASThreads<R>(for scratch: SAEStepScratch, _ body: () -> R) -> R {
        guard scratch.parts > 1 else { return body() }
        SingleThreadedBLAS.shared.enter()
        defer { SingleThreadedBLAS.shared.leave() }
        return body()
    }
}

/// OpenBLAS's thread count is process-wide: trainers running at once (engine jobs > 1) share one section, and
/// the count is restored only when the last leaves.
private final class SingleThreadedBLAS: @unchecked Sendable {
    static let shared = SingleThreadedBLAS()
    private let lock = NSLock()
    private var depth = 0
    private var saved: Int32 = 1

    func enter() {
        lock.lock(); defer { lock.unlock() }
        if depth == 0 { saved = openblas_get_num_threads(); openblas_set_num_threads(1) }
        depth += 1
    }

    func leave() {
        lock.lock(); defer { lock.unlock() }
        depth -= 1
        if depth == 0 { openblas_set_num_threads(saved) }
    }
}

/// Raw pointers to the four tensors, valid inside `SAEParameters.withPointers`.
struct SAEParameterPointers: @unchecked Sendable {
    let wEnc: FloatPtr, bEnc: FloatPtr, wDec: FloatPtr, bDec: FloatPtr
}

extension SAEParameters {
    mutating func withPointers<R>(_ body: (SAEParameterPointers) -> R) -> R {
        wEnc.withUnsafeMutableBufferPointer { a in bEnc.withUnsafeMutableBufferPointer { b in
            wDec.withUnsafeMutableBufferPointer { c in bDec.withUnsafeMutableBufferPointer { d in
                body(SAEParameterPointers(wEnc: a.baseAddress!, bEnc: b.baseAddress!, wDec: c.baseAddress!, bDec: d.baseAddress!))
            } }
        } }
    }
}
