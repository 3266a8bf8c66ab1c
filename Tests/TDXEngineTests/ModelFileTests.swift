import Foundation
import XCTest
@testable import TDXEngine
import TDXLang
import TDXModels
import TDXPlan
import TDXStore

final class ModelFileTests: XCTestCase {
    /// A weights file changed after the model stage checked it (a copy damaged later, a file replaced) stops
    /// the next stage that loads it, instead of running under the key of the file that was checked.
    func testAFileChangedAfterTheModelStageIsRefused() throws {
        let sb = try Sandbox()
        // The built-in model, from a copy: a named model is keyed by its pin, not by hashing the file at plan
        // time (a file given by path is, so a changed one simply gets new stages).
        let models = sb.dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let copy = models.appendingPathComponent(ModelStore.knownModel("smollm2-135m")!.file)
        try FileManager.default.copyItem(atPath: try defaultModelPath(), toPath: copy.path)
        let saved = ProcessInfo.processInfo.environment["TDX_MODELS"]
        setenv("TDX_MODELS", models.path, 1)
        defer { if let saved { setenv("TDX_MODELS", saved, 1) } else { unsetenv("TDX_MODELS") } }
        let path = try sb.write("""
            tdx 1
            model llm { weights = "smollm2-135m" }
            task two_step { experiments = 1  episodes = 2  random_episodes = 1 }

            """)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        let engine = Engine(registry: StandardStages.registry)
        let checked = try engine.plan(spec, specPath: path, store: try Store(path: sb.cache), options: Plan.Options(until: ["model"]))
        _ = try engine.run(checked, spec: spec, specPath: path, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)

        let handle = try FileHandle(forUpdating: copy)
        try handle.seek(toOffset: 4_000_000)
        let byte = try XCTUnwrap(handle.readData(ofLength: 1).first)
        try handle.seek(toOffset: 4_000_000)
        handle.write(Data([byte ^ 0xFF]))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: copy.path)

        // A later process: a fresh engine, which has not loaded the model yet.
        let engine2 = Engine(registry: StandardStages.registry)
        let info = try JSONDecoder().decode(ModelInfoRecord.self, from: try Store(path: sb.cache).readData(key: checked.graph[id: "model"]!.key, blob: "model"))
        XCTAssertEqual(info.path, copy.path)
        let plan = try engine2.plan(spec, specPath: path, store: try Store(path: sb.cache))
        XCTAssertEqual(plan.graph[id: "model"]?.key, checked.graph[id: "model"]?.key, "the planner keys a built-in model by its pin")
        XCTAssertThrowsError(try engine2.run(plan, spec: spec, specPath: path, storePath: sb.cache,
                                            options: Executor.Options(jobs: 1), io: quietIO)) { e in
            XCTAssertTrue("\(e)".contains("changed since the model stage checked it"), "\(e)")
        }
        XCTAssertFalse(try Store(path: sb.cache).hasArtifact(plan.graph[id: "rollout"]!.key))
    }
}
