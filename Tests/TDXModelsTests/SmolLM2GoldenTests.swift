import Foundation
import XCTest
@testable import TDXModels

/// The real SmolLM2-135M-Instruct against golden values from shared/tools/reference_forward.py.
final class SmolLM2GoldenTests: XCTestCase {
    nonisolated(unsafe) static var cached: LanguageModel?

    static func model() throws -> LanguageModel {
        if let m = cached { return m }
        let m = try LanguageModel.load(path: TestData.smolLM2())
        cached = m
        return m
    }

    struct Golden: Decodable {
        var tokens: [String]; var ids: [Int]; var dims: [Int]
        var residual_after_block: [String: [[Float]]]
        var top20_ids: [[Int]]; var top20_logits: [[Float]]
    }

    /// max |a − b| / max |b| over a vector.
    func relErr(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()! / b.map(abs).max()!
    }

    func testCapitalOfFrance() throws {
        let m = try Self.model()
        let ids = m.tokenizer.encode("The capital of France is")
        let out = try m.forward(ForwardRequest(sequences: [ids]))
        let top = out.logits[0].indices.sorted { out.logits[0][$0] > out.logits[0][$1] }.prefix(5)
        XCTAssertEqual(top.map { m.tokenizer.decode([$0]) }, [" Paris", " the", " London", " Le", " New"])

        let next = try m.forward(ForwardRequest(sequences: [m.tokenizer.encode("One, two, three, four,")]))
        XCTAssertEqual(m.tokenizer.decode([ReadOut.argmax(next.logits[0])]), " five")
    }

    func testLogitsAndResidualsMatchReference() throws {
        let m = try Self.model()
        let g = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: TestData.fixtures.appendingPathComponent("smollm2_capital_golden.json")))
        XCTAssertEqual(g.ids.map { m.tokenizer.tokens[$0] }, g.tokens)
        let T = g.ids.count, d = m.config.dModel, V = m.config.vocabSize
        let blocks = [0, 14, 29]
        let out = try m.forward(ForwardRequest(sequences: [g.ids], logitPositions: [Array(0..<T)], captureBlocks: blocks,
                                               capturePositions: [Array(0..<T)]))
        for (bi, b) in blocks.enumerated() {
            for p in 0..<T {
                let got = g.dims.map { out.residuals[0][(bi * T + p) * d + $0] }
                let want = g.residual_after_block[String(b)]![p]
                XCTAssertLessThanOrEqual(relErr(got, want), 1e-3, "residual after block \(b) at position \(p)")
            }
        }
        for p in 0..<T {
            let got = g.top20_ids[p].map { out.logits[0][p * V + $0] }
            XCTAssertLessThanOrEqual(relErr(got, g.top20_logits[p]), 1e-3, "logits at position \(p)")
            let top = (0..<V).max { out.logits[0][p * V + $0] < out.logits[0][p * V + $1] }!
            XCTAssertEqual(top, g.top20_ids[p][0], "argmax at position \(p)")
        }
    }
}
