import XCTest
import TDXCore
import TDXNumerics
@testable import TDXAnalysis

final class SAETrainingTests: XCTestCase {
    /// Samples x = Σ c_i a_i over a few of `atoms` random unit atoms in d dimensions; returns (atoms, data).
    static func planted(atoms m: Int, d: Int, samples n: Int, active: Int, rng: inout SeededRNG) -> ([Float], [Float]) {
        var atoms = Tensor.randomNormal(shape: [m, d], std: 1, rng: &rng).data
        atoms.withUnsafeMutableBufferPointer { Kernels.normaliseRows($0.baseAddress!, rows: m, cols: d) }
        var data = [Float](repeating: 0, count: n * d)
        for r in 0..<n {
            for _ in 0..<active {
                let a = rng.int(below: m)
                let c = 1 + rng.uniformFloat()
                for j in 0..<d { data[r * d + j] += c * atoms[a * d + j] }
            }
        }
        return (atoms, data)
    }

    /// Mean over true atoms of the best cosine with any learned decoder row (rows are unit norm).
    static func meanBestCosine(atoms: [Float], m: Int, decoder: [Float], s: Int, d: Int) -> Double {
        var sims = [Float](repeating: 0, count: m * s)
        BLAS.sgemm(.none, .transpose, m: m, n: s, k: d, a: atoms, b: decoder, c: &sims)
        return (0..<m).map { i in Double(sims[(i * s)..<((i + 1) * s)].max()!) }.reduce(0, +) / Double(m)
    }

    /// `evaluate` (batches shared over threads) gives what one pass over the rows in order gives.
    func testEvaluationMatchesASerialPass() {
        let (d, n) = (24, 1_333)
        var rng = SeededRNG(seed: 5)
        let data = Tensor.randomNormal(shape: [n, d], std: 1, rng: &rng).data
        let cfg = SAEConfig(dIn: d, width: .latents(40), batchSize: 64, epochs: 1, testFraction: 0.3, seed: 9)
        let trainer = SAETrainer(config: cfg, data: data, experimentIDs: (0..<n).map { $0 / 10 })
        trainer.trainEpoch()
        let sae = trainer.sae, rows = trainer.split.test, s = sae.dSAE
        var sse = 0.0, l1 = 0.0, active = 0, sum = [Double](repeating: 0, count: d), sumSq = 0.0
        var fired = [Bool](repeating: false, count: s)
        for b0 in stride(from: 0, to: rows.count, by: 64) {
            let batch = rows[b0..<min(rows.count, b0 + 64)]
            var x = batch.flatMap { data[($0 * d)..<(($0 + 1) * d)] }
            x.withUnsafeMutableBufferPointer { sae.normaliser.apply($0.baseAddress!, rows: batch.count) }
            for r in 0..<batch.count { for j in 0..<d { let v = Double(x[r * d + j]); sum[j] += v; sumSq += v * v } }
            let h = sae.encode(normalised: x, rows: batch.count)
            let xhat = sae.decode(h, rows: batch.count)
            var bsse = 0.0, bl1 = 0.0
            for i in 0..<x.count { let e = Double(xhat[i] - x[i]); bsse += e * e }
            for (i, v) in h.enumerated() { bl1 += Double(v); if v > 0 { active += 1; fired[i % s] = true } }
            sse += bsse / Double(batch.count) * Double(batch.count)
            l1 += bl1 / Double(batch.count) * Double(batch.count)
        }
        let e = trainer.evaluate(rows: rows)
        let m = Double(rows.count)
        XCTAssertEqual(e.l0, Double(active) / m)
        XCTAssertEqual(e.deadFraction, Double(fired.filter { !$0 }.count) / Double(s))
        XCTAssertEqual(e.mse, sse / m, accuracy: 1e-9 * max(1, sse / m))
        XCTAssertEqual(e.loss, sse / m + Double(cfg.l1Coefficient) * l1 / m, accuracy: 1e-9 * max(1, sse / m))
        let variance = sumSq - sum.reduce(0) { $0 + $1 * $1 } / m
        XCTAssertEqual(e.fve, 1 - sse / variance, accuracy: 1e-9)
        // Evaluating again (workspaces reused) gives the same, bit for bit.
        XCTAssertEqual(trainer.evaluate(rows: rows), e)
    }

    func testPlantedDictionaryIsRecovered() {
        let (m, d, n) = (512, 128, 32_768)
        var rng = SeededRNG(seed: 21)
        let (atoms, data) = Self.planted(atoms: m, d: d, samples: n, active: 4, rng: &rng)
        // lr 1e-2 instead of the paper's 1e-4 keeps this test to a few seconds; the algorithm is the same.
        let cfg = SAEConfig(dIn: d, width: .latents(1024), normalisation: .none, l1Coefficient: 0.5, learningRate: 1e-2,
                            epochs: 6, resampleDeadLatents: true, testFraction: 0.1, seed: 3)
        let trainer = SAETrainer(config: cfg, data: data, experimentIDs: (0..<n).map { $0 / 512 })
        let history = trainer.train()
        XCTAssertEqual(history.count, 6)
        XCTAssertLessThan(history.last!.trainLoss, history.first!.trainLoss)
        XCTAssertGreaterThan(history.last!.test!.fve, 0.7)
        let cos = Self.meanBestCosine(atoms: atoms, m: m, decoder: trainer.sae.params.wDec, s: 1024, d: d)
        XCTAssertGreaterThanOrEqual(cos, 0.9)
    }

    func testSparsityAndFidelityFollowBeta() {
        let (m, d, n) = (64, 32, 4096)
        var rng = SeededRNG(seed: 8)
        let (_, data) = Self.planted(atoms: m, d: d, samples: n, active: 3, rng: &rng)
        var results: [SAEEvaluation] = []
        for beta: Float in [0.01, 0.3, 1.0] {
            let cfg = SAEConfig(dIn: d, width: .latents(128), normalisation: .scalarRMS, l1Coefficient: beta,
                                learningRate: 1e-2, epochs: 4, seed: 4)
            let trainer = SAETrainer(config: cfg, data: data, experimentIDs: (0..<n).map { $0 / 256 })
            results.append(trainer.train().last!.test!)
        }
        for (a, b) in zip(results, results.dropFirst()) {
            XCTAssertGreaterThan(a.l0, b.l0, "L0 must fall as β grows: \(results)")
            XCTAssertGreaterThan(a.fve, b.fve, "FVE must fall as β grows: \(results)")
        }
        XCTAssertGreaterThan(results[0].fve, 0.9)
    }

    func testTopKBoundsL0AndTrainingIsDeterministic() {
        var rng = SeededRNG(seed: 12)
        let (_, data) = Self.planted(atoms: 32, d: 16, samples: 1024, active: 2, rng: &rng)
        let cfg = SAEConfig(dIn: 16, width: .expansion(4), normalisation: .perDimension, activation: .topK(5), l1Coefficient: 0,
                            learningRate: 1e-2, epochs: 2, initDecoderFromEncoder: false, seed: 1)
        let ids = (0..<1024).map { $0 / 64 }
        let a = SAETrainer(config: cfg, data: data, experimentIDs: ids)
        let b = SAETrainer(config: cfg, data: data, experimentIDs: ids)
        let ha = a.train(), hb = b.train()
        XCTAssertLessThanOrEqual(ha.last!.test!.l0, 5)
        XCTAssertEqual(ha.map(\.trainLoss), hb.map(\.trainLoss))
        XCTAssertEqual(a.sae.params, b.sae.params)
        // Decoder rows stay unit norm after every step.
        for k in 0..<64 {
            let norm = (0..<16).reduce(Float(0)) { $0 + a.sae.params.wDec[k * 16 + $1] * a.sae.params.wDec[k * 16 + $1] }
            XCTAssertEqual(norm, 1, accuracy: 1e-4)
        }
    }
}
