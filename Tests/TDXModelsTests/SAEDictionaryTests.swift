import TDXCore
import XCTest
@testable import TDXModels

/// The row-batched SAE encode/decode the forward pass edits with, against the one-vector reference.
final class SAEDictionaryTests: XCTestCase {
    func testRowsMatchOneVectorAtATimeOnOddShapes() {
        var rng = SeededRNG(seed: 21)
        for (d, s, n) in [(5, 7, 1), (13, 31, 9), (24, 67, 33)] {
            for activation in [SAEDictionary.Activation.relu, .topK(3)] {
                var sae = ForwardTests.randomSAE(d: d, latents: s, seed: UInt64(d * s))
                sae.activation = activation
                let x = (0..<(n * d)).map { _ in Float(rng.normal()) }
                let f = x.withUnsafeBufferPointer { sae.encode(rows: $0.baseAddress!, count: n) }
                let y = sae.decode(rows: f, count: n)
                XCTAssertEqual(f.count, n * s); XCTAssertEqual(y.count, n * d)
                for i in 0..<n {
                    let fi = x.withUnsafeBufferPointer { sae.encode($0.baseAddress! + i * d) }
                    XCTAssertEqual(f[(i * s)..<((i + 1) * s)].filter { $0 > 0 }.count, fi.filter { $0 > 0 }.count, "\(d)×\(s) row \(i)")
                    for j in 0..<s { XCTAssertEqual(f[i * s + j], fi[j], accuracy: 1e-5, "\(activation) \(d)×\(s) row \(i) latent \(j)") }
                    let yi = sae.decode(fi)
                    for j in 0..<d { XCTAssertEqual(y[i * d + j], yi[j], accuracy: 1e-4, "\(activation) \(d)×\(s) row \(i) dim \(j)") }
                }
            }
        }
    }

    /// A row listed twice in one edit is edited twice, in order.
    func testRepeatedRowsAreEditedAgain() throws {
        let m = try ForwardTests.tiny()
        let d = m.config.dModel
        let s = [7, 8, 9, 10, 11]
        let req = { (edits: [ResidualEdit]) in ForwardRequest(sequences: [s], captureBlocks: [0], capturePositions: [[2]], edits: edits) }
        var v = [Float](repeating: 0, count: d); v[1] = 0.75
        let once = try m.forward(req([ResidualEdit(block: 0, positions: [2], operation: .add(v))]))
        let twice = try m.forward(req([ResidualEdit(block: 0, positions: [2, 2], operation: .add(v))]))
        let base = try m.forward(req([]))
        XCTAssertEqual(once.residuals[0][1], base.residuals[0][1] + 0.75, accuracy: 1e-5)
        XCTAssertEqual(twice.residuals[0][1], base.residuals[0][1] + 1.5, accuracy: 1e-5)
        // The reconstruction applied twice is x̂ of x̂.
        let sae = ForwardTests.randomSAE(d: d, latents: 16, seed: 4)
        let r2 = try m.forward(req([ResidualEdit(block: 0, positions: [2, 2], operation: .saeReconstruct(sae))]))
        let x = Array(base.residuals[0][0..<d])
        let once1 = sae.decode(x.withUnsafeBufferPointer { sae.encode($0.baseAddress!) })
        let want = sae.decode(once1.withUnsafeBufferPointer { sae.encode($0.baseAddress!) })
        for j in 0..<d { XCTAssertEqual(r2.residuals[0][j], want[j], accuracy: 1e-4) }
    }
}
