import Foundation
import XCTest
import TDXCore
@testable import TDXEngine
import TDXLang
import TDXPlan
import TDXReport
import TDXStore

final class PlannerTests: XCTestCase {
    func testGraphShapeAndKeys() throws {
        let sb = try Sandbox()
        let (plan, _) = try planAndRun(try sb.write(baseSpec), cache: sb.cache, run: false)
        let ids = plan.graph.stages.map(\.id)
        XCTAssertEqual(ids, ["model", "rollout", "activations[1]", "activations[5]", "activations[9]", "behaviour", "rl_variables",
                             "sae[1]", "sae[5]", "sae[9]", "correlate[1]", "correlate[5]", "correlate[9]", "intervene[lesion]", "report"])
        XCTAssertEqual(Set(plan.graph.stages.map(\.key)).count, ids.count, "keys are distinct")
        XCTAssertEqual(plan.graph[id: "sae[5]"]?.inputs, ["activations[5]"])
        XCTAssertTrue(plan.stages.allSatisfy { $0.status == .run && $0.reason == "new" })
        // The sae stage reads only sae parameters and the seed.
        XCTAssertEqual(Set(plan.graph[id: "sae[5]"]!.params.keys.map { $0.split(separator: ".")[0] }), ["sae", "seed"])
    }

    /// A Grid World lesion regenerates the intact trajectories, so it gets the generating agent (named) even
    /// when the edited variable comes from another agent.
    func testGridWorldLesionGetsTheGeneratingAgent() throws {
        let sb = try Sandbox()
        let (plan, _) = try planAndRun(try sb.write("""
            tdx 1
            task grid_world { experiments = 2  generator = gen }
            agent gen { kind = q_learning  β = 5 }
            agent fit { kind = q_learning  α = 0.3 }
            activations { layers = [1] }
            sae {}
            correlate { with = [td_error]  agents = [fit] }
            intervene lesion { agent = fit }

            """), cache: sb.cache, run: false)
        let p = try XCTUnwrap(plan.graph[id: "intervene[lesion]"]?.params)
        XCTAssertEqual(p["task.generator"], .symbol("gen"))
        XCTAssertEqual(p["agent.gen.beta"], .float(5))
        XCTAssertEqual(p["agent.fit.alpha"], .float(0.3))
        XCTAssertEqual(plan.graph[id: "rollout"]?.params["agent.gen.beta"], .float(5))
        XCTAssertNil(plan.graph[id: "rollout"]?.params["agent.fit.alpha"])
    }

    func testChangingOneParameterRerunsExactlyItsDescendants() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        try planAndRun(path, cache: sb.cache)
        let cases: [(String, String, [String])] = [
            ("sae { epochs = 5 }", "sae { epochs = 15 }", ["sae[1]", "sae[5]", "sae[9]"]),
            ("fit behaviour {}", "fit behaviour { restarts = 3 }", ["behaviour"]),
            ("agent myopic {}", "agent myopic { β = 2 }", ["rl_variables"]),
            ("intervene lesion { layer = peak(td_error) }", "intervene lesion { layer = peak(td_error)  edit = scale(-10) }",
             ["intervene[lesion]"]),
            ("task two_step { experiments = 4", "task two_step { experiments = 5", ["rollout", "intervene[lesion]"]),
        ]
        for (old, new, roots) in cases {
            try sb.write(baseSpec.replacingOccurrences(of: old, with: new))
            let (plan, _) = try planAndRun(path, cache: sb.cache, run: false)
            let expected = roots.reduce(into: Set<String>()) { $0.formUnion(plan.graph.descendants(of: $1)) }
            XCTAssertEqual(Set(plan.toRun.map(\.stage.id)), expected, "after \(new)")
            for r in roots {
                let reason = plan.stages.first { $0.stage.id == r }!.reason
                XCTAssertTrue(reason.hasPrefix("param "), "\(r): \(reason)")
            }
        }
        let (sae, _) = try planAndRun(try sb.write(baseSpec.replacingOccurrences(of: "epochs = 5", with: "epochs = 15")), cache: sb.cache, run: false)
        XCTAssertEqual(sae.stages.first { $0.stage.id == "sae[1]" }?.reason, "param sae.epochs 5 → 15")
        XCTAssertEqual(sae.stages.first { $0.stage.id == "correlate[1]" }?.reason, "input sae[1] changed")
        XCTAssertEqual(sae.stages.first { $0.stage.id == "rollout" }?.status, .cached)
    }

    func testCommentsAndFormattingRerunNothing() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        try planAndRun(path, cache: sb.cache)
        let relaid = "// a comment\n" + baseSpec.replacingOccurrences(of: "  ", with: "\n  ").replacingOccurrences(of: "α", with: "alpha")
            + "\n/* trailing */\n"
        try sb.write(relaid)
        let (plan, _) = try planAndRun(path, cache: sb.cache, run: false)
        XCTAssertEqual(plan.toRun.map(\.stage.id), [])
    }

    func testBumpingACodeVersionRerunsThatKindAndDownstream() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        try planAndRun(path, cache: sb.cache)
        let (plan, _) = try planAndRun(path, cache: sb.cache, versions: [.correlate: 2], run: false)
        XCTAssertEqual(Set(plan.toRun.map(\.stage.id)), ["correlate[1]", "correlate[5]", "correlate[9]", "intervene[lesion]", "report"])
        XCTAssertEqual(plan.stages.first { $0.stage.id == "correlate[5]" }?.reason, "code version 1 → 2")
    }

    func testSweepsExpandIntoInstances() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec.replacingOccurrences(of: "sae { epochs = 5 }", with: "sae { epochs = 5  β in [1e-5, 1e-4] }"))
        let (plan, _) = try planAndRun(path, cache: sb.cache, run: false)
        let ids = plan.graph.stages.map(\.id)
        XCTAssertTrue(ids.contains("sae[5]{sae.beta=1e-5}"), "\(ids)")
        XCTAssertTrue(ids.contains("sae[5]{sae.beta=0.0001}"), "\(ids)")
        XCTAssertEqual(ids.filter { $0.hasPrefix("rollout") }, ["rollout"], "stages that do not read β are shared")
        XCTAssertEqual(ids.filter { $0.hasPrefix("report") }.count, 2)
    }

    /// A sweep over a parameter added later (elided at its default) shares its default variant's stages with
    /// the spec that does not sweep it: same ids, same keys, so the same cache.
    func testSweepOfAnElidedParameterSharesTheDefaultVariant() throws {
        let sb = try Sandbox()
        let (plain, _) = try planAndRun(try sb.write(baseSpec), cache: sb.cache, run: false)
        let swept = try sb.write(baseSpec.replacingOccurrences(of: "correlate { with = [td_error, q_value] }",
                                                               with: "correlate { with = [td_error, q_value]  sign in [abs, negative] }"), "swept.tdx")
        let (plan, _) = try planAndRun(swept, cache: sb.cache, run: false)
        XCTAssertEqual(plan.graph[id: "correlate[5]"]?.key, plain.graph[id: "correlate[5]"]?.key)
        XCTAssertEqual(plan.graph[id: "intervene[lesion]"]?.key, plain.graph[id: "intervene[lesion]"]?.key)
        let negative = try XCTUnwrap(plan.graph[id: "correlate[5]{correlate.sign=negative}"])
        XCTAssertEqual(negative.params["correlate.sign"], .symbol("negative"))
        XCTAssertNil(plan.graph[id: "correlate[5]"]?.params["correlate.sign"])
        XCTAssertNotNil(plan.graph[id: "intervene[lesion]{correlate.sign=negative}"])
        XCTAssertEqual(plan.graph.stages.filter { $0.id.hasPrefix("sae[5]") }.count, 1, "the SAEs do not read the sign")

        // A list-valued one: `partial in [[], [reward]]` is two_step.tdx and two_step_partial.tdx in one spec.
        let partial = try sb.write(baseSpec.replacingOccurrences(of: "correlate { with = [td_error, q_value] }",
                                                                 with: "correlate { with = [td_error, q_value]  partial in [[], [reward]] }"), "partial.tdx")
        let (both, _) = try planAndRun(partial, cache: sb.cache, run: false)
        XCTAssertEqual(both.graph[id: "correlate[5]"]?.key, plain.graph[id: "correlate[5]"]?.key)
        XCTAssertEqual(both.graph[id: "correlate[5]{correlate.partial=[reward]}"]?.params["correlate.partial"], .list([.symbol("reward")]))
        // Every swept value is checked: a variable no agent provides is an error even when it is not the first.
        let bad = baseSpec.replacingOccurrences(of: "correlate { with = [td_error, q_value] }",
                                                with: "correlate { with = [td_error]  partial in [[], [sr_td_error]] }")
        let d = try XCTUnwrap(Frontend.check(text: bad, path: "bad.tdx").diagnostics.first)
        XCTAssertEqual(d.message, "`partial`: no agent block provides `sr_td_error`")
    }

    /// `weights in [a, b]` (Fig 2A's 8B against 70B): each model gets its own identity, depth and stages; the
    /// spec's first model keeps its key only when nothing else differs (its stages are tagged by the sweep).
    func testWeightsSweepPlansEachModelAtItsOwnDepth() throws {
        let text = baseSpec.replacingOccurrences(of: "seed = 7", with: "seed = 7\nmodel llm { weights in [\"smollm2-135m\", \"small.gguf\"] }")
            .replacingOccurrences(of: "layers = [1, 5, 9]", with: "layers = all")
        let r = Frontend.check(text: text, path: "models.tdx")
        let spec = try XCTUnwrap(r.spec, "\(r.diagnostics.map(\.message))")
        XCTAssertEqual(spec.model?["sha256"], .string(""), "a swept model block is not pinned to one file")
        var asked: [String] = []
        let graph = try Planner().plan(spec) { values in
            let w = values["model.weights"]?.stringValue ?? ""
            asked.append(w)
            return w == "small.gguf" ? ModelIdentity(digest: "b", blocks: 2, dModel: 8) : ModelIdentity(digest: "a", blocks: 30, dModel: 576)
        }
        XCTAssertEqual(asked, ["smollm2-135m", "small.gguf"])
        let ids = graph.stages.map(\.id)
        let big = #"{model.weights="smollm2-135m"}"#, small = #"{model.weights="small.gguf"}"#
        XCTAssertEqual(ids.filter { $0.hasPrefix("sae[") && $0.hasSuffix(big) }.count, 30, "\(ids)")
        XCTAssertEqual(ids.filter { $0.hasPrefix("sae[") && $0.hasSuffix(small) }, ["sae[0]" + small, "sae[1]" + small])
        XCTAssertEqual(graph[id: "model" + small]?.params["model.identity"], .string("b"))
        XCTAssertEqual(graph[id: "rollout" + small]?.inputs, ["model" + small])
        XCTAssertNotEqual(graph[id: "rollout" + small]?.key, graph[id: "rollout" + big]?.key)
        XCTAssertEqual(ids.filter { $0.hasPrefix("report") }, ["report" + big, "report" + small])
        // The built-in variant is pinned as the spec without the sweep is, so their stages share keys (and cache).
        let alone = try XCTUnwrap(Frontend.check(text: baseSpec.replacingOccurrences(of: "layers = [1, 5, 9]", with: "layers = all"),
                                                 path: "one.tdx").spec)
        let one = try Planner().plan(alone) { _ in ModelIdentity(digest: "a", blocks: 30, dModel: 576) }
        XCTAssertEqual(graph[id: "model" + big]?.params["model.sha256"], one[id: "model"]?.params["model.sha256"])
        XCTAssertEqual(graph[id: "sae[7]" + big]?.key, one[id: "sae[7]"]?.key)

        // A layer one of the models lacks is named with that model; so is an intervention's fixed block that
        // only the built-in model has, and a block the spec does not record.
        func assertPlanError(_ spec: String, _ message: String, line: UInt = #line) throws {
            let resolved = try XCTUnwrap(Frontend.check(text: spec, path: "e.tdx").spec, line: line)
            XCTAssertThrowsError(try Planner().plan(resolved) { v in
                ModelIdentity(digest: "x", blocks: v["model.weights"]?.stringValue == "small.gguf" ? 2 : 30, dModel: 8)
            }, line: line) { e in XCTAssertEqual((e as? PlanError)?.message, message, line: line) }
        }
        try assertPlanError(text.replacingOccurrences(of: "layers = all", with: "layers = [5]"),
                            "layer 5 does not exist: `small.gguf` has 2 blocks (0…1)")
        try assertPlanError(text.replacingOccurrences(of: "layer = peak(td_error)", with: "layer = 20"),
                            "`intervene lesion`: layer 20 does not exist: `small.gguf` has 2 blocks (0…1)")
        try assertPlanError(baseSpec.replacingOccurrences(of: "layer = peak(td_error)", with: "layer = 4"),
                            "`intervene lesion`: block 4 is not recorded (`activations.layers` is [1, 5, 9])")

        // A pin names one file, so it cannot go with several models.
        let pinned = text.replacingOccurrences(of: "\"small.gguf\"] }", with: "\"small.gguf\"]  sha256 = \"ab\" }")
        XCTAssertEqual(Frontend.check(text: pinned, path: "p.tdx").diagnostics.first?.message,
                       "`sha256`: pins one file, but `weights` names several models")
    }

    /// A swept seed tags the rollout and everything after it; each stage body still finds its inputs by
    /// their plain names (`rollout`, `behaviour`), so every variant runs to its report.
    func testSweptSeedRunsEveryVariantToItsReport() throws {
        let sb = try Sandbox()
        let path = try sb.write("""
            tdx 1
            seed in [1, 2]
            task two_step { experiments = 3  episodes = 8  random_episodes = 2  policy = agent(sim) }
            agent sim { kind = q_learning  α = 0.3  β = 5 }
            fit behaviour { models = [q_learning, repetition] }
            report {}

            """)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        let engine = Engine(registry: StandardStages.registry)
        let store = try Store(path: sb.cache)
        let plan = try engine.plan(spec, specPath: path, store: store)
        XCTAssertEqual(plan.graph.stages.map(\.id).filter { $0.hasPrefix("report") }, ["report{seed=1}", "report{seed=2}"])
        _ = try engine.run(plan, spec: spec, specPath: path, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)
        var reports: [String] = []
        for id in ["report{seed=1}", "report{seed=2}"] {
            let report = try store.readString(key: plan.graph[id: id]!.key, blob: "report.md")
            XCTAssertTrue(report.contains("## Model comparison"), id)
            reports.append(report)
        }
        XCTAssertNotEqual(reports[0], reports[1], "the seeds played different games")

        // The comparison page: every variant's rows from its own report, side by side.
        let compare = try XCTUnwrap(plan.graph[id: "compare"])
        XCTAssertEqual(compare.inputs, ["report{seed=1}", "report{seed=2}"])
        let page = try store.readString(key: compare.key, blob: "report.md")
        XCTAssertTrue(page.contains("the sweep compared"), page)
        XCTAssertTrue(page.contains("`seed=2/`"), page)
        XCTAssertFalse(page.contains("model SHA-256"), "no model stage, no model column")
        let merged = CSVTable.parse(try store.readString(key: compare.key, blob: "model_comparison.csv"))
        XCTAssertEqual(merged.header.first, "variant")
        for (i, id) in ["report{seed=1}", "report{seed=2}"].enumerated() {
            let own = CSVTable.parse(try store.readString(key: plan.graph[id: id]!.key, blob: "model_comparison.csv"))
            XCTAssertEqual(merged.rows.filter { $0[0] == "seed=\(i + 1)" }.map { Array($0.dropFirst()) }, own.rows)
        }
        XCTAssertTrue(try store.readString(key: compare.key, blob: "behaviour.svg").contains("seed=2"))

        // The seed-2 variant draws its numbers from seed 2, as the same spec with `seed = 2` does: same keys, same bits.
        let single = try Sandbox()
        let one = try single.write(try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "seed in [1, 2]", with: "seed = 2"))
        let oneSpec = try XCTUnwrap(Frontend.check(path: one).spec)
        let onePlan = try engine.plan(oneSpec, specPath: one, store: try Store(path: single.cache))
        _ = try engine.run(onePlan, spec: oneSpec, specPath: one, storePath: single.cache, options: Executor.Options(jobs: 1), io: quietIO)
        let fit = try XCTUnwrap(onePlan.graph[id: "behaviour"])
        XCTAssertEqual(fit.key, plan.graph[id: "behaviour{seed=2}"]?.key)
        XCTAssertEqual(try Store(path: single.cache).readData(key: fit.key, blob: "behaviour"),
                       try store.readData(key: fit.key, blob: "behaviour"))
    }

    func testOnlyUntilForceAndJSON() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let (until, _) = try planAndRun(path, cache: sb.cache, run: false, options: Plan.Options(until: ["sae[5]"]))
        XCTAssertEqual(Set(until.toRun.map(\.stage.id)), ["model", "rollout", "activations[5]", "sae[5]"])
        // `--only` with inputs that are not cached is refused at planning, naming them, not inside the stage.
        XCTAssertThrowsError(try planAndRun(path, cache: sb.cache, run: false, options: Plan.Options(only: ["sae[5]"]))) { error in
            let e = error as? UsageError
            XCTAssertEqual(e?.message, "`--only` runs `sae[5]` without computing `activations[5]`, which is not cached")
            XCTAssertEqual(e?.help, "use `--until` in place of `--only` to compute them first")
        }
        try planAndRun(path, cache: sb.cache)
        let (forced, _) = try planAndRun(path, cache: sb.cache, run: false, options: Plan.Options(force: ["sae"]))
        // Forcing the SAEs forces what reads them: their keys would not notice new outputs.
        XCTAssertEqual(Set(forced.toRun.map(\.stage.id)), ["sae[1]", "sae[5]", "sae[9]", "correlate[1]", "correlate[5]", "correlate[9]",
                                                           "intervene[lesion]", "report"])
        XCTAssertTrue(forced.toRun.allSatisfy { $0.reason == "forced" })
        let json = forced.renderJSON()
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual((obj["summary"] as? [String: Int])?["run"], 8)
        XCTAssertEqual((obj["stages"] as? [[String: Any]])?.count, forced.stages.count)
        XCTAssertThrowsError(try planAndRun(path, cache: sb.cache, run: false, options: Plan.Options(only: ["sea"])))
        // Once its inputs are cached, `--only` runs just that stage.
        let (only, _) = try planAndRun(path, cache: sb.cache, run: false, options: Plan.Options(only: ["sae[5]"], force: ["sae[5]"]))
        XCTAssertEqual(only.toRun.map(\.stage.id), ["sae[5]"])
    }
}

final class SweepComparisonTests: XCTestCase {
    func testLabelsSplitParametersNotListItems() {
        XCTAssertEqual(SweepComparison.label("report"), "defaults")
        XCTAssertEqual(SweepComparison.label("report{correlate.partial=[reward, time],seed=2}"), "correlate.partial=[reward, time], seed=2")
    }

    /// Rows keep their variant; a column only one variant wrote stays empty for the other; numbers keep
    /// their exact text in the CSV.
    func testMergedTablesKeepEveryVariantsRows() throws {
        let a = SweepComparison.Variant(label: "seed=1", reportID: "report{seed=1}",
                                        tables: ["t.csv": (["x", "y"], [["1", "0.30000000000000004"], ["2", "NaN"]])])
        let b = SweepComparison.Variant(label: "seed=2", reportID: "report{seed=2}", tables: ["t.csv": (["x", "z"], [["3", "a,b"]])])
        let t = try XCTUnwrap(SweepComparison.merged("t.csv", [a, b]))
        XCTAssertEqual(t.header, ["variant", "x", "y", "z"])
        XCTAssertEqual(t.table.rows[0][2], .number(0.30000000000000004))
        XCTAssertEqual(CSVTable.parse(t.csv).rows, [["seed=1", "1", "0.30000000000000004", ""], ["seed=1", "2", "NaN", ""],
                                                    ["seed=2", "3", "", "a,b"]])
        XCTAssertNil(SweepComparison.merged("absent.csv", [a, b]))
    }
}
