import Foundation
import XCTest
import TDXCore
@testable import TDXEngine
import TDXLang
import TDXModels
import TDXPlan
import TDXRL
import TDXStore
import TDXTasks

final class StandardStagesTests: XCTestCase {
    private func defaults(_ kind: String) throws -> Params {
        let spec = try XCTUnwrap(Frontend.check(text: "tdx 1\ntask \(kind) {}\n", path: "d.tdx").spec)
        let values = Dictionary(uniqueKeysWithValues: spec.task!.params.map { ("task.\($0.name)", $0.value) })
        return Params(values, prefix: "task")
    }

    /// The schema's defaults (what `check --resolved` prints) are the task library's defaults.
    func testSchemaDefaultsMatchTheTaskLibrary() throws {
        XCTAssertEqual(SpecConfigs.twoStep(try defaults("two_step")), TwoStepConfig())
        let grid = SpecConfigs.gridWorld(try defaults("grid_world"), agent: nil)
        XCTAssertEqual(grid.prompt, GridWorldPrompt())
        XCTAssertEqual(grid.actionLabels, GridWorldConfig().actionLabels)
        XCTAssertEqual(grid.size, GridWorldConfig().size)
        let graph = SpecConfigs.graph(try defaults("graph"))
        XCTAssertEqual(graph.intro, GraphConfig().intro)
        XCTAssertEqual(graph.separator, GraphConfig().separator)
        XCTAssertEqual(graph.graph, GraphConfig().graph)
    }

    /// Partial residuals: over the rows all variables share, orthogonal to the intercept and every control;
    /// a constant or repeated control changes nothing; a variable that is a control plus noise keeps the noise.
    func testPartialResiduals() {
        let y: Partial.Aligned = ([0, 1, 2, 3, 4, 5], [3, 1, 4, 1, 5, 9])
        let c1: Partial.Aligned = ([0, 1, 2, 3, 5], [1, 0, 2, 0, 7])   // row 4 undefined
        let r = Partial.residuals(y, controls: [c1, ([0, 1, 2, 3, 4, 5], [2, 2, 2, 2, 2, 2]), c1])
        XCTAssertEqual(r.rows, [0, 1, 2, 3, 5])
        XCTAssertEqual(r.values.reduce(0, +), 0, accuracy: 1e-12)
        XCTAssertEqual(zip(r.values, c1.values).map { $0 * $1 }.reduce(0, +), 0, accuracy: 1e-12)
        // y = 3,1,4,1,9 on [1, c1 = 1,0,2,0,7]: numpy.linalg.lstsq gives intercept 116/85 and slope 19/17.
        assertClose(r.values, [3, 1, 4, 1, 9].enumerated().map { $1 - 116.0 / 85 - 19.0 / 17 * [1, 0, 2, 0, 7][$0] })
        let noise: [Double] = [1, -1, 0, 0, -1, 1]   // orthogonal to 1 and to 0…5
        let z = Partial.residuals(([0, 1, 2, 3, 4, 5], (0..<6).map { 2 * Double($0) + noise[$0] }),
                                  controls: [([0, 1, 2, 3, 4, 5], (0..<6).map(Double.init))])
        assertClose(z.values, noise)
        XCTAssertEqual(CorrelateStage.controlColumns(for: "q.td_error", partial: ["reward", "td_error"],
                                                      available: ["m.reward", "q.reward", "q.td_error"]), ["q.reward"])
        XCTAssertEqual(CorrelateStage.controlColumns(for: "sr.sr_td_error", partial: ["reward"], available: ["m.reward", "b.reward"]),
                       ["b.reward"])
    }

    private func assertClose(_ a: [Double], _ b: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-12, file: file, line: line) }
    }

    /// Closed-loop batches: at most 25 experiments, fewer when their KV caches would pass 3 GiB, split evenly.
    func testClosedLoopBatch() {
        typealias R = LanguageModelRollout
        let smol = LlamaConfig(blockCount: 30, dModel: 576, ffnDim: 1536, headCount: 9, kvHeadCount: 3, vocabSize: 49152, tiedEmbeddings: true)
        XCTAssertEqual(R.closedLoopBatch(experiments: 100, tokens: 2020, config: smol), 25)
        XCTAssertEqual(R.closedLoopBatch(experiments: 25, tokens: 2020, config: smol), 25)
        XCTAssertEqual(R.closedLoopBatch(experiments: 26, tokens: 2020, config: smol), 13)
        XCTAssertEqual(R.closedLoopBatch(experiments: 7, tokens: 2020, config: smol), 7)
        XCTAssertEqual(R.closedLoopBatch(experiments: 0, tokens: 0, config: smol), 1)
        // An 8B-sized cache (32 blocks, 8 KV heads of 128): 662 MB each at 2,020 tokens, so 4 at a time.
        let big = LlamaConfig(blockCount: 32, dModel: 4096, ffnDim: 14336, headCount: 32, kvHeadCount: 8, vocabSize: 128256, tiedEmbeddings: false)
        XCTAssertEqual(R.closedLoopBatch(experiments: 100, tokens: 2020, config: big), 4)
        XCTAssertEqual(R.closedLoopBatch(experiments: 10, tokens: 100_000, config: big), 1)
    }

    func testFirstTokenClashes() {
        typealias R = LanguageModelRollout
        XCTAssertNil(R.firstTokenClash([" a", " b"], [[1], [2, 3]]))
        XCTAssertEqual(R.firstTokenClash([" a", " b", " c"], [[1], [2], [1, 4]]), .sameFirstToken(" a", " c"))
        XCTAssertEqual(R.firstTokenClash([" up", " up"], [[5], [5]]), .repeated(" up"))
        XCTAssertEqual(R.firstTokenClash([" a", ""], [[1], []]), .noToken(""))
    }

    func testLibraryValidationReachesCheck() throws {
        let spec = try XCTUnwrap(Frontend.check(text: "tdx 1\ntask two_step { stage1_labels = [\"X\", \"X\"] }\n", path: "v.tdx").spec)
        let d = SpecValidation.diagnostics(spec)
        XCTAssertEqual(d.count, 1)
        XCTAssertTrue(d[0].message.contains("stage1_labels"), d[0].message)
    }

    /// specs/two_step_agent.tdx's pipeline (smaller): rollout → behaviour fit → RL variables → report,
    /// through the executor, and the behaviour export in the documented JSON shape.
    func testTwoStepAgentEndToEnd() throws {
        let sb = try Sandbox()
        let text = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("specs/two_step_agent.tdx").path, encoding: .utf8)
            .replacingOccurrences(of: "experiments = 100", with: "experiments = 30")
            .replacingOccurrences(of: "models = [q_learning, myopic, repetition]", with: "models = [q_learning, myopic, repetition]\n  restarts = 3")
        let path = try sb.write(text)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        let engine = Engine(registry: StandardStages.registry)
        let store = try Store(path: sb.cache)
        let plan = try engine.plan(spec, specPath: path, store: store)
        XCTAssertEqual(plan.graph.stages.map(\.id), ["rollout", "behaviour", "rl_variables", "report"])
        _ = try engine.run(plan, spec: spec, specPath: path, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)
        let out = sb.dir.appendingPathComponent("export").path
        let files = try store.exportAll(key: plan.graph[id: "behaviour"]!.key, to: out)
        XCTAssertEqual(files.map { URL(fileURLWithPath: $0).lastPathComponent }, ["behaviour.json"])
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files[0]))) as? [String: Any])
        let models = try XCTUnwrap(obj["models"] as? [[String: Any]])
        XCTAssertEqual(models.compactMap { $0["name"] as? String }, ["q_learning", "myopic", "repetition"])
        for m in models { for k in ["nll", "aic", "bic", "params"] { XCTAssertNotNil(m[k], k) } }
        let q = try XCTUnwrap(models.first { $0["name"] as? String == "q_learning" }?["params"] as? [String: Double])
        XCTAssertEqual(q["alpha"]!, 0.3, accuracy: 0.1)
        XCTAssertEqual(q["beta"]!, 5, accuracy: 1.5)
        // Q-learning explains a Q-learner's choices best.
        let nll = Dictionary(uniqueKeysWithValues: models.map { ($0["name"] as! String, $0["nll"] as! Double) })
        XCTAssertLessThan(nll["q_learning"]!, nll["myopic"]!)
        // Variables are aligned to transcript events.
        let vars = try VariablesData.decode(try store.readString(key: plan.graph[id: "rl_variables"]!.key, blob: "variables"))
        XCTAssertEqual(vars.experiments.count, 30)
        XCTAssertTrue(vars.names.contains("sim.td_error"), "\(vars.names)")
        let td = vars.experiments[0]["sim.td_error"]!
        XCTAssertEqual(td.events.count, 60)  // two steps per episode
        let report = try store.readString(key: plan.graph[id: "report"]!.key, blob: "report.md")
        XCTAssertTrue(report.contains(spec.digest))
        XCTAssertTrue(report.contains("## Model comparison"))
    }
}
