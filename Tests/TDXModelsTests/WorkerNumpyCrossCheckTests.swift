import Foundation
import TDXCore
import XCTest
@testable import TDXModels

/// The in-process engine and the NumPy reference worker (workers/numpy_reference, through WorkerBackend)
/// on the same tiny F32 GGUF: same tokens and byte lengths, same logits and residuals, with every edit kind.
/// Skipped when the worker script (or numpy) is not there; TDX_NUMPY_WORKER names the script explicitly.
final class WorkerNumpyCrossCheckTests: XCTestCase {
    private func workerScript() throws -> String {
        let env = ProcessInfo.processInfo.environment["TDX_NUMPY_WORKER"]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = env ?? root.appendingPathComponent("workers/numpy_reference/tdx_numpy_worker.py").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("no NumPy reference worker at \(path) (set TDX_NUMPY_WORKER to its script)")
        }
        _ = try WorkerFake.command()   // skips without python3
        return path
    }

    func testWorkerMatchesTheInProcessEngine() throws {
        let script = try workerScript()
        let dir = scratchDirectory()
        let url = dir.appendingPathComponent("tiny.gguf")
        try Data(TinyModel(seed: 5, quantizedAs: .f32).gguf(.f32)).write(to: url)
        let engine = try LanguageModel.load(path: url.path)
        let worker: WorkerBackend
        do {
            worker = try WorkerBackend(command: ["python3", script], model: url.path, dtype: "float32", timeouts: WorkerFake.quick)
        } catch {
            if case .workerFailed(code: "missing_dependency", _, _) = error.kind { throw XCTSkip("the NumPy worker lacks numpy") }
            throw error
        }
        defer { worker.close() }
        let c = engine.config
        XCTAssertEqual(worker.config.blockCount, c.blockCount)
        XCTAssertEqual(worker.config.dModel, c.dModel)
        XCTAssertEqual(worker.config.vocabSize, c.vocabSize)

        for text in ["the cat sat on the mat", "é then <s> at end"] {
            let w = try worker.tokenizeWithLengths(text, addSpecial: true), e = try engine.tokenizeWithLengths(text, addSpecial: true)
            XCTAssertEqual(w.ids, e.ids, text)
            XCTAssertEqual(w.lengths, e.lengths, text)
        }

        var rng = SeededRNG(seed: 9)
        let d = c.dModel, width = 12
        func normal(_ n: Int, _ s: Float) -> [Float] { (0..<n).map { _ in Float(rng.normal()) * s } }
        let sae = SAEDictionary(inputDim: d, latentCount: width, encoder: normal(d * width, 0.3), encoderBias: normal(width, 0.1),
                                decoder: normal(width * d, 0.3), decoderBias: normal(d, 0.1), inputShift: normal(d, 0.05),
                                inputScale: 0.7, subtractDecoderBias: true, activation: .topK(5))
        let req = ForwardRequest(
            sequences: [[3, 99, 260, 17, 45, 200, 8], [150, 42, 11]],
            logitPositions: [[-1, 2], [-1]], captureBlocks: [c.blockCount - 1, 0], capturePositions: [[-1, 1], [0, -2]],
            edits: [
                ResidualEdit(block: 0, sequences: nil, positions: [-1], operation: .add(normal(d, 0.5))),
                ResidualEdit(block: 0, sequences: [0], positions: [1, 3], operation: .saeLatents(sae, [
                    LatentEdit(latent: 0, action: .clamp(2.5)), LatentEdit(latent: 3, action: .scale(-2)), LatentEdit(latent: 7, action: .zero),
                ])),
                ResidualEdit(block: 1, sequences: [1], positions: [0], operation: .saeReconstruct(sae)),
            ])
        let e = try engine.forward(req, caches: nil), w = try worker.forward(req, caches: nil)
        for s in 0..<2 {
            assertClose(w.logits[s], e.logits[s], "logits of sequence \(s)")
            assertClose(w.residuals[s], e.residuals[s], "residuals of sequence \(s)")
        }
    }

    private func assertClose(_ a: [Float], _ b: [Float], _ msg: String, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, msg, line: line)
        let err = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(err, 1e-3 * max(1, b.map(abs).max() ?? 0), msg, line: line)
    }
}
