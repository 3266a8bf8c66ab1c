import Foundation
import XCTest
import TDXCore
@testable import TDXModels

/// WorkerBackend against the well-behaved fake (3 blocks, d 4, vocabulary 7). The fake's logits at
/// absolute position p of sequence s are 1000 s + 10 p + v; its residual after block b is
/// 1000 s + 100 b + p + j/4, plus every add edit at a block ≤ b.
final class WorkerBackendTests: XCTestCase {
    private func backend(echo: String? = nil, mode: String = "good", at op: String = "-") throws -> WorkerBackend {
        try WorkerBackend(command: WorkerFake.command(mode, at: op, echo: echo), model: "tiny", revision: "", dtype: "auto",
                          timeouts: WorkerFake.quick)
    }

    private func sae(_ seed: Float) -> SAEDictionary {
        SAEDictionary(inputDim: 4, latentCount: 2, encoder: (0..<8).map { Float($0) + seed }, encoderBias: [seed, 0],
                      decoder: (0..<8).map { Float($0) * seed }, decoderBias: [0, 0, 0, seed], inputScale: 0.5)
    }

    func testLoadGivesConfigIdentityAndBOS() throws {
        let b = try backend()
        XCTAssertEqual(b.config, LlamaConfig(blockCount: 3, dModel: 4, ffnDim: 8, headCount: 2, kvHeadCount: 1,
                                             vocabSize: 7, contextLength: 64, tiedEmbeddings: false))
        XCTAssertEqual(b.identity, "worker=fake model=fake/tiny revision=main dtype=float32")
        XCTAssertEqual(b.source, "fake/tiny")
        XCTAssertEqual(b.bos, 1)
        XCTAssertTrue(b.addBOS)
        XCTAssertEqual(b.workerVersion, "0.1")
        b.close()
    }

    func testTokenizeWithByteLengths() throws {
        let b = try backend()
        let t = try b.tokenizeWithLengths("aé€", addSpecial: true)
        XCTAssertEqual(t.ids, [1, 2 + 97 % 5, 2 + 233 % 5, 2 + 8364 % 5])
        XCTAssertEqual(t.lengths, [0, 1, 2, 3])
        XCTAssertEqual(try b.tokenize("ab", addSpecial: false).count, 2)
        XCTAssertThrowsError(try b.detokenize([1])) { e in
            guard case .unsupported = (e as? WorkerError)?.kind else { return XCTFail("\(e)") }
        }
    }

    func testForwardLayoutsAndNegativePositions() throws {
        let echo = WorkerFake.echoFile()
        let b = try backend(echo: echo)
        let req = ForwardRequest(sequences: [[1, 2, 3], [4, 5]], logitPositions: [[-1, 0], []], captureBlocks: [2, 0],
                                 capturePositions: [[-1], [0, -2, 1]])
        let r = try b.forward(req, caches: nil)
        // Logits [P × V]: positions 2 and 0 of sequence 0; none for sequence 1.
        XCTAssertEqual(r.logits[0], (0..<7).map { 20 + Float($0) } + (0..<7).map { Float($0) })
        XCTAssertEqual(r.logits[1], [])
        XCTAssertEqual(Array(r.logits(sequence: 0, index: 1, vocab: 7)), (0..<7).map(Float.init))
        // Residuals [B × C × d], block-major in the requested block order.
        let q: [Float] = [0, 0.25, 0.5, 0.75]
        XCTAssertEqual(r.residuals[0], q.map { 202 + $0 } + q.map { 2 + $0 })
        XCTAssertEqual(r.residuals[1], [1200, 1200, 1201, 1000, 1000, 1001].flatMap { base in q.map { base + $0 } })
        // Positions travel as given.
        let sent = try XCTUnwrap(WorkerFake.echoed(echo).last?["header"] as? [String: Any])
        XCTAssertEqual(sent["logit_positions"] as? [[Int]], [[-1, 0], []])
        XCTAssertEqual(sent["capture_positions"] as? [[Int]], [[-1], [0, -2, 1]])
        XCTAssertNil(sent["payload_bytes"])
        b.close()
    }

    func testEditsAreSerialisedAndEachSAERegisteredOnce() throws {
        let echo = WorkerFake.echoFile()
        let b = try backend(echo: echo)
        let s1 = sae(1), s2 = sae(2)
        var copy = s1
        copy.encoder = s1.encoder.map { $0 }   // same content, new storage: found by its digest
        let req = ForwardRequest(sequences: [[1, 2, 3], [4, 5]], logitPositions: [[], []], captureBlocks: [1],
                                 capturePositions: [[-1], [0]], edits: [
            ResidualEdit(block: 0, sequences: nil, positions: [-1], operation: .add([1, 2, 3, 4])),
            ResidualEdit(block: 1, sequences: [1], positions: [0], operation: .add([10, 0, 0, 0])),
            ResidualEdit(block: 1, sequences: [0], positions: [-2], operation: .saeReconstruct(s1)),
            ResidualEdit(block: 2, positions: [0], operation: .saeLatents(copy, [LatentEdit(latent: 1, action: .clamp(3.5))])),
            ResidualEdit(block: 2, positions: [1], operation: .saeLatents(s2, [LatentEdit(latent: 0, action: .zero)])),
        ])
        let r = try b.forward(req, caches: [nil, nil])
        let q: [Float] = [0, 0.25, 0.5, 0.75]
        XCTAssertEqual(r.residuals[0], zip(q.map { 102 + $0 }, [1, 2, 3, 4]).map { $0 + $1 }, "add at block 0, position -1")
        XCTAssertEqual(r.residuals[1], zip(q.map { 1100 + $0 }, [10, 0, 0, 0]).map { $0 + $1 }, "add at block 1 on sequence 1 only")
        _ = try b.forward(req, caches: nil)

        let log = try WorkerFake.echoed(echo)
        let ops = log.compactMap { ($0["header"] as? [String: Any])?["op"] as? String }
        XCTAssertEqual(ops, ["hello", "load", "sae", "sae", "forward", "forward"], "two distinct SAEs, each sent once")
        let reg = try XCTUnwrap(log[2]["header"] as? [String: Any])
        XCTAssertEqual(reg["handle"] as? String, "s1")
        XCTAssertEqual(reg["d_in"] as? Int, 4)
        XCTAssertEqual(reg["width"] as? Int, 2)
        XCTAssertEqual(reg["activation"] as? String, "relu")
        let arrays = try XCTUnwrap(log[2]["arrays"] as? [String: [Double]])
        XCTAssertEqual(arrays["encoder"], (0..<8).map { Double($0) + 1 })
        XCTAssertEqual(arrays["decoder_bias"], [0, 0, 0, 1])
        XCTAssertNil(arrays["input_shift"])
        XCTAssertEqual((log[3]["header"] as? [String: Any])?["handle"] as? String, "s2")

        let fwd = try XCTUnwrap(log[4]["header"] as? [String: Any])
        let edits = try XCTUnwrap(fwd["edits"] as? [[String: Any]])
        XCTAssertEqual(edits.map { $0["op"] as? String }, ["add", "add", "sae_reconstruct", "sae_latents", "sae_latents"])
        XCTAssertTrue(edits[0]["sequences"] is NSNull)
        XCTAssertEqual(edits[0]["positions"] as? [Int], [-1])
        XCTAssertEqual(edits[1]["sequences"] as? [Int], [1])
        XCTAssertEqual(edits[2]["sae"] as? String, "s1")
        XCTAssertEqual(edits[2]["positions"] as? [Int], [-2])
        XCTAssertEqual(edits[3]["sae"] as? String, "s1")
        let latent = try XCTUnwrap((edits[3]["latents"] as? [[String: Any]])?.first)
        XCTAssertEqual(latent["latent"] as? Int, 1)
        XCTAssertEqual(latent["action"] as? String, "clamp")
        XCTAssertEqual(latent["value"] as? Double, 3.5)
        XCTAssertEqual(edits[4]["sae"] as? String, "s2")
        XCTAssertEqual(fwd["payload_bytes"] as? Int, 32)
        XCTAssertEqual(log[4]["vectors"] as? [[Double]], [[1, 2, 3, 4], [10, 0, 0, 0]])
        b.close()
    }

    func testRejectsCachesAndBadRequestsBeforeSending() throws {
        let b = try backend()
        let req = ForwardRequest(sequences: [[1, 2]])
        XCTAssertThrowsError(try b.forward(req, caches: [KVCache(config: b.config)])) { e in
            guard case .unsupported(let d) = (e as? WorkerError)?.kind else { return XCTFail("\(e)") }
            XCTAssertTrue(d.contains("KV cache"))
        }
        var mismatched = req
        mismatched.capturePositions = []
        XCTAssertThrowsError(try b.forward(mismatched, caches: nil)) { e in
            guard case .badRequest = (e as? WorkerError)?.kind else { return XCTFail("\(e)") }
        }
        let wrongWidth = ForwardRequest(sequences: [[1]], edits: [ResidualEdit(block: 0, positions: [0], operation: .add([1]))])
        XCTAssertThrowsError(try b.forward(wrongWidth, caches: nil))
        XCTAssertTrue(b.process.isRunning, "nothing was sent, the worker is fine")
        XCTAssertEqual(try b.forward(req, caches: nil).logits[0].count, 7)
        b.close()
    }

    func testInProcessEngineGivesByteLengthsToo() throws {
        let m = try ForwardTests.tiny()
        let text = "the é <s> then"
        let t = try m.tokenizeWithLengths(text, addSpecial: true)
        XCTAssertEqual(t.ids, m.tokenizer.encode(text, addSpecial: true))
        XCTAssertEqual(t.lengths.reduce(0, +), text.utf8.count)
        if m.tokenizer.addBOS { XCTAssertEqual(t.lengths.first, 0) }
    }

    func testLoadFailureStopsTheWorker() throws {
        XCTAssertThrowsError(try backend(mode: "fail", at: "load")) { e in
            XCTAssertEqual((e as? WorkerError)?.kind,
                           .workerFailed(code: "model_not_found", message: "no model named x", help: "check the model id"))
        }
    }

    func testWorkerDyingInForwardIsAUserError() throws {
        let b = try backend(mode: "die", at: "forward")
        XCTAssertThrowsError(try b.forward(ForwardRequest(sequences: [[1]]), caches: nil)) { e in
            XCTAssertEqual((e as? WorkerError)?.kind, .exited(status: "exited with status 3"))
            XCTAssertTrue(e is any UserError)
        }
        XCTAssertThrowsError(try b.tokenize("x", addSpecial: false)) { e in
            XCTAssertEqual((e as? WorkerError)?.kind, .notRunning)
        }
    }
}
