import Foundation
import XCTest
@testable import TDXModels

/// Encoding and decoding of protocol v1 messages, without any process.
final class WorkerCodecTests: XCTestCase {
    private func json(_ frame: WorkerFrame) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: frame.header) as? [String: Any])
    }

    private func roundTrip<T: Codable & Equatable>(_ v: T, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try WorkerFrame(encoding: v)
        XCTAssertFalse(f.header.contains(0x0A), "a header must be one line", file: file, line: line)
        XCTAssertEqual(try WorkerFrame.decode(T.self, from: f.header), v, file: file, line: line)
    }

    func testRequestsRoundTripAndUseTheDraftsFieldNames() throws {
        var hello = WorkerHelloRequest(); hello.id = 1
        try roundTrip(hello)
        XCTAssertEqual(String(decoding: try WorkerFrame(encoding: hello).header, as: UTF8.self), #"{"id":1,"op":"hello","protocol":1}"#)

        let load = WorkerLoadRequest(model: "meta-llama/Llama-3.1-70B", revision: "", dtype: "bfloat16", remote: true)
        try roundTrip(load)
        let lj = try json(WorkerFrame(encoding: load))
        XCTAssertEqual(lj["model"] as? String, "meta-llama/Llama-3.1-70B")
        XCTAssertEqual(lj["remote"] as? Bool, true)
        XCTAssertTrue(String(decoding: try WorkerFrame(encoding: load).header, as: UTF8.self).contains("meta-llama/Llama"),
                      "slashes are not escaped")

        let tok = WorkerTokenizeRequest(text: "two\nlines \"quoted\" é", addSpecial: true)
        try roundTrip(tok)
        XCTAssertEqual(try json(WorkerFrame(encoding: tok))["add_special"] as? Bool, true)
        try roundTrip(WorkerCloseRequest())
    }

    func testSAERegistrationPayloadLayout() throws {
        // d_in 2, width 3: encoder [2 × 3], encoder bias [3], decoder [3 × 2], decoder bias [2], shift [2].
        let sae = SAEDictionary(inputDim: 2, latentCount: 3, encoder: [1, 2, 3, 4, 5, 6], encoderBias: [7, 8, 9],
                                decoder: [10, 11, 12, 13, 14, 15], decoderBias: [16, 17], inputShift: [18, 19],
                                inputScale: 0.05, subtractDecoderBias: true, activation: .topK(2))
        let (h, p) = WorkerSAERequest.make(handle: "s1", sae: sae)
        XCTAssertEqual(h.encoder, PayloadRef(offset: 0, count: 6))
        XCTAssertEqual(h.encoderBias, PayloadRef(offset: 24, count: 3))
        XCTAssertEqual(h.decoder, PayloadRef(offset: 36, count: 6))
        XCTAssertEqual(h.decoderBias, PayloadRef(offset: 60, count: 2))
        XCTAssertEqual(h.inputShift, PayloadRef(offset: 68, count: 2))
        XCTAssertEqual(h.payloadBytes, 76)
        XCTAssertEqual(p.byteCount, 76)
        // Little-endian float32: 18.0 = 0x41900000.
        XCTAssertEqual(Array(p.bytes[68..<72]), [0x00, 0x00, 0x90, 0x41])
        XCTAssertEqual(try p.floats(at: h.decoder), [10, 11, 12, 13, 14, 15])
        try roundTrip(h)
        let j = try json(WorkerFrame(encoding: h, payload: p))
        XCTAssertEqual(j["activation"] as? String, "topk:2")
        XCTAssertEqual(j["d_in"] as? Int, 2)
        XCTAssertEqual(j["width"] as? Int, 3)
        XCTAssertEqual(j["subtract_decoder_bias"] as? Bool, true)
        XCTAssertEqual((j["input_scale"] as? NSNumber).map { Float($0.doubleValue) }, 0.05)
        XCTAssertEqual(j["payload_bytes"] as? Int, 76)
        // Header line, newline, then exactly the payload.
        let f = try WorkerFrame(encoding: h, payload: p)
        XCTAssertEqual(f.bytes.count, f.header.count + 1 + 76)
        XCTAssertEqual(f.bytes[f.header.count], 0x0A)

        let plain = SAEDictionary(inputDim: 1, latentCount: 1, encoder: [1], encoderBias: [0], decoder: [1], decoderBias: [0])
        let (h2, _) = WorkerSAERequest.make(handle: "s2", sae: plain)
        let j2 = try json(WorkerFrame(encoding: h2))
        XCTAssertNil(j2["input_shift"], "no shift: the field is absent")
        XCTAssertEqual(j2["activation"] as? String, "relu")
    }

    func testForwardRequestCarriesEditsOfAllKindsAndNegativePositionsAsGiven() throws {
        var p = WorkerPayload()
        let v = p.append([0.5, -1, 2, 3])
        let edits = [
            WorkerEdit(block: 1, sequences: nil, positions: [-1, 0], operation: .add(v)),
            WorkerEdit(block: 2, sequences: [0], positions: [-2], operation: .saeReconstruct(handle: "s1")),
            WorkerEdit(block: 0, sequences: [1, 0], positions: [3], operation: .saeLatents(handle: "s1", [
                WorkerLatentEdit(LatentEdit(latent: 4, action: .zero)),
                WorkerLatentEdit(LatentEdit(latent: 5, action: .scale(-10))),
                WorkerLatentEdit(LatentEdit(latent: 6, action: .clamp(3.5))),
            ])),
        ]
        let r = WorkerForwardRequest(sequences: [[1, 2, 3], [4, 5]], logitPositions: [[-1], []], captureBlocks: [0, 2],
                                     capturePositions: [[0, -1], [-2]], edits: edits, payloadBytes: p.byteCount)
        try roundTrip(r)
        let j = try json(WorkerFrame(encoding: r, payload: p))
        XCTAssertEqual(j["logit_positions"] as? [[Int]], [[-1], []])
        XCTAssertEqual(j["capture_positions"] as? [[Int]], [[0, -1], [-2]])
        XCTAssertEqual(j["capture_blocks"] as? [Int], [0, 2])
        XCTAssertEqual(j["payload_bytes"] as? Int, 16)
        let e = try XCTUnwrap(j["edits"] as? [[String: Any]])
        XCTAssertTrue(e[0]["sequences"] is NSNull, "null (all sequences) is written out")
        XCTAssertEqual(e[0]["op"] as? String, "add")
        XCTAssertEqual(e[0]["positions"] as? [Int], [-1, 0])
        XCTAssertEqual((e[0]["vector"] as? [String: Int]), ["offset": 0, "count": 4])
        XCTAssertEqual(e[1]["op"] as? String, "sae_reconstruct")
        XCTAssertEqual(e[1]["sae"] as? String, "s1")
        XCTAssertNil(e[1]["vector"])
        XCTAssertEqual(e[2]["op"] as? String, "sae_latents")
        XCTAssertEqual(e[2]["sequences"] as? [Int], [1, 0])
        let l = try XCTUnwrap(e[2]["latents"] as? [[String: Any]])
        XCTAssertEqual(l.map { $0["action"] as? String }, ["zero", "scale", "clamp"])
        XCTAssertNil(l[0]["value"])
        XCTAssertEqual(l[1]["value"] as? Double, -10)
        XCTAssertEqual(l[2]["value"] as? Double, 3.5)
        XCTAssertEqual(try p.floats(at: v), [0.5, -1, 2, 3])

        let bare = WorkerForwardRequest(sequences: [[1]], logitPositions: [[-1]], captureBlocks: [], capturePositions: [[]],
                                        edits: [], payloadBytes: nil)
        XCTAssertNil(try json(WorkerFrame(encoding: bare))["payload_bytes"], "no payload: no payload_bytes")
    }

    func testUnknownEditOpIsRejected() {
        let line = Data(#"{"block":0,"sequences":null,"positions":[1],"op":"multiply"}"#.utf8)
        XCTAssertThrowsError(try WorkerFrame.decode(WorkerEdit.self, from: line)) { e in
            XCTAssertTrue("\(e)".contains("multiply"), "\(e)")
        }
    }

    func testResponsesDecode() throws {
        let load = Data(#"{"id":2,"ok":true,"model_id":"org/m","revision":"abc","dtype":"bfloat16","config":{"blocks":30,"d_model":576,"vocab":49152,"heads":9,"kv_heads":3,"ffn":1536,"context":8192},"bos":null,"add_bos":false}"#.utf8)
        let l = try WorkerFrame.decode(WorkerLoadResponse.self, from: load)
        XCTAssertNil(l.bos)
        XCTAssertEqual(l.config.llamaConfig, LlamaConfig(blockCount: 30, dModel: 576, ffnDim: 1536, headCount: 9, kvHeadCount: 3,
                                                           vocabSize: 49152, contextLength: 8192, tiedEmbeddings: false))
        let minimal = try WorkerFrame.decode(WorkerModelConfig.self, from: Data(#"{"blocks":2,"d_model":8,"vocab":5}"#.utf8))
        XCTAssertEqual(minimal.llamaConfig.headDim, 8)
        XCTAssertEqual(minimal.llamaConfig.ffnDim, 32)

        let fwd = Data(#"{"id":5,"ok":true,"logits":[{"offset":0,"count":14},{"offset":0,"count":0}],"residuals":[{"offset":56,"count":8},{"offset":88,"count":4}],"payload_bytes":104}"#.utf8)
        let f = try WorkerFrame.decode(WorkerForwardResponse.self, from: fwd)
        XCTAssertEqual(f.residuals[1], PayloadRef(offset: 88, count: 4))
        XCTAssertEqual(f.payloadBytes, 104)

        let err = Data(#"{"id":3,"ok":false,"error":{"code":"model_not_found","message":"no such model","help":""}}"#.utf8)
        XCTAssertEqual(try WorkerFrame.decode(WorkerEnvelope.self, from: err).error,
                       WorkerFailure(code: "model_not_found", message: "no such model", help: ""))
        XCTAssertThrowsError(try WorkerFrame.decode(WorkerTokenizeResponse.self, from: Data(#"{"id":3,"ok":true,"ids":[1]}"#.utf8))) { e in
            XCTAssertEqual("\(e)", #""lengths" is missing"#)
        }
    }

    func testHeaderChecksFindGarbage() {
        func problem(_ s: String) -> String? {
            do { _ = try WorkerFrame.object(ofHeader: Data(s.utf8), response: true); return nil } catch { return error.description }
        }
        XCTAssertNil(problem(#"{"id":1,"ok":true}"#))
        XCTAssertNil(problem(#"{"id":1,"ok":false,"payload_bytes":null}"#))
        XCTAssertEqual(problem("Loading shards"), "the header line is not JSON: 'Loading shards'")
        XCTAssertEqual(problem("[1,2]"), "the header line is not a JSON object: '[1,2]'")
        XCTAssertEqual(problem(#"{"ok":true}"#), #"the header has no integer "id": '{"ok":true}'"#)
        XCTAssertNotNil(problem(#"{"id":"1","ok":true}"#))
        XCTAssertNotNil(problem(#"{"id":1.5,"ok":true}"#))
        XCTAssertNotNil(problem(#"{"id":1}"#))
        XCTAssertNotNil(problem(#"{"id":1,"ok":"yes"}"#))
        XCTAssertNotNil(problem(#"{"id":1,"ok":true,"payload_bytes":-4}"#))
        XCTAssertEqual(WorkerFrame.payloadBytes(of: ["payload_bytes": 12]), 12)
    }

    func testPayloadReferencesAreBoundsChecked() {
        var p = WorkerPayload()
        _ = p.append([1, 2, 3])
        XCTAssertEqual(try p.floats(at: PayloadRef(offset: 4, count: 2)), [2, 3])
        XCTAssertEqual(try p.floats(at: PayloadRef(offset: 999, count: 0)), [], "an empty array's offset does not matter")
        XCTAssertThrowsError(try p.floats(at: PayloadRef(offset: 8, count: 2)))
        XCTAssertThrowsError(try p.floats(at: PayloadRef(offset: 2, count: 1)))
        XCTAssertThrowsError(try p.floats(at: PayloadRef(offset: -4, count: 1)))
        XCTAssertThrowsError(try p.floats(at: PayloadRef(offset: 0, count: Int.max / 2)))
    }

    func testErrorsNameTheCommandTheOpAndTheStderrTail() {
        let e = WorkerError(.exited(status: "exited with status 3"), command: "python3 w.py", op: "forward",
                            stderrTail: ["Traceback (most recent call last):", "RuntimeError: boom"])
        XCTAssertEqual(e.message, "worker `python3 w.py` exited with status 3 before it finished answering `forward`")
        XCTAssertEqual(e.help, "check the worker's stderr, which ended with:\n    | Traceback (most recent call last):\n    | RuntimeError: boom")
        let t = WorkerError(.timedOut(seconds: 300), command: "w", op: "load")
        XCTAssertEqual(t.message, "worker `w` did not answer `load` within 300 s and was stopped")
        XCTAssertTrue(t.help!.contains("TDX_WORKER_TIMEOUT") && t.help!.contains("run the command by hand"))
        XCTAssertEqual(WorkerProcess.shellQuoted(["python3", "-m", "tdx worker", "it's"]), #"python3 -m 'tdx worker' 'it'\''s'"#)
    }

    func testTimeoutsComeFromTheEnvironment() {
        XCTAssertEqual(WorkerProcess.Timeouts.standard(environment: [:]), WorkerProcess.Timeouts(load: 600, request: 300))
        let t = WorkerProcess.Timeouts.standard(environment: ["TDX_WORKER_TIMEOUT": "42.5"])
        XCTAssertEqual(t.load, 42.5)
        XCTAssertEqual(t.request, 42.5)
        XCTAssertEqual(WorkerProcess.Timeouts.standard(environment: ["TDX_WORKER_TIMEOUT": "soon"]).load, 600)
    }
}
