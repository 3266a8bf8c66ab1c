import Foundation
import XCTest
import TDXCore
@testable import TDXEngine
import TDXLang
import TDXModels
import TDXPlan
import TDXRL
import TDXReport
import TDXStore

/// A small spec through every stage with the real default model: rollout with SmolLM2 choosing,
/// activations, SAEs, correlations, the closed-loop intervention and the report; then the report's
/// tables are checked against each other.
final class EndToEndTests: XCTestCase {
    static let spec = """
    tdx 1
    seed = 3
    task two_step { experiments = 3  episodes = 4  random_episodes = 1 }
    agent q_learning {}
    fit behaviour { restarts = 2 }
    activations { layers = [2, 9] }
    sae { expansion = 1  epochs = 2 }
    correlate { with = [td_error, q_value]  null = permutation(20)  bootstrap = 20 }
    intervene lesion { layer = peak(td_error)  latent = top(td_error)  experiments = 2 }
    report { title = "end to end" }

    """

    func testEveryStageWithTheDefaultModel() throws {
        let weights = try defaultModelPath()
        let sb = try Sandbox()
        let path = try sb.write(Self.spec)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        let engine = Engine(registry: StandardStages.registry)
        let store = try Store(path: sb.cache)
        let plan = try engine.plan(spec, specPath: path, store: store)
        XCTAssertEqual(plan.graph.stages.map(\.id), ["model", "rollout", "activations[2]", "activations[9]", "behaviour", "rl_variables",
                                                     "sae[2]", "sae[9]", "correlate[2]", "correlate[9]", "intervene[lesion]", "report"])
        let summary = try engine.run(plan, spec: spec, specPath: path, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)
        XCTAssertEqual(summary.computed.count, plan.graph.stages.count)

        // The intervention edited the best latent of the block where max |r| with the TD error peaks.
        let iv = try InterventionResult.decode(try store.readString(key: plan.graph[id: "intervene[lesion]"]!.key, blob: "intervention"))
        var best: (layer: Int, r: Double, latent: Int) = (-1, -1, -1)
        for l in [2, 9] {
            let c = try CorrelationResult.decode(try store.readString(key: plan.graph[id: "correlate[\(l)]"]!.key, blob: "correlations"))
            let v = try XCTUnwrap(c.variable("td_error", agent: "q_learning"))
            XCTAssertLessThanOrEqual(v.maxAbsR, 1.0 + 1e-9)
            XCTAssertEqual(abs(v.bestR), v.maxAbsR, accuracy: 1e-12)
            if v.maxAbsR > best.r { best = (l, v.maxAbsR, v.bestLatent) }
        }
        XCTAssertEqual(iv.layer, best.layer)
        XCTAssertEqual(iv.latent, best.latent)
        XCTAssertEqual(iv.latentR.magnitude, best.r, accuracy: 1e-12)
        XCTAssertEqual(iv.conditions.map(\.name), ["intact", "latent", "control", "reconstruction"])
        XCTAssertTrue(iv.conditions.allSatisfy { $0.perExperiment.count == 2 })
        // Blocks after the edited one get max |r| along each condition's own trajectories.
        let later = [2, 9].filter { $0 > iv.layer }.map(String.init)
        for c in iv.conditions {
            XCTAssertEqual(Set((c.downstream ?? [:]).keys), Set(later), c.name)
            for v in (c.downstream ?? [:]).values { XCTAssertTrue(v >= 0 && v <= 1 + 1e-6, "\(v)") }
        }

        // The rollout's transcripts are what the model read: tokens cover the text exactly.
        let rollout = try RolloutData.decode(try store.readString(key: plan.graph[id: "rollout"]!.key, blob: "rollout"))
        for e in rollout.experiments {
            XCTAssertEqual(e.tokens?.ends.last, e.transcript.byteCount)
            XCTAssertEqual(e.returns?.count, 4)
        }

        // The activations were recorded during the closed loop (KV cache, step by step); one fresh pass over
        // the final transcript gives the same residual streams.
        let model = try LanguageModel.load(path: weights)
        let rows = try ActivationRows.decode(try store.readString(key: plan.graph[id: "activations[9]"]!.key, blob: "rows"))
        let x9 = try store.readFloats(key: plan.graph[id: "activations[9]"]!.key, blob: "x")
        let e0 = try XCTUnwrap(rollout.experiments.first)
        let mine = (0..<rows.count).filter { rows.experiment[$0] == e0.experiment }
        XCTAssertEqual(mine.map { rows.event[$0] }, e0.transcript.events.indices.filter { e0.tokens?.position(of: e0.transcript.events[$0].span) != nil })
        let fresh = try model.forward(ForwardRequest(sequences: [try XCTUnwrap(e0.tokens?.ids)], logitPositions: [[]], captureBlocks: [9],
                                                     capturePositions: [mine.map { rows.position[$0] }]), caches: nil).residuals[0]
        let d = model.config.dModel
        var worst: Float = 0
        for (k, i) in mine.enumerated() {
            let a = x9[(i * d)..<((i + 1) * d)], b = fresh[(k * d)..<((k + 1) * d)]
            let norm = b.map { $0 * $0 }.reduce(0, +).squareRoot()
            worst = max(worst, zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / norm)
        }
        XCTAssertLessThan(worst, 1e-3, "recorded vs fresh residuals, worst relative L2 error")

        // The report names every stage key and the numbers it shows come from those stages.
        let report = try store.readString(key: plan.graph[id: "report"]!.key, blob: "report.md")
        for s in plan.graph.stages where s.kind != .report { XCTAssertTrue(report.contains(s.key), "report lacks \(s.id)'s key") }
        XCTAssertTrue(report.contains(spec.digest))
        XCTAssertTrue(report.contains("**lesion**: zero of latent \(iv.latent)"), report)
        XCTAssertTrue(report.contains("Paper (Llama 3 70B): TD error r ≈ 0.58 at block 34 of 80."), "the task's own reference")
        let csv = try store.readString(key: plan.graph[id: "report"]!.key, blob: "interventions.csv")
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + iv.conditions.count)
        // Three fitted models, three pairs compared; the differences are those of the fitted NLLs.
        let fits = try JSONDecoder().decode(BehaviourReport.self, from: try store.readData(key: plan.graph[id: "behaviour"]!.key, blob: "behaviour"))
        let nllRows = try store.readString(key: plan.graph[id: "report"]!.key, blob: "nll_differences.csv").split(separator: "\n").dropFirst()
        XCTAssertEqual(nllRows.count, 3)
        let sorted = fits.models.sorted { $0.nll < $1.nll }
        let first = nllRows.first!.split(separator: ",")
        XCTAssertEqual(first[0...1].map(String.init), [sorted[0].name, sorted[1].name])
        XCTAssertEqual(Double(first[2])!, sorted[1].nll - sorted[0].nll, accuracy: 0.051)

        // Everything is cached now.
        let again = try engine.plan(spec, specPath: path, store: try Store(path: sb.cache))
        XCTAssertEqual(again.toRun.count, 0)

        // A new title re-renders only the report, and its bootstrap over experiments draws the same numbers.
        let retitled = try sb.write(Self.spec.replacingOccurrences(of: "\"end to end\"", with: "\"retitled\""), "retitled.tdx")
        let spec2 = try XCTUnwrap(Frontend.check(path: retitled).spec)
        let plan2 = try engine.plan(spec2, specPath: retitled, store: try Store(path: sb.cache))
        XCTAssertEqual(plan2.toRun.map(\.stage.id), ["report"])
        _ = try engine.run(plan2, spec: spec2, specPath: retitled, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)
        XCTAssertEqual(try store.readString(key: plan2.graph[id: "report"]!.key, blob: "nll_differences.csv"),
                       try store.readString(key: plan.graph[id: "report"]!.key, blob: "nll_differences.csv"))
    }

    /// The graph task with its SR agent: the lesion's later-block correlations are computed along the
    /// (prediction) transcripts; a no-op edit (scale by 1) re-run through the same path reproduces the
    /// correlate stages' values.
    func testGraphLesionLaterBlocks() throws {
        let sb = try Sandbox()
        let (plan, store) = try runWithDefaultModel(in: sb, """
            tdx 1
            seed = 4
            task graph { experiments = 2  walk_length = 40 }
            agent sr { α = 0.05  γ = 0.9 }
            agent readout {}
            agent clock {}
            activations { layers = [1, 4, 8]  positions = [node] }
            sae { expansion = 1  epochs = 1 }
            correlate { with = [sr_td_error, model_surprise]  null = permutation(10)  bootstrap = 10  partial = [time] }
            intervene lesion { layer = 1  latent = top(sr_td_error)  control = lowest(sr_td_error) }
            intervene noop { layer = 1  latent = top(sr_td_error)  edit = scale(1)  control = none  baseline = false }

            """, until: ["intervene"])
        // The step index, at the node each step reaches.
        let clock = try VariablesData.decode(try store.readString(key: plan.graph[id: "rl_variables"]!.key, blob: "variables"))
        for (e, rec) in try RolloutData.decode(try store.readString(key: plan.graph[id: "rollout"]!.key, blob: "rollout")).experiments.enumerated() {
            let col = try XCTUnwrap(clock.experiments[e]["clock.time"])
            XCTAssertEqual(col.events, Array(rec.nodeEvents!.dropFirst()))
            XCTAssertEqual(col.values, (0..<39).map(Double.init))
        }
        // The model's own surprise: −log of the probability it gave the node that came, at that node's event.
        let rollout = try RolloutData.decode(try store.readString(key: plan.graph[id: "rollout"]!.key, blob: "rollout"))
        let vars = try VariablesData.decode(try store.readString(key: plan.graph[id: "rl_variables"]!.key, blob: "variables"))
        for (e, rec) in rollout.experiments.enumerated() {
            let col = try XCTUnwrap(vars.experiments[e]["readout.model_surprise"])
            XCTAssertEqual(col.events, Array(rec.nodeEvents!.dropFirst()))
            for (k, event) in col.events.enumerated() {
                let slot = rec.transcript.events[event - 1]
                XCTAssertEqual(col.values[k], -log(slot.probabilities![slot.written!]), accuracy: 1e-12)
            }
        }
        let c4 = try CorrelationResult.decode(try store.readString(key: plan.graph[id: "correlate[4]"]!.key, blob: "correlations"))
        XCTAssertEqual(c4.variable("model_surprise")?.partialOut, ["clock.time"])
        XCTAssertEqual(c4.variable("sr_td_error")?.partialOut, ["clock.time"])
        let iv = try InterventionResult.decode(try store.readString(key: plan.graph[id: "intervene[lesion]"]!.key, blob: "intervention"))
        let byName = Dictionary(uniqueKeysWithValues: iv.conditions.map { ($0.name, $0.downstream ?? [:]) })
        XCTAssertEqual(Set(byName["intact"]?.keys ?? [:].keys), ["4", "8"])
        for b in ["4", "8"] {
            // Each condition's later-block r is measured along its own re-run (x̂ replaces the stream, so the
            // reconstruction's differs from intact's).
            for name in ["intact", "latent", "control", "reconstruction"] {
                let r = try XCTUnwrap(byName[name]?[b], "\(name), block \(b)")
                XCTAssertTrue((0...1).contains(r), "\(name), block \(b): \(r)")
            }
        }
        let noop = try InterventionResult.decode(try store.readString(key: plan.graph[id: "intervene[noop]"]!.key, blob: "intervention"))
        let same = Dictionary(uniqueKeysWithValues: noop.conditions.map { ($0.name, $0.downstream ?? [:]) })
        for b in ["4", "8"] {
            let intact = try XCTUnwrap(same["intact"]?[b]), unchanged = try XCTUnwrap(same["latent"]?[b])
            XCTAssertEqual(unchanged, intact, accuracy: 1e-4, "block \(b)")
        }
    }

    /// Grid World's paper lesion (§7, Fig 4D): `top(td_error, n)` over several blocks edits the n latents with
    /// the highest |r| (each in its own block, read from the correlate stages' r vectors), and each gets a
    /// distinct control latent of its own block.
    static let severalLatents = """
        tdx 1
        seed = 5
        task grid_world { experiments = 2  episodes = 3  size = 3  max_steps = 10  control = none }
        agent q_learning {}
        activations { layers = [1, 4, 8] }
        sae { expansion = 1  epochs = 1 }
        correlate { with = [td_error]  null = none  bootstrap = 0  partial = [reward] }
        intervene lesion { layer = 4..8  latent = top(td_error, 3)  edit = zero  control = lowest(td_error) }
        report {}

        """

    func testSeveralLatentsAcrossBlocks() throws {
        let sb = try Sandbox()
        let (plan, store) = try runWithDefaultModel(in: sb, Self.severalLatents)
        let iv = try InterventionResult.decode(try store.readString(key: plan.graph[id: "intervene[lesion]"]!.key, blob: "intervention"))
        let targets = try XCTUnwrap(iv.targets)
        XCTAssertEqual(targets.count, 3)

        // The three highest |r| over blocks 4 and 8 (block 1 is not in the pool), in that order.
        var all: [(block: Int, latent: Int, r: Float)] = []
        var r: [Int: [Float]] = [:]
        for b in [4, 8] {
            let key = plan.graph[id: "correlate[\(b)]"]!.key
            let c = try CorrelationResult.decode(try store.readString(key: key, blob: "correlations"))
            let v = try XCTUnwrap(c.variable("td_error"))
            XCTAssertEqual(v.partialOut, ["q_learning.reward"], "the reward was regressed out")
            r[b] = try store.readFloats(key: key, blob: v.rBlob)
            all += r[b]!.enumerated().map { (b, $0.offset, $0.element) }
            if let t = targets.first(where: { $0.block == b }) { XCTAssertEqual(t.control, v.controlLatent, "first control of block \(b)") }
        }
        let expected = all.sorted { (abs($0.r), -$0.block, -$0.latent) > (abs($1.r), -$1.block, -$1.latent) }.prefix(3)
        XCTAssertEqual(targets.map(\.block), expected.map(\.block))
        XCTAssertEqual(targets.map(\.latent), expected.map(\.latent))
        XCTAssertEqual(targets.map(\.r), expected.map { Double($0.r) })
        XCTAssertEqual(iv.layer, targets[0].block)
        XCTAssertEqual(iv.latent, targets[0].latent)
        // Controls: in the same block, never an edited latent, never the same one twice in a block.
        var seen = Set<String>()
        for t in targets {
            let c = try XCTUnwrap(t.control)
            XCTAssertFalse(targets.contains { $0.block == t.block && $0.latent == c })
            XCTAssertTrue(seen.insert("\(t.block).\(c)").inserted)
            XCTAssertEqual(t.controlR, Double(r[t.block]![c]))
        }
        XCTAssertEqual(iv.conditions.map(\.name), ["intact", "latent", "control", "reconstruction"])

        let report = try store.readString(key: plan.graph[id: "report"]!.key, blob: "report.md")
        XCTAssertTrue(report.contains("**lesion**: zero of the 3 latents with the highest |r|"), report)
        XCTAssertTrue(report.contains("Partial r: q_learning.reward regressed out first."), report)
        XCTAssertTrue(report.contains("Paper (Llama 3 70B): TD latents with r ≥ 0.75"), "Grid World's reference, not Two-Step's")
        XCTAssertFalse(report.contains("block 34 of 80"), report)
        let csv = try store.readString(key: plan.graph[id: "report"]!.key, blob: "interventions.csv")
        XCTAssertTrue(csv.contains(targets.map { String($0.block) }.joined(separator: ";")), csv)

        // `above(td_error, r)` with r between the second and third |r| edits the first two. Only the intervention
        // and the report run again.
        let t = (abs(targets[1].r) + abs(targets[2].r)) / 2
        let spec = Self.severalLatents.replacingOccurrences(of: "top(td_error, 3)", with: "above(td_error, \(t))")
        let (plan2, store2) = try runWithDefaultModel(in: sb, spec)
        let above = try InterventionResult.decode(try store2.readString(key: plan2.graph[id: "intervene[lesion]"]!.key, blob: "intervention"))
        XCTAssertEqual(above.targets, Array(targets.prefix(2)))
        XCTAssertEqual(above.threshold, t)
        let report2 = try store2.readString(key: plan2.graph[id: "report"]!.key, blob: "report.md")
        XCTAssertTrue(report2.contains("**lesion**: zero of the 2 latents with |r| ≥ "), report2)
        // `correlate { sign = negative }`: the correlations, the lesion's ranking and the report all follow −r.
        // Only the correlations, the intervention and the report run again.
        let negSpec = Self.severalLatents.replacingOccurrences(of: "partial = [reward] }", with: "partial = [reward]  sign = negative }")
        let (plan3, store3) = try runWithDefaultModel(in: sb, negSpec)
        XCTAssertEqual(plan3.graph[id: "sae[4]"]!.key, plan.graph[id: "sae[4]"]!.key)
        XCTAssertNotEqual(plan3.graph[id: "correlate[4]"]!.key, plan.graph[id: "correlate[4]"]!.key)
        var negative: [(block: Int, latent: Int, r: Float)] = []
        for b in [4, 8] {
            let key = plan3.graph[id: "correlate[\(b)]"]!.key
            let v = try XCTUnwrap(try CorrelationResult.decode(try store3.readString(key: key, blob: "correlations")).variable("td_error"))
            XCTAssertEqual(v.sign, "negative")
            let rb = try store3.readFloats(key: key, blob: v.rBlob)
            XCTAssertEqual(rb, r[b]!, "the r vectors do not depend on the sign")
            XCTAssertEqual(Float(v.bestR), rb.min()!, "the best latent is the most negative r")
            XCTAssertEqual(v.strength, -v.bestR)
            negative += rb.enumerated().filter { $0.element != 0 }.map { (b, $0.offset, $0.element) }
        }
        let ivNeg = try InterventionResult.decode(try store3.readString(key: plan3.graph[id: "intervene[lesion]"]!.key, blob: "intervention"))
        XCTAssertEqual(ivNeg.sign, "negative")
        let lowest = negative.sorted { (-$0.r, -$0.block, -$0.latent) > (-$1.r, -$1.block, -$1.latent) }.prefix(3)
        XCTAssertEqual(ivNeg.targets?.map(\.latent), lowest.map(\.latent))
        XCTAssertEqual(ivNeg.targets?.map(\.r), lowest.map { Double($0.r) })
        let report3 = try store3.readString(key: plan3.graph[id: "report"]!.key, blob: "report.md")
        XCTAssertTrue(report3.contains("the most negative r (`correlate.sign = negative`; plotted as −r)"), report3)
        XCTAssertTrue(report3.contains("of the 3 latents with the highest −r with"), report3)
        XCTAssertTrue(try store3.readString(key: plan3.graph[id: "report"]!.key, blob: "correlations.csv").hasPrefix("variable,block,max −r,"))

        // No latent reaching the threshold is an error naming the best there is (this tiny run has |r| ≈ 1 latents,
        // so the message is checked on its own).
        let none = InterveneError.noneAbove("td_error", threshold: 0.75, best: (0.52, 12), sign: .absolute)
        XCTAssertEqual(none.message, "no latent in the blocks of `layer` has |r| ≥ 0.750 with `td_error` (the highest is 0.520, at block 12)")
        XCTAssertEqual(none.help, "lower the threshold, name more blocks in `layer`, or edit a fixed number with `top(td_error, n)`")
    }

    /// `mode = replay` (§9.11): each condition reads the intact Two-Step transcripts again, so the choices are the
    /// intact run's and only the model's probabilities change. The unedited replay reproduces the
    /// probabilities the closed loop recorded.
    func testReplayReadsTheIntactTranscriptsAgain() throws {
        let sb = try Sandbox()
        let services = EngineServices()
        let (plan, store) = try runWithDefaultModel(in: sb, Self.spec.replacingOccurrences(
            of: "intervene lesion { layer = peak(td_error)  latent = top(td_error)  experiments = 2 }", with: """
            intervene replay { layer = 2  latent = top(td_error)  edit = scale(-10)  experiments = 2  mode = replay }
            intervene relative { layer = 2  latent = top(td_error)  edit = clamp_max(-10)  baseline = false  experiments = 1  mode = replay }
            intervene again { layer = 2  latent = top(td_error)  edit = zero  baseline = false  experiments = 2  mode = replay }
            """), services: services)
        // `again` replays the same experiments as `replay`: its intact pass is read from memory, and equals a fresh one.
        XCTAssertEqual(IntactReplayMemo.shared(services).hits, 1)
        let again = try InterventionResult.decode(try store.readString(key: plan.graph[id: "intervene[again]"]!.key, blob: "intervention"))
        let key = plan.graph[id: "intervene[replay]"]!.key
        let iv = try InterventionResult.decode(try store.readString(key: key, blob: "intervention"))
        XCTAssertEqual(iv.mode, "replay")
        XCTAssertEqual(iv.metric, "log p(choice)")
        XCTAssertEqual(iv.conditions.map(\.name), ["intact", "latent", "control", "reconstruction"])

        let rollout = try RolloutData.decode(try store.readString(key: plan.graph[id: "rollout"]!.key, blob: "rollout"))
        let intact = RolloutData(task: rollout.task, experiments: Array(rollout.experiments.prefix(2)))
        // The closed loop's own probabilities of its choices, against the unedited replay's.
        let recorded = InterventionStats.replay(intact, intact: intact, q: nil).logP
        let c0 = iv.conditions[0]
        for (a, b) in zip(c0.perExperiment, recorded) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        XCTAssertEqual(again.conditions[0].perExperiment, c0.perExperiment)
        XCTAssertEqual(again.conditions[0].downstream, c0.downstream)
        XCTAssertEqual(c0.changed, [0, 0])
        XCTAssertEqual(c0.versusIntact, [0, 0, 0])
        for c in iv.conditions {
            XCTAssertEqual(c.perExperiment.count, 2)
            XCTAssertTrue(c.perExperiment.allSatisfy { $0.isFinite && $0 <= 0 }, "\(c.name): \(c.perExperiment)")
            XCTAssertTrue((c.changed ?? []).allSatisfy { $0 >= 0 && $0 <= 1 })
            XCTAssertTrue((c.qConsistency ?? []).allSatisfy { $0 > 0 && $0 < 1 }, "\(c.name)")
            XCTAssertEqual(c.qConsistency?.count, 2)
            XCTAssertEqual(c.downstream.map { Array($0.keys) }, ["9"], "\(c.name): later block measured")
        }
        // An edited replay wrote the intact run's transcripts and made its choices.
        let edited = try RolloutData.decode(try store.readString(key: key, blob: "rollout.latent"))
        for (e, e0) in zip(edited.experiments, intact.experiments) {
            XCTAssertEqual(e.transcript.text, e0.transcript.text)
            XCTAssertEqual(e.steps.map(\.action), e0.steps.map(\.action))
        }

        let report = try store.readString(key: plan.graph[id: "report"]!.key, blob: "report.md")
        XCTAssertEqual(report.components(separatedBy: "Replayed interventions (metric `log p(choice)`): the intact run's transcripts were read again").count, 2,
                       "explained once for every replay: \(report)")
        let csv = try store.readString(key: plan.graph[id: "report"]!.key, blob: "replay.csv")
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + iv.conditions.count + 3 + 3, csv)

        // `clamp_max(-10)`: each edited latent set to −10 × its largest activation over block 2's recorded rows,
        // which only this intervention reads.
        let relative = plan.graph[id: "intervene[relative]"]!
        XCTAssertTrue(relative.inputs.contains("activations[2]"))
        XCTAssertFalse(plan.graph[id: "intervene[replay]"]!.inputs.contains("activations[2]"))
        let rel = try InterventionResult.decode(try store.readString(key: relative.key, blob: "intervention"))
        let sae = try StoredSAE.load(store: store, key: plan.graph[id: "sae[2]"]!.key, stage: "sae[2]")
        let x = try store.readFloats(key: plan.graph[id: "activations[2]"]!.key, blob: "x")
        let h = sae.encode(x, rows: x.count / sae.dIn)
        for latent in [rel.latent, try XCTUnwrap(rel.control)] {
            let top = stride(from: latent, to: h.count, by: sae.dSAE).map { h[$0] }.max()!
            XCTAssertEqual(try XCTUnwrap(rel.largest?["2.\(latent)"]), Double(top), accuracy: 1e-6 * max(1, Double(top)))
        }
        XCTAssertGreaterThan(rel.largest?["2.\(rel.latent)"] ?? 0, 0, "the best latent is active somewhere")
        XCTAssertNotEqual(rel.conditions[1].perExperiment, rel.conditions[0].perExperiment, "a −10 × max clamp moves the choice probabilities")
        XCTAssertTrue(try store.readString(key: plan.graph[id: "report"]!.key, blob: "report.md").contains("Largest activation of each edited latent"))

        // A cached intact run that the replay cannot reproduce (its last choice altered), or that lacks an
        // experiment, is an error naming the experiment.
        let stage = plan.graph[id: "rollout"]!
        let specPath = sb.dir.appendingPathComponent("spec.tdx").path
        let ctx = StageContext(stage: stage, spec: try XCTUnwrap(Frontend.check(path: specPath).spec), specPath: specPath, store: store,
                               keysByID: Dictionary(uniqueKeysWithValues: plan.graph.stages.map { ($0.id, $0.key) }),
                               progress: NoProgress(), cancelled: { false }, services: EngineServices())
        let config = SpecConfigs.twoStep(Params(stage.params, prefix: "task"))
        var altered = rollout.experiments[0]
        altered.steps[altered.steps.count - 1].action = 1 - altered.steps[altered.steps.count - 1].action
        func replayError(_ records: [ExperimentRecord], experiments: [Int]) -> String {
            do {
                _ = try LanguageModelRollout.twoStep(config, seed: 3, ctx: ctx, experiments: experiments,
                                                     replay: Dictionary(uniqueKeysWithValues: records.map { ($0.experiment, $0) }))
                return "no error"
            } catch let e as InterveneError { return e.message } catch { return "\(error)" }
        }
        XCTAssertEqual(replayError([altered], experiments: [0]),
                       "replaying experiment 0 with the intact run's choices did not write the intact run's transcript")
        XCTAssertEqual(replayError([rollout.experiments[0]], experiments: [0, 1]),
                       "experiment 1 is not in the intact rollout, so it cannot be replayed")
        XCTAssertEqual(replayError([rollout.experiments[0]], experiments: [0]), "no error")

        // Conditions that share the intact run's blocks 0–1 (`SharedLowerBlocks`) make the same choices with the
        // same probabilities up to float rounding, both when the edit leaves the intact text alone (a zero
        // vector) and when it moves the choices off it (a large one), where the caches adopt the shared blocks.
        let model = try ctx.languageModel()
        let shared = try SharedLowerBlocks(model: model, records: Array(rollout.experiments.prefix(2)), after: 1, checkCancelled: {})
        var rng = SeededRNG(seed: 9)
        for scale: Float in [0, 4] {
            let v = (0..<model.config.dModel).map { _ in Float(rng.normal()) * scale }
            let iv = LanguageModelRollout.Intervention(blocks: [(block: 2, operation: .add(v))], onlyEvents: false)
            let plain = try LanguageModelRollout.twoStep(config, seed: 3, ctx: ctx, intervention: iv, experiments: [0, 1]).0
            let fast = try LanguageModelRollout.twoStep(config, seed: 3, ctx: ctx, intervention: iv, experiments: [0, 1], shared: { shared }).0
            for (a, b) in zip(plain.experiments, fast.experiments) {
                XCTAssertEqual(a.transcript.text, b.transcript.text, "scale \(scale)")
                for (ea, eb) in zip(a.transcript.events, b.transcript.events) {
                    for (pa, pb) in zip(ea.probabilities ?? [], eb.probabilities ?? []) { XCTAssertEqual(pa, pb, accuracy: 1e-4) }
                }
            }
            let left = zip(fast.experiments, rollout.experiments).contains { $0.transcript.text != $1.transcript.text }
            XCTAssertEqual(left, scale > 0, "scale \(scale): whether a condition left the intact text")
        }
    }

    /// A transcript longer than the model's context fails before the model reads any, naming the experiments,
    /// the longest one's length and the context; nothing is cached.
    func testTranscriptOverTheContextFailsFirst() throws {
        let sb = try Sandbox()
        let text = """
            tdx 1
            task grid_world { experiments = 3  episodes = 80  max_steps = 20  control = none }
            agent q_learning {}
            report {}

            """
        try defaultModelPath()
        let path = try sb.write(text)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        let engine = Engine(registry: StandardStages.registry)
        let plan = try engine.plan(spec, specPath: path, store: try Store(path: sb.cache))
        XCTAssertThrowsError(try engine.run(plan, spec: spec, specPath: path, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)) { error in
            guard case .stageFailed(let stage, let message) = error as? ExecutorError else { return XCTFail("\(error)") }
            XCTAssertEqual(stage, "rollout")
            XCTAssertTrue(message.hasPrefix("3 of 3 transcripts do not fit the model's context of 8192 tokens (experiments 0, 1, 2; the longest, experiment "), message)
            XCTAssertTrue(message.contains("help: shorten the transcripts: fewer `episodes`, a smaller `max_steps`, or shorter `prompt_…` templates"), message)
        }
        let rollout = try XCTUnwrap(plan.graph[id: "rollout"]).key
        XCTAssertFalse(try Store(path: sb.cache).keys(withPrefix: "").contains { $0.contains(rollout) }, "nothing of the rollout cached")

        // Closed loop: the length is estimated up front (the choices change it little) and checked again as
        // the text grows.
        let twoStep = try sb.write("tdx 1\ntask two_step { experiments = 2  episodes = 400 }\nreport {}\n", "long.tdx")
        let spec2 = try XCTUnwrap(Frontend.check(path: twoStep).spec)
        let plan2 = try engine.plan(spec2, specPath: twoStep, store: try Store(path: sb.cache))
        XCTAssertThrowsError(try engine.run(plan2, spec: spec2, specPath: twoStep, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)) { error in
            guard case .stageFailed(_, let message) = error as? ExecutorError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("2 of 2 transcripts do not fit the model's context of 8192 tokens (experiments 0, 1; the longest"), message)
            XCTAssertTrue(message.contains("when every choice takes the first answer"), message)
            XCTAssertTrue(message.contains("help: shorten the transcripts: fewer `episodes`, or shorter `prompt_…` templates"), message)
        }
        XCTAssertEqual(ContextError.over(experiments: [4], of: 100, longest: (4, 8200), context: 8192, task: "grid_world",
                                         estimated: false, control: true).message,
                       "1 of 100 random-reward control transcripts do not fit the model's context of 8192 tokens (experiment 4; the longest, experiment 4, has 8200 tokens)")
        XCTAssertEqual(ContextError.reached(experiment: 3, episode: 40, tokens: 8193, context: 8192).message,
                       "experiment 3's transcript reached 8193 tokens in episode 41, past the model's context of 8192 tokens")
    }

    /// Grid World's random-reward control (§3.2) is read after the main transcripts, with the same moves and
    /// the model's prediction recorded at every move.
    func testGridWorldRandomRewardControl() throws {
        let sb = try Sandbox()
        let (plan, store) = try runWithDefaultModel(in: sb, """
            tdx 1
            seed = 9
            task grid_world { experiments = 2  episodes = 4  size = 3  max_steps = 10 }
            agent q_learning {}
            activations { layers = [1] }
            report {}

            """, until: ["rollout"])
        let rollout = try RolloutData.decode(try store.readString(key: plan.graph[id: "rollout"]!.key, blob: "rollout"))
        let control = try XCTUnwrap(rollout.control)
        XCTAssertEqual(control.map(\.experiment), [0, 1])
        for (main, shuffled) in zip(rollout.experiments, control) {
            XCTAssertEqual(main.steps.map(\.action), shuffled.steps.map(\.action))
            XCTAssertEqual(main.goal, shuffled.goal)
            let chosen = { (r: ExperimentRecord) in r.transcript.events.filter { $0.kind == .choice }.map { $0.chosen != nil } }
            XCTAssertEqual(chosen(shuffled), chosen(main))
            XCTAssertTrue(chosen(shuffled).allSatisfy { $0 }, "the model predicted every control move")
        }
    }

    /// Runs a spec with the real stages and the default model in a sandbox the caller keeps (skipping when
    /// the model is not fetched).
    private func runWithDefaultModel(in sb: Sandbox, _ text: String, until: [String] = [],
                                     services: EngineServices = EngineServices()) throws -> (Plan, Store) {
        try defaultModelPath()
        let path = try sb.write(text)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        let engine = Engine(registry: StandardStages.registry, services: services)
        let plan = try engine.plan(spec, specPath: path, store: try Store(path: sb.cache), options: Plan.Options(until: until))
        _ = try engine.run(plan, spec: spec, specPath: path, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)
        return (plan, try Store(path: sb.cache))
    }
}
