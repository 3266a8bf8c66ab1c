import Foundation
import XCTest
import TDXAnalysis
import TDXCore
@testable import TDXEngine
import TDXLang
import TDXPlan
import TDXStore
import TDXTasks

/// sae, correlate and geometry on synthetic data: pure cores directly, and the three bodies through the
/// real executor and store with stand-in rollout / activations / variables stages.
final class AnalysisStagesTests: XCTestCase {

    // MARK: correlate

    func testVariablesAlignToRowsByExperimentAndEvent() {
        let rows = ActivationRows(experiment: [0, 0, 0, 1, 1, 2], event: [0, 1, 2, 0, 2, 1], position: [3, 5, 9, 2, 7, 4])
        var vars = VariablesData(experiments: [[:], [:], [:]])
        vars.experiments[0]["a.td_error"] = .init(events: [1, 2, 5], values: [0.5, -1, 9])
        vars.experiments[1]["a.td_error"] = .init(events: [2, 0], values: [3, .nan])
        vars.experiments[2]["b.td_error"] = .init(events: [1], values: [7])
        let a = CorrelateStage.align(rows: rows, variables: vars, column: "a.td_error")
        XCTAssertEqual(a.rows, [1, 2, 4])
        XCTAssertEqual(a.values, [0.5, -1, 3])
        XCTAssertEqual(CorrelateStage.align(rows: rows, variables: vars, column: "b.td_error").rows, [5])

        let names = ["a.q_value", "a.td_error", "b.td_error", "b.sr_td_error"]
        XCTAssertEqual(CorrelateStage.columns(available: names, with: ["td_error", "q_value"], agents: []),
                       ["a.td_error", "b.td_error", "a.q_value"])
        XCTAssertEqual(CorrelateStage.columns(available: names, with: ["td_error"], agents: ["b"]), ["b.td_error"])
    }

    /// A latent and a residual dimension built to track the variable are found, with r ≈ 1, a low null,
    /// a tight bootstrap CI, and the same pick on held-out experiments.
    func testPlantedVariableIsRecovered() throws {
        let (n, s, d, experiments) = (400, 24, 12, 8)
        var rng = SeededRNG(seed: 11)
        var h = [Float](repeating: 0, count: n * s), x = [Float](repeating: 0, count: n * d)
        var v = [Double](repeating: 0, count: n)
        for i in 0..<n {
            v[i] = rng.normal()
            for k in 0..<s { h[i * s + k] = max(0, Float(rng.normal()) - 0.5) }
            for j in 0..<d { x[i * d + j] = Float(rng.normal()) }
            h[i * s + 7] = Float(2 * v[i] + 6)
            x[i * d + 3] = Float(-v[i]) + 0.01 * Float(rng.normal())
        }
        for k in 0..<s where k != 5 && k != 7 { h[k] = 1 }  // every latent active somewhere, except 5
        for i in 0..<n { h[i * s + 5] = 0 }
        let exps = (0..<n).map { $0 * experiments / n }
        var options = CorrelationCore.Options()
        options.permutations = 100
        options.resamples = 100
        options.testExperiments = [6, 7]
        let rows = Array(0..<n)
        let r = try CorrelationCore.run(latents: h, dSAE: s, residuals: x, dModel: d, experiments: exps,
                                        columns: [.init(name: "q.td_error", rows: rows, values: v),
                                                  .init(name: "q.noise", rows: rows, values: (0..<n).map { _ in rng.normal() })],
                                        options: options, seed: 3)
        XCTAssertEqual(r.variables.map(\.name), ["q.td_error", "q.noise"])
        let td = r.variables[0]
        XCTAssertEqual(td.agent, "q"); XCTAssertEqual(td.variable, "td_error")
        XCTAssertEqual(td.bestLatent, 7)
        XCTAssertGreaterThan(td.bestR, 0.999)
        XCTAssertEqual(td.maxAbsR, td.bestR, accuracy: 1e-6)
        XCTAssertEqual(td.bestNeuron, 3)
        XCTAssertLessThan(td.neuronR!, -0.99)
        XCTAssertLessThan(td.null95!, 0.3)
        XCTAssertGreaterThan(td.bootstrap!.lower, 0.99)
        XCTAssertEqual(td.heldOut?.latent, 7)
        XCTAssertGreaterThan(td.heldOut!.testR, 0.99)
        XCTAssertEqual(td.heldOut!.testSamples, 100)
        XCTAssertEqual(td.samples, n); XCTAssertEqual(td.experiments, experiments)
        // The control is the active latent with the lowest |r| (latent 5 never fires).
        let rs = r.latentR["q.td_error"]!
        XCTAssertEqual(rs.count, s)
        XCTAssertNotEqual(td.controlLatent, 5)
        XCTAssertEqual(td.controlLatent, (0..<s).filter { $0 != 5 }.min { abs(rs[$0]) < abs(rs[$1]) })
        XCTAssertLessThan(abs(td.controlR!), 0.1)
        XCTAssertEqual(r.activeLatents, s - 1)
        XCTAssertLessThan(r.variables[1].maxAbsR, 0.3)
    }

    /// A latent that fires only at rows where the variable is not measured (another event kind) has r = 0
    /// exactly there; it is active in the block but would be an empty control, so it is never the control.
    func testControlIsActiveAtTheVariablesRows() throws {
        let (n, s, d) = (200, 6, 4)
        var rng = SeededRNG(seed: 8)
        var h = [Float](repeating: 0, count: n * s), x = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            for k in 0..<s { h[i * s + k] = max(0, Float(rng.normal())) }
            for j in 0..<d { x[i * d + j] = Float(rng.normal()) }
            h[i * s + 2] = i % 2 == 0 ? 0 : 1 + Float(i % 5)   // silent at the even rows, active at the odd ones
        }
        let rows = stride(from: 0, to: n, by: 2).map { $0 }   // the variable is measured at the even rows
        let r = try CorrelationCore.run(latents: h, dSAE: s, residuals: x, dModel: d, experiments: (0..<n).map { $0 % 4 },
                                        columns: [.init(name: "q.td_error", rows: rows, values: rows.map { _ in rng.normal() })],
                                        options: CorrelationCore.Options(), seed: 1)
        let rs = r.latentR["q.td_error"]!
        XCTAssertEqual(rs[2], 0)
        XCTAssertEqual(r.activeLatents, s)
        let td = r.variables[0]
        XCTAssertNotEqual(td.controlLatent, 2)
        XCTAssertEqual(td.controlLatent, (0..<s).filter { $0 != 2 }.min { abs(rs[$0]) < abs(rs[$1]) })
        XCTAssertNotEqual(td.controlR, 0)
    }

    // MARK: sae

    /// The dictionary handed to the language model encodes and reconstructs exactly as the SAE does.
    func testDictionaryAdapterMatchesTheSAE() {
        let (d, s, n) = (10, 16, 7)
        var rng = SeededRNG(seed: 5)
        let data = (0..<(50 * d)).map { j in Float(rng.normal()) * Float(1 + j % d) + Float(j % 3) }
        for kind in SAENormalisation.allCases {
            for activation in [SAEActivation.relu, .topK(3)] {
                let config = SAEConfig(dIn: d, width: .latents(s), normalisation: kind, activation: activation)
                let norm = SAENormaliser.fit(kind, data: data, dIn: d, rows: Array(0..<50))
                var sae = SparseAutoencoder(config: config, normaliser: norm, rng: &rng)
                sae.params.bEnc = (0..<s).map { _ in Float(rng.normal()) * 0.3 }
                sae.params.bDec = (0..<d).map { _ in Float(rng.normal()) }
                let x = Array(data[0..<(n * d)])
                let h = sae.encode(x, rows: n)
                let xr = sae.reconstruct(x, rows: n)
                let dict = sae.dictionary
                for i in 0..<n {
                    let f = x.withUnsafeBufferPointer { dict.encode($0.baseAddress! + i * d) }
                    for k in 0..<s { XCTAssertEqual(f[k], h[i * s + k], accuracy: 1e-4, "\(kind) \(activation) row \(i) latent \(k)") }
                    let y = dict.decode(f)
                    for j in 0..<d { XCTAssertEqual(y[j], xr[i * d + j], accuracy: 1e-3 * (1 + abs(xr[i * d + j]))) }
                }
            }
        }
    }

    // MARK: geometry

    func testGeometryOfThreeCommunitiesScoresWell() throws {
        var rng = SeededRNG(seed: 9)
        let (rollout, _) = SyntheticGraph.rollout(experiments: 3, length: 300, rng: &rng)
        let (x, rows, d) = SyntheticGraph.activations(rollout, layer: 2, rng: &rng)
        var out = StageOutput()
        for distance in [GeometryCore.Distance.euclidean, .correlation] {
            let m = try XCTUnwrap(GeometryCore.map(features: x, cols: d, rows: rows, experiments: rollout.experiments,
                                                   options: .init(distance: distance, skip: 20, inits: 4, seed: 1),
                                                   distanceBlob: "dist", output: &out))
            XCTAssertEqual(m.nodes, Array(0..<15))
            XCTAssertEqual(m.community, (0..<15).map { $0 / 5 })
            XCTAssertEqual(m.coordinates.count, 15)
            XCTAssertEqual(m.occurrences.reduce(0, +), 3 * 280)
            XCTAssertGreaterThan(m.score!.silhouette, 0.5, "\(distance)")
            XCTAssertLessThan(m.score!.ratio, 0.5, "\(distance)")
            XCTAssertGreaterThan(m.mdsScore!.silhouette, 0.5, "\(distance)")
        }
        // Node labels shuffled across communities: no structure.
        var shuffled = rollout
        for e in shuffled.experiments.indices { shuffled.experiments[e].walk = shuffled.experiments[e].walk!.map { ($0 * 7) % 15 } }
        let m = try XCTUnwrap(GeometryCore.map(features: x, cols: d, rows: rows, experiments: shuffled.experiments,
                                               options: .init(skip: 20), distanceBlob: "dist", output: &out))
        XCTAssertLessThan(m.score!.silhouette, 0.2)
    }

    func testNodeAveragesSkipStepsAndAverageExperimentsEqually() {
        // Two experiments, 1-d features equal to the row's value; node 0 and 1 alternate.
        var rec0 = ExperimentRecord(experiment: 0, transcript: Transcript(), steps: [])
        rec0.walk = [0, 1, 0, 1, 0]; rec0.nodeEvents = [0, 1, 2, 3, 4]; rec0.names = ["a", "b"]
        var rec1 = rec0; rec1.experiment = 1; rec1.walk = [1, 0, 0]; rec1.nodeEvents = [0, 1, 2]
        let rows = ActivationRows(experiment: [0, 0, 0, 0, 0, 1, 1, 1], event: [0, 1, 2, 3, 4, 0, 1, 2], position: Array(0..<8))
        let f: [Float] = [1, 2, 3, 4, 5, 10, 20, 40]
        let a = GeometryCore.nodeAverages(features: f, cols: 1, rows: rows, experiments: [rec0, rec1], skip: 1)
        // exp 0 after 1 step: node 1 ← {2, 4}, node 0 ← {3, 5}; exp 1: node 0 ← {20, 40}.
        XCTAssertEqual(a.means, [(4 + 30) / 2, 3])
        XCTAssertEqual(a.occurrences, [4, 2])
        XCTAssertEqual(a.present, [2, 1])
    }

    /// A lesion re-run on some experiments is compared with intact over those experiments' rows only.
    func testGeometryRowsOfSomeExperiments() {
        let rows = ActivationRows(experiment: [0, 0, 1, 2, 2, 1], event: [1, 2, 3, 4, 5, 6], position: [10, 11, 12, 13, 14, 15])
        let x: [Float] = (0..<12).map(Float.init)   // d = 2
        let (fx, fr) = GeometryStage.rows(x, rows, d: 2, of: [1, 2])
        XCTAssertEqual(fr.experiment, [1, 2, 2, 1])
        XCTAssertEqual(fr.event, [3, 4, 5, 6])
        XCTAssertEqual(fr.position, [12, 13, 14, 15])
        XCTAssertEqual(fx, [4, 5, 6, 7, 8, 9, 10, 11])
    }

    // MARK: through the executor

    /// sae[1], sae[2] → correlate → geometry with layer = peak(sr_td_error) through the real executor and store.
    func testStagesThroughTheExecutor() throws {
        let sb = try Sandbox()
        let path = try sb.write("""
        tdx 1
        seed = 3
        task graph { experiments = 4  walk_length = 240 }
        agent sr {}
        activations { layers = [1, 2] }
        sae { width = 32  epochs = 4  batch = 64  lr = 0.003  beta = 0.0001 }
        correlate { with = [sr_td_error]  null = permutation(50)  bootstrap = 50 }
        intervene cut { layer = 2  latent = 0  control = none }
        geometry { skip = 20  lesion = cut }

        """)
        let (spec, plan, store) = try runSynthetic(path, cache: sb.cache)
        XCTAssertEqual(Set(plan.graph.stages.map(\.id)),
                       ["model", "rollout", "activations[1]", "activations[2]", "rl_variables", "sae[1]", "sae[2]",
                        "correlate[1]", "correlate[2]", "intervene[cut]", "geometry", "report"])
        func key(_ id: String) -> String { plan.graph[id: id]!.key }

        // The SAE: metrics, and a stored SAE that reproduces a fresh training's encodings.
        let stage = plan.graph[id: "sae[2]"]!
        let keys = Dictionary(uniqueKeysWithValues: plan.graph.stages.map { ($0.id, $0.key) })
        let ctx = StageContext(stage: stage, spec: spec, specPath: path, store: store, keysByID: keys, progress: NoProgress(),
                               cancelled: { false }, services: EngineServices())
        // The SAE as a stage that reads it sees it (a stage reads only its own inputs).
        let reader = StageContext(stage: plan.graph[id: "correlate[2]"]!, spec: spec, specPath: path, store: store, keysByID: keys,
                                  progress: NoProgress(), cancelled: { false }, services: EngineServices())
        let metrics = try SAEMetrics.decode(try store.readString(key: key("sae[2]"), blob: "metrics"))
        XCTAssertEqual(metrics.epochs.count, 4)
        XCTAssertEqual(metrics.dSAE, 32)
        XCTAssertEqual(metrics.testExperiments.count, 1)
        XCTAssertEqual(Set(metrics.trainExperiments + metrics.testExperiments), [0, 1, 2, 3])
        XCTAssertNotNil(metrics.test)
        let stored = try reader.sae("sae[2]")
        let act = try reader.activations("activations[2]")
        let config = SAEStage.config(Params(stage.params, prefix: "sae"), dIn: act.d, layer: 2, seed: ctx.seed)
        XCTAssertEqual(stored.config, config)
        let trainer = SAETrainer(config: config, data: act.x, experimentIDs: act.rows.experiment)
        for _ in 0..<config.epochs { trainer.trainEpoch() }
        let probe = Array(act.x[0..<(20 * act.d)])
        let (a, b) = (stored.encode(probe, rows: 20), trainer.sae.encode(probe, rows: 20))
        for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-4) }
        XCTAssertEqual(try store.readFloats(key: key("sae[2]"), blob: "W_enc").count, act.d * 32)

        // Correlations: the residual dimension planted in block 2 is found; block 1 carries no signal.
        let c2 = try CorrelationResult.decode(try store.readString(key: key("correlate[2]"), blob: "correlations"))
        let c1 = try CorrelationResult.decode(try store.readString(key: key("correlate[1]"), blob: "correlations"))
        let v2 = try XCTUnwrap(c2.variable("sr_td_error"))
        XCTAssertEqual(v2.name, "sr.sr_td_error")
        XCTAssertEqual(v2.samples, 4 * 240)
        XCTAssertEqual(v2.bestNeuron, SyntheticGraph.plantedDim)
        XCTAssertGreaterThan(v2.neuronR!, 0.99)
        XCTAssertGreaterThan(v2.maxAbsR, 0.5)
        XCTAssertLessThan(try XCTUnwrap(c1.variable("sr_td_error")).neuronMaxAbsR!, 0.3)
        XCTAssertNotNil(v2.heldOut); XCTAssertNotNil(v2.null95); XCTAssertNotNil(v2.bootstrap)
        XCTAssertEqual(try store.readFloats(key: key("correlate[2]"), blob: v2.rBlob).count, 32)

        // Geometry: the peak picks block 2 and the communities come out.
        let g = try GeometryResult.decode(try store.readString(key: key("geometry"), blob: "geometry"))
        XCTAssertEqual(g.layer, 2)
        XCTAssertEqual(g.layerChoice, "peak(sr_td_error)")
        XCTAssertEqual(g.peakR!, v2.maxAbsR, accuracy: 1e-12)
        XCTAssertEqual(g.intact.nodes.count, 15)
        XCTAssertGreaterThan(g.intact.score!.silhouette, 0.3)
        // RSA: the planted community structure orders node pairs as the SR agent's M does.
        let rsa = try XCTUnwrap(g.intact.srRSA)
        XCTAssertGreaterThan(rsa, 0.3, "RSA \(rsa)")
        XCTAssertLessThanOrEqual(rsa, 1)
        // The stand-in intervention stores no lesioned activations: geometry says so instead of failing.
        XCTAssertEqual(g.lesion, "intervene[cut]")
        XCTAssertNil(g.lesioned)
        XCTAssertTrue(g.note?.contains(GeometryStage.lesionedBlobs(layer: 2).x) == true, g.note ?? "")
        XCTAssertEqual(try store.readFloats(key: key("geometry"), blob: g.intact.distanceBlob).count, 225)
    }

    /// Plans and runs a spec with the synthetic stand-ins for the model stages and the real analysis stages.
    private func runSynthetic(_ path: String, cache: String) throws -> (ResolvedSpec, Plan, Store) {
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        let registry = StageRegistry([TestStage(kind: .model), SyntheticRollout(), SyntheticActivations(), SyntheticVariables(),
                                      SAEStage(), CorrelateStage(), GeometryStage(), Silent(kind: .intervene), Silent(kind: .report),
                                      Silent(kind: .compare)])
        let engine = Engine(registry: registry)
        let store = try Store(path: cache)
        let plan = try engine.plan(spec, specPath: path, store: store)
        _ = try engine.run(plan, spec: spec, specPath: path, storePath: cache, options: Executor.Options(jobs: 1), io: quietIO)
        return (spec, plan, store)
    }

    /// Under a sweep the geometry stage's inputs carry the variant's tag (`sae[2]{sae.epochs=2}`): each variant
    /// still finds its block's activations and SAE.
    func testGeometryUnderASweep() throws {
        let sb = try Sandbox()
        let path = try sb.write("""
        tdx 1
        seed = 3
        task graph { experiments = 4  walk_length = 240 }
        agent sr {}
        activations { layers = [2] }
        sae { width = 32  epochs in [2, 3]  batch = 64  lr = 0.003 }
        correlate { with = [sr_td_error]  null = permutation(20) }
        geometry { skip = 20 }

        """)
        let (_, plan, store) = try runSynthetic(path, cache: sb.cache)
        for id in ["geometry{sae.epochs=2}", "geometry{sae.epochs=3}"] {
            let stage = try XCTUnwrap(plan.graph[id: id], id)
            XCTAssertEqual(try GeometryResult.decode(try store.readString(key: stage.key, blob: "geometry")).layer, 2, id)
        }
    }
}

// MARK: synthetic stand-ins

struct NoProgress: ProgressSink {
    func update(_ done: Int, of total: Int) {}
    func note(_ text: String) {}
}

/// A stage that outputs nothing of interest (the report here).
struct Silent: StageBody {
    let kind: StageKind
    let codeVersion = 1
    func run(_ group: [StageContext]) throws -> [StageOutput] { group.map { _ in var o = StageOutput(); o.text("value", ""); return o } }
}

/// Random walks on three communities of five nodes, and activations that place each node near its community's
/// centre; dimension `plantedDim` of block 2 carries the variable, block 1 only noise there.
enum SyntheticGraph {
    static let d = 12
    static let plantedDim = 11

    static func rollout(experiments: Int, length: Int, rng: inout SeededRNG) -> (RolloutData, Void) {
        var recs: [ExperimentRecord] = []
        for e in 0..<experiments {
            var walk = [rng.int(below: 15)]
            while walk.count < length {
                let c = walk.last! / 5
                walk.append(rng.uniform() < 0.9 ? c * 5 + rng.int(below: 5) : rng.int(below: 15))
            }
            var r = ExperimentRecord(experiment: e, transcript: Transcript(), steps: [])
            r.walk = walk; r.nodeEvents = Array(0..<length); r.names = (0..<15).map { "n\($0)" }
            recs.append(r)
        }
        return (RolloutData(task: "graph", experiments: recs), ())
    }

    static func variable(experiment e: Int, step t: Int) -> Double { sin(Double(e * 131 + t) * 0.7) * 2 }

    static func activations(_ rollout: RolloutData, layer: Int, rng: inout SeededRNG) -> ([Float], ActivationRows, Int) {
        var x: [Float] = []
        var rows = ActivationRows(experiment: [], event: [], position: [])
        for e in rollout.experiments {
            for (t, node) in e.walk!.enumerated() {
                var row = [Float](repeating: 0, count: d)
                for j in 0..<d { row[j] = 0.3 * Float(rng.normal()) }
                row[node / 5 * 3] += 4                      // community centre
                row[9 + node % 2] += 0.5                    // a little node identity
                row[plantedDim] = layer == 2 ? Float(variable(experiment: e.experiment, step: t)) : Float(rng.normal())
                x += row
                rows.experiment.append(e.experiment); rows.event.append(t); rows.position.append(t)
            }
        }
        return (x, rows, d)
    }
}

struct SyntheticRollout: StageBody {
    let kind = StageKind.rollout
    let codeVersion = 1
    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in
            var rng = SeededRNG(seed: ctx.seed)
            let p = Params(ctx.stage.params, prefix: "task")
            let data = SyntheticGraph.rollout(experiments: p.int("experiments"), length: p.int("walk_length"), rng: &rng).0
            var out = StageOutput()
            out.json("rollout", try data.encoded())
            return out
        }
    }
}

struct SyntheticActivations: StageBody {
    let kind = StageKind.activations
    let codeVersion = 1
    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in
            var rng = SeededRNG(seed: ctx.seed)
            let rollout = try RolloutData.decode(try ctx.inputString("rollout", "rollout"))
            let (x, rows, d) = SyntheticGraph.activations(rollout, layer: ctx.stage.layer!, rng: &rng)
            var out = StageOutput()
            out.floats("x", x, shape: [rows.count, d])
            out.json("rows", try rows.encoded())
            return out
        }
    }
}

struct SyntheticVariables: StageBody {
    let kind = StageKind.rlVariables
    let codeVersion = 1
    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in
            let rollout = try RolloutData.decode(try ctx.inputString("rollout", "rollout"))
            let data = VariablesData(experiments: rollout.experiments.map { e in
                let t = Array(e.walk!.indices)
                return ["sr.sr_td_error": .init(events: t, values: t.map { SyntheticGraph.variable(experiment: e.experiment, step: $0) })]
            })
            var out = StageOutput()
            out.json("variables", try data.encoded())
            return out
        }
    }
}
