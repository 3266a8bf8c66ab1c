import XCTest
import TDXCore
import TDXNumerics
@testable import TDXAnalysis

final class SAEGradientTests: XCTestCase {
    /// The loss in Double with naive loops, for finite differences.
    func referenceLoss(_ p: SAEParameters, x: [Float], rows: Int, d: Int, s: Int, beta: Double, topK: Int?) -> Double {
        var total = 0.0
        for r in 0..<rows {
            var h = (0..<s).map { k in max(0, (0..<d).reduce(Double(p.bEnc[k])) { $0 + Double(x[r * d + $1]) * Double(p.wEnc[$1 * s + k]) }) }
            if let k = topK {
                let keep = Set((0..<s).sorted { h[$0] > h[$1] || (h[$0] == h[$1] && $0 < $1) }.prefix(k))
                for j in 0..<s where !keep.contains(j) { h[j] = 0 }
            }
            for j in 0..<d {
                let xhat = (0..<s).reduce(Double(p.bDec[j])) { $0 + h[$1] * Double(p.wDec[$1 * d + j]) }
                total += (xhat - Double(x[r * d + j])) * (xhat - Double(x[r * d + j]))
            }
            total += beta * h.reduce(0, +)
        }
        return total / Double(rows)
    }

    func checkGradients(activation: SAEActivation) {
        let (d, s, rows) = (5, 7, 9)
        let beta: Float = 0.05
        var rng = SeededRNG(seed: 11)
        let cfg = SAEConfig(dIn: d, width: .latents(s), normalisation: .none, activation: activation, l1Coefficient: beta,
                            initDecoderFromEncoder: false)
        var sae = SparseAutoencoder(config: cfg, normaliser: .identity(dIn: d), rng: &rng)
        for k in 0..<s { sae.params.bEnc[k] = Float(rng.normal()) * 0.3 }
        for j in 0..<d { sae.params.bDec[j] = Float(rng.normal()) * 0.3 }
        let x = (0..<(rows * d)).map { _ in Float(rng.normal()) }
        let (loss, g) = sae.lossAndGradients(normalised: x, rows: rows)
        let k: Int? = { if case let .topK(k) = activation { return k } else { return nil } }()
        let ref = referenceLoss(sae.params, x: x, rows: rows, d: d, s: s, beta: Double(beta), topK: k)
        XCTAssertEqual(loss.total, ref, accuracy: 1e-4 * max(1, ref))

        let eps: Float = 1e-3
        var kinks = 0
        func check(_ path: WritableKeyPath<SAEParameters, [Float]>, _ grad: [Float], _ name: String) {
            let l0 = referenceLoss(sae.params, x: x, rows: rows, d: d, s: s, beta: Double(beta), topK: k)
            for i in grad.indices {
                var plus = sae.params, minus = sae.params
                plus[keyPath: path][i] += eps; minus[keyPath: path][i] -= eps
                let lp = referenceLoss(plus, x: x, rows: rows, d: d, s: s, beta: Double(beta), topK: k)
                let lm = referenceLoss(minus, x: x, rows: rows, d: d, s: s, beta: Double(beta), topK: k)
                // One-sided slopes that disagree mean the step crossed a ReLU/TopK kink: not differentiable there.
                if abs((lp - l0) - (l0 - lm)) / Double(eps) > 1e-2 { kinks += 1; continue }
                let fd = (lp - lm) / Double(2 * eps)
                XCTAssertEqual(Double(grad[i]), fd, accuracy: 2e-3 + 2e-2 * abs(fd), "\(name)[\(i)]")
            }
        }
        check(\.wEnc, g.wEnc, "wEnc"); check(\.bEnc, g.bEnc, "bEnc")
        check(\.wDec, g.wDec, "wDec"); check(\.bDec, g.bDec, "bDec")
        XCTAssertLessThan(kinks, 8, "too many parameters sit on a kink for the check to mean much")
    }

    func testGradientsMatchFiniteDifferencesReLU() { checkGradients(activation: .relu) }
    func testGradientsMatchFiniteDifferencesTopK() { checkGradients(activation: .topK(3)) }

    func testNormaliserKinds() {
        let data: [Float] = [1, 10, 3, 30, 5, 50, 7, 70]    // 4 rows × 2
        let rows = [0, 1, 2, 3]
        let pd = SAENormaliser.fit(.perDimension, data: data, dIn: 2, rows: rows)
        XCTAssertEqual(pd.mean, [4, 40])
        XCTAssertEqual(pd.scale[0], Float(5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(pd.scale[1], Float(500).squareRoot(), accuracy: 1e-4)
        let sc = SAENormaliser.fit(.scalarRMS, data: data, dIn: 2, rows: rows)
        XCTAssertEqual(sc.scale[0], sc.scale[1])
        XCTAssertEqual(Double(sc.scale[0]), ((5.0 + 500.0) / 2).squareRoot(), accuracy: 1e-3)
        var x = data
        x.withUnsafeMutableBufferPointer { pd.apply($0.baseAddress!, rows: 4) }
        pd.invert(&x, rows: 4)
        for i in x.indices { XCTAssertEqual(x[i], data[i], accuracy: 1e-4) }
    }

    func testSplitIsByExperiment() {
        var rng = SeededRNG(seed: 5)
        let ids = (0..<100).map { $0 / 10 }
        let split = SAESplit.byExperiment(ids, testFraction: 0.2, rng: &rng)
        XCTAssertEqual(split.testExperiments.count, 2)
        XCTAssertEqual(split.test.count, 20)
        XCTAssertTrue(Set(split.train.map { ids[$0] }).isDisjoint(with: split.test.map { ids[$0] }))
    }

    func testDecoderContributionIsTheEditDirection() {
        var rng = SeededRNG(seed: 9)
        let cfg = SAEConfig(dIn: 6, width: .expansion(2), normalisation: .perDimension)
        let data = (0..<60).map { _ in Float(rng.normal()) * 3 + 1 }
        let norm = SAENormaliser.fit(.perDimension, data: data, dIn: 6, rows: Array(0..<10))
        let sae = SparseAutoencoder(config: cfg, normaliser: norm, rng: &rng)
        XCTAssertEqual(sae.dSAE, 12)
        let x = Array(data[0..<6])
        var h = sae.encode(x, rows: 1)
        let base = sae.reconstruct(x, rows: 1)
        // Reconstruct with latent 3 set to 2.5 and compare to base + contribution difference.
        let old = h[3]
        h[3] = 2.5
        var edited = sae.decode(h, rows: 1)
        sae.normaliser.invert(&edited, rows: 1)
        let delta = zip(sae.decoderContribution(latent: 3, activation: 2.5), sae.decoderContribution(latent: 3, activation: old)).map { $0 - $1 }
        for j in 0..<6 { XCTAssertEqual(edited[j], base[j] + delta[j], accuracy: 1e-4) }
    }
}
