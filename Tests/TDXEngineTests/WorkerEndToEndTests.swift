import Foundation
import XCTest
import TDXCore
@testable import TDXEngine
import TDXLang
import TDXModels
import TDXPlan
import TDXStore

/// The same small spec run twice: once with the in-process Swift engine, once with the NumPy reference
/// worker (workers/numpy_reference) in its place over the same GGUF file, through every stage. The closed
/// loop must make the same choices (same seed) and record the same activations (1e-3 relative); the
/// intervention runs through the worker; a worker's identity keys the cache apart from the engine's.
final class WorkerEndToEndTests: XCTestCase {
    static let workersDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../workers").standardized.path

    func spec(model: String) -> String {
        """
        tdx 1
        seed = 3
        \(model)
        task two_step { experiments = 2  episodes = 3  random_episodes = 1 }
        agent q_learning {}
        activations { layers = [2, 9] }
        sae { expansion = 1  epochs = 1 }
        correlate { with = [td_error]  null = permutation(10)  bootstrap = 10 }
        intervene lesion { layer = 2  latent = top(td_error)  experiments = 1  control = none  baseline = false }
        report {}

        """
    }

    func run(_ text: String, in sb: Sandbox, name: String) throws -> (Plan, Store) {
        let path = try sb.write(text, name)
        let checked = Frontend.check(path: path)
        let spec = try XCTUnwrap(checked.spec, DiagnosticRenderer(sources: checked.sources).render(checked.diagnostics))
        let engine = Engine(registry: StandardStages.registry)
        let cache = sb.dir.appendingPathComponent("\(name).sqlite").path
        let plan = try engine.plan(spec, specPath: path, store: try Store(path: cache))
        _ = try engine.run(plan, spec: spec, specPath: path, storePath: cache, options: Executor.Options(jobs: 1), io: quietIO)
        return (plan, try Store(path: cache))
    }

    func testNumpyWorkerPlaysLikeTheSwiftEngine() throws {
        let script = Self.workersDir + "/numpy_reference/tdx_numpy_worker.py"
        guard FileManager.default.fileExists(atPath: script) else { throw XCTSkip("no NumPy worker at \(script)") }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import numpy"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { throw XCTSkip("python3 is not installed") }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { throw XCTSkip("numpy is missing: apt-get install python3-numpy") }
        let weights = try defaultModelPath()
        let sb = try Sandbox()
        let (lp, ls) = try run(spec(model: "model llm { weights = \"\(weights)\" }"), in: sb, name: "local")
        let (wp, ws) = try run(spec(model: "model llm { backend = worker  command = [\"python3\", \"\(script)\"]  weights = \"\(weights)\" }"),
                               in: sb, name: "worker")
        XCTAssertNotEqual(lp.graph[id: "rollout"]?.key, wp.graph[id: "rollout"]?.key, "the backend is part of the keys")
        let info = try JSONDecoder().decode(ModelInfoRecord.self, from: ws.readData(key: wp.graph[id: "model"]!.key, blob: "model"))
        XCTAssertTrue(info.backend?.contains("dtype=float32") ?? false, info.backend ?? "no backend identity")

        let a = try RolloutData.decode(try ls.readString(key: lp.graph[id: "rollout"]!.key, blob: "rollout"))
        let b = try RolloutData.decode(try ws.readString(key: wp.graph[id: "rollout"]!.key, blob: "rollout"))
        XCTAssertEqual(a.experiments.map(\.transcript.text), b.experiments.map(\.transcript.text))
        XCTAssertEqual(a.experiments.map { $0.tokens?.ids ?? [] }, b.experiments.map { $0.tokens?.ids ?? [] })
        for (ea, eb) in zip(a.experiments, b.experiments) {
            for (x, y) in zip(ea.transcript.events, eb.transcript.events) {
                XCTAssertEqual(x.chosen, y.chosen)
                for (p, q) in zip(x.probabilities ?? [], y.probabilities ?? []) { XCTAssertEqual(p, q, accuracy: 1e-4) }
            }
        }
        // The intervention edits through an SAE registered with the worker. (Which latent is "top" can differ
        // between the backends: a near-tie among a tiny SAE's latents; the edit itself is compared with the
        // engine's in WorkerNumpyCrossCheckTests.)
        let ib = try InterventionResult.decode(try ws.readString(key: wp.graph[id: "intervene[lesion]"]!.key, blob: "intervention"))
        XCTAssertEqual(ib.conditions.map(\.name), ["intact", "latent"])
        XCTAssertEqual(ib.conditions.last?.perExperiment.count, 1)
        for layer in [2, 9] {
            let xa = try ls.readFloats(key: lp.graph[id: "activations[\(layer)]"]!.key, blob: "x")
            let xb = try ws.readFloats(key: wp.graph[id: "activations[\(layer)]"]!.key, blob: "x")
            XCTAssertEqual(xa.count, xb.count)
            XCTAssertGreaterThan(xa.count, 0)
            let d = 576
            for r in 0..<(xa.count / d) {
                let u = xa[(r * d)..<((r + 1) * d)], v = xb[(r * d)..<((r + 1) * d)]
                let err = zip(u, v).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                let norm = u.map { $0 * $0 }.reduce(0, +).squareRoot()
                XCTAssertLessThan(err / norm, 1e-3, "block \(layer) row \(r)")
            }
        }
    }
}
