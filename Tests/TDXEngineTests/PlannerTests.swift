import Foundation
import XCTest
import TDXCore
@testable import TDXEngine
import TDXLang
import TDXPlan
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

    func testOnlyUntilForceAndJSON() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let (until, _) = try planAndRun(path, cache: sb.cache, run: false, options: Plan.Options(until: ["sae[5]"]))
        XCTAssertEqual(Set(until.toRun.map(\.stage.id)), ["model", "rollout", "activations[5]", "sae[5]"])
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
    }
}
