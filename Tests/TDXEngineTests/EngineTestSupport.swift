import Foundation
import XCTest
import TDXCore
@testable import TDXEngine
import TDXLang
import TDXModels
import TDXPlan
import TDXStore

let baseSpec = """
tdx 1
seed = 7
task two_step { experiments = 4  episodes = 6  random_episodes = 2 }
agent q_learning { α = 0.1 }
agent myopic {}
fit behaviour {}
activations { layers = [1, 5, 9] }
sae { epochs = 5 }
correlate { with = [td_error, q_value] }
intervene lesion { layer = peak(td_error) }
report {}

"""

final class Sandbox {
    let dir: URL
    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tdx-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: dir) }
    var cache: String { dir.appendingPathComponent("cache.sqlite").path }
    var results: String { dir.appendingPathComponent("results").path }
    @discardableResult
    func write(_ text: String, _ name: String = "spec.tdx") throws -> String {
        let p = dir.appendingPathComponent(name).path
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }
}

let quietIO = CommandIO(out: { _ in }, err: { _ in })

/// Plans (and optionally runs) a spec file against a cache with the test stages.
@discardableResult
func planAndRun(_ path: String, cache: String, versions: [StageKind: Int] = [:], run: Bool = true,
                options: Plan.Options = Plan.Options()) throws -> (Plan, Executor.Summary?) {
    let r = Frontend.check(path: path)
    guard let spec = r.spec else { throw UsageError(DiagnosticRenderer(sources: r.sources).render(r.diagnostics)) }
    let engine = Engine(registry: TestStage.registry(versions: versions))
    let store = try Store(path: cache)
    let plan = try engine.plan(spec, specPath: path, store: store, options: options)
    guard run else { return (plan, nil) }
    let s = try engine.run(plan, spec: spec, specPath: path, storePath: cache, options: Executor.Options(jobs: 2), io: quietIO)
    return (plan, s)
}

/// Stage id → the test stage's output value, for every cached stage of a plan.
func values(_ plan: Plan, cache: String) throws -> [String: String] {
    let store = try Store(path: cache)
    var out: [String: String] = [:]
    for s in plan.graph.stages where try store.hasArtifact(s.key) { out[s.id] = try store.readString(key: s.key, blob: "value") }
    return out
}

/// The built `tdx` executable beside the test bundle, if it was built.
var tdxExecutable: String? {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [dir.appendingPathComponent("tdx").path, dir.deletingLastPathComponent().appendingPathComponent("tdx").path]
        where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    return nil
}

func spawnTDX(_ args: [String], env extra: [String: String]) throws -> Process {
    guard let exe = tdxExecutable else { throw XCTSkip("the tdx executable is not built next to the tests (run `swift build` first)") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    for (k, v) in extra { env[k] = v }
    p.environment = env
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

/// The default model's path; skips the test when the model is not fetched.
@discardableResult
func defaultModelPath() throws -> String {
    guard let path = try? ModelStore(environment: ProcessInfo.processInfo.environment).resolve("smollm2-135m") else {
        throw XCTSkip("the default model is not fetched (scripts/test.sh runs `tdx model fetch` first)")
    }
    return path
}
