import XCTest
import TDXCore
import TDXNumerics
@testable import TDXAnalysis

/// The fused, parallel training step against the plain path (forward, backward, Adam.update, normaliseRows).
final class SAETrainStepTests: XCTestCase {
    func random(_ n: Int, _ rng: inout SeededRNG, scale: Float = 1) -> [Float] { (0..<n).map { _ in Float(rng.normal()) * scale } }

    func testBiasReLUMatchesNaive() {
        var rng = SeededRNG(seed: 1)
        let (rows, cols, ld) = (5, 13, 17)
        let bias = random(cols, &rng)
        var fast = random(rows * ld, &rng), naive = fast
        let a = fast.withUnsafeMutableBufferPointer { Kernels.addBiasReLU($0.baseAddress!, rows: rows, cols: cols, ld: ld, bias: bias) }
        let b = SAEKernels.Naive.biasReLU(&naive, ld: ld, rows: rows, cols: cols, bias: bias)
        XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, b))
        XCTAssertEqual(fast, naive)
    }

    func testReluBackwardL1MatchesNaive() {
        var rng = SeededRNG(seed: 2)
        let (rows, cols, ldg, ldh) = (7, 11, 11, 19)
        let h = random(rows * ldh, &rng)
        var fast = random(rows * ldg, &rng), naive = fast
        var sums = [Float](repeating: .nan, count: cols)
        fast.withUnsafeMutableBufferPointer { g in sums.withUnsafeMutableBufferPointer { o in
            SAEKernels.reluBackwardL1(g.baseAddress!, ldg: ldg, h: h, ldh: ldh, rows: rows, cols: cols, l1: 0.25, columnSums: o.baseAddress!)
        } }
        let ref = SAEKernels.Naive.reluBackwardL1(&naive, ldg: ldg, h: h, ldh: ldh, rows: rows, cols: cols, l1: 0.25)
        XCTAssertEqual(fast, naive)
        for j in 0..<cols { XCTAssertEqual(sums[j], ref[j], accuracy: 1e-5) }
    }

    func testAdamMatchesNaiveAndAdamUpdate() {
        var rng = SeededRNG(seed: 3)
        for unitRows in [false, true] {
            let (rows, cols, ldp, ldg) = (3, 21, 23, 21)
            var adam = Adam(lr: 1e-2)
            var p = random(rows * ldp, &rng), m = [Float](repeating: 0, count: rows * ldp), v = m
            var (pn, mn, vn) = (p, m, v)
            for _ in 0..<3 {
                adam.beginStep()
                let g = random(rows * ldg, &rng)
                p.withUnsafeMutableBufferPointer { pb in m.withUnsafeMutableBufferPointer { mb in v.withUnsafeMutableBufferPointer { vb in
                    SAEKernels.adam(pb.baseAddress!, m: mb.baseAddress!, v: vb.baseAddress!, ldp: ldp, grad: g, ldg: ldg,
                                    rows: rows, cols: cols, adam.coefficients, unitRows: unitRows)
                } } }
                SAEKernels.Naive.adam(&pn, m: &mn, v: &vn, ldp: ldp, grad: g, ldg: ldg, rows: rows, cols: cols, t: adam.t,
                                      lr: adam.lr, beta1: adam.beta1, beta2: adam.beta2, eps: adam.eps, unitRows: unitRows)
            }
            for i in p.indices { XCTAssertEqual(p[i], pn[i], accuracy: 1e-5, "p[\(i)] unitRows \(unitRows)") }
            for i in m.indices { XCTAssertEqual(m[i], mn[i], accuracy: 1e-6); XCTAssertEqual(v[i], vn[i], accuracy: 1e-6) }
        }
        // Dense, unit stride: bit-identical to TDXNumerics' Adam.
        var adam = Adam(lr: 1e-3)
        adam.beginStep(); adam.beginStep()
        let g = random(37, &rng)
        var p = random(37, &rng), state = AdamState(count: 37)
        state.m = random(37, &rng, scale: 0.1); state.v = random(37, &rng).map { $0 * $0 }
        var (pf, mf, vf) = (p, state.m, state.v)
        adam.update(&p, grad: g, state: &state)
        pf.withUnsafeMutableBufferPointer { pb in mf.withUnsafeMutableBufferPointer { mb in vf.withUnsafeMutableBufferPointer { vb in
            SAEKernels.adam(pb.baseAddress!, m: mb.baseAddress!, v: vb.baseAddress!, ldp: 37, grad: g, ldg: 37, rows: 1, cols: 37,
                            adam.coefficients, unitRows: false)
        } } }
        XCTAssertEqual(pf, p); XCTAssertEqual(mf, state.m); XCTAssertEqual(vf, state.v)
    }

    /// Three steps of both paths on odd shapes, split over 1–3 parts (uneven slices), ReLU and TopK.
    func testFusedStepMatchesReference() {
        let (d, s, batch) = (13, 37, 11)
        for activation in [SAEActivation.relu, .topK(4)] {
            for parts in [1, 2, 3] {
                var rng = SeededRNG(seed: 17)
                let cfg = SAEConfig(dIn: d, width: .latents(s), normalisation: .none, activation: activation,
                                    l1Coefficient: 0.05, learningRate: 1e-3, batchSize: batch, initDecoderFromEncoder: false)
                var ref = SparseAutoencoder(config: cfg, normaliser: .identity(dIn: d), rng: &rng)
                ref.params.bEnc = random(s, &rng, scale: 0.3)
                ref.params.bDec = random(d, &rng, scale: 0.3)
                var fast = ref.params
                var adamRef = Adam(lr: cfg.learningRate), adamFast = adamRef
                var states = [AdamState(count: d * s), AdamState(count: s), AdamState(count: s * d), AdamState(count: d)]
                let moments = SAEMoments(dIn: d, dSAE: s)
                let ws = SAEWorkspace(batch: batch, dIn: d, dSAE: s, gradients: false)
                let scratch = SAEStepScratch(dIn: d, dSAE: s, parts: parts)
                for step in 0..<3 {
                    // A short last batch as at the end of an epoch.
                    let rows = step == 2 ? 6 : batch
                    let x = random(rows * d, &rng)
                    let (loss, g) = ref.lossAndGradients(normalised: x, rows: rows)
                    adamRef.beginStep()
                    adamRef.update(&ref.params.wEnc, grad: g.wEnc, state: &states[0])
                    adamRef.update(&ref.params.bEnc, grad: g.bEnc, state: &states[1])
                    adamRef.update(&ref.params.wDec, grad: g.wDec, state: &states[2])
                    adamRef.update(&ref.params.bDec, grad: g.bDec, state: &states[3])
                    ref.params.wDec.withUnsafeMutableBufferPointer { Kernels.normaliseRows($0.baseAddress!, rows: s, cols: d) }

                    ws.x.replaceSubrange(0..<(rows * d), with: x)
                    adamFast.beginStep()
                    let fastLoss = SAETrainStep.withBLASThreads(for: scratch) {
                        SAETrainStep.run(&fast, moments: moments, config: cfg, adam: adamFast, ws: ws, scratch: scratch, rows: rows)
                    }
                    let what = "\(activation) parts \(parts) step \(step)"
                    XCTAssertEqual(fastLoss.total, loss.total, accuracy: 1e-5 * loss.total, what)
                    XCTAssertEqual(fastLoss.mse, loss.mse, accuracy: 1e-5 * loss.mse, what)
                    XCTAssertEqual(fastLoss.l1, loss.l1, accuracy: 1e-5 * max(loss.l1, 1), what)
                    for (name, a, b) in [("wEnc", fast.wEnc, ref.params.wEnc), ("bEnc", fast.bEnc, ref.params.bEnc),
                                         ("wDec", fast.wDec, ref.params.wDec), ("bDec", fast.bDec, ref.params.bDec)] {
                        let worst = zip(a, b).map { abs($0 - $1) }.max()!
                        XCTAssertLessThan(worst, 1e-5, "\(name) \(what)")
                    }
                }
            }
        }
    }

    func testSplitCoversRange() {
        XCTAssertEqual(SAEStepScratch.split(2304, parts: 2, align: 16), [0..<1152, 1152..<2304])
        XCTAssertEqual(SAEStepScratch.split(37, parts: 3, align: 16), [0..<16, 16..<32, 32..<37])
        XCTAssertEqual(SAEStepScratch.split(2, parts: 3, align: 1), [0..<1, 1..<2])
        XCTAssertEqual(SAEStepScratch.split(7, parts: 2, align: 16), [0..<7])
    }
}
