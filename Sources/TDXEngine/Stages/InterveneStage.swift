import Foundation
import TDXAnalysis
import TDXCore
import TDXModels
import TDXPlan
import TDXRL
import TDXTasks

/// `intervene[name]`: re-runs the task with an SAE latent edited inside the language model (§7): the latent
/// most correlated with a variable at the chosen block, the control latent (lowest |r| in the same block)
/// and the full-reconstruction baseline, each kept active at every step of the closed loop. Compares
/// behaviour with the intact rollout (bootstrap CIs over experiments).
struct InterveneStage: StageBody {
    let kind = StageKind.intervene
    let codeVersion = 3

    func run(_ group: [StageContext]) throws -> [StageOutput] { try group.map(intervene) }

    func intervene(_ ctx: StageContext) throws -> StageOutput {
        let name = ctx.stage.name ?? ""
        let p = Params(ctx.stage.params, prefix: "intervene.\(name)")
        let task = Params(ctx.stage.params, prefix: "task")
        let seed = UInt64(truncatingIfNeeded: ctx.stage.params["seed"]?.intValue ?? 0)
        let intact = try RolloutData.decode(try ctx.inputString("rollout", "rollout"))

        // Which variable, block and latents.
        let variable = [p["layer"], p["latent"], p["control"]].compactMap { $0?.arguments.first?.symbolValue }.first ?? "td_error"
        let agent = p["agent"]?.head ?? (p.string("agent").isEmpty ? nil : p.string("agent"))
        var correlations: [Int: CorrelationResult] = [:]
        for id in ctx.inputs(of: .correlate) { let c = try ctx.correlations(id); correlations[c.layer] = c }
        let layer: Int
        if let l = p["layer"]?.intValue { layer = l } else {
            guard let best = correlations.max(by: { ($0.value.variable(variable, agent: agent)?.maxAbsR ?? -1) < ($1.value.variable(variable, agent: agent)?.maxAbsR ?? -1) })
            else { throw InterveneError.noCorrelations(variable) }
            layer = best.key
        }
        guard let vc = correlations[layer]?.variable(variable, agent: agent) else { throw InterveneError.noCorrelations(variable) }
        let latent = p["latent"]?.intValue ?? vc.bestLatent
        let control = p.symbol("control") == "none" ? nil : vc.controlLatent
        let sae = try ctx.sae("sae[\(layer)]")
        let dictionary = sae.dictionary
        let action: LatentEdit.Action
        switch p["edit"]?.head ?? "zero" {
        case "scale": action = .scale(Float(p["edit"]?.arguments.first?.doubleValue ?? -10))
        case "clamp": action = .clamp(Float(p["edit"]?.arguments.first?.doubleValue ?? 0))
        default: action = .zero
        }
        let onlyEvents = p.symbol("positions") == "events"
        let count = p.int("experiments", 0)
        let experiments = count > 0 ? Array(intact.experiments.map(\.experiment).prefix(count)) : intact.experiments.map(\.experiment)

        // Behaviour under each condition.
        var conditions: [(String, RolloutData)] = [("intact", RolloutData(task: intact.task,
            experiments: intact.experiments.filter { experiments.contains($0.experiment) }))]
        var runs: [(String, ResidualEdit.Operation)] = [("latent", .saeLatents(dictionary, [LatentEdit(latent: latent, action: action)]))]
        if let control { runs.append(("control", .saeLatents(dictionary, [LatentEdit(latent: control, action: action)]))) }
        if p.bool("baseline", true) { runs.append(("reconstruction", .saeReconstruct(dictionary))) }
        for (label, op) in runs {
            try ctx.checkCancelled()
            ctx.progress.note("condition \(label)")
            let iv = LanguageModelRollout.Intervention(block: layer, operation: op, onlyEvents: onlyEvents)
            conditions.append((label, try rerun(task, seed: seed, intervention: iv, experiments: experiments, ctx: ctx)))
        }

        // Later blocks: max |r| with the variable, recomputed along each condition's own trajectories.
        let later = ctx.inputs(of: .sae).compactMap { id in Int(id.dropFirst(4).prefix { $0 != "]" }) }.filter { $0 > layer }.sorted()
        var downstream: [String: [String: Double]] = [:]
        if let agentName = p["agent"]?.head, !later.isEmpty {
            let ap = Params(ctx.stage.params, prefix: "agent.\(agentName)")
            let kind = ap.symbol("kind")
            if kind != "sr" && kind != "transition", let column = VariablesStage.columns[vc.variable] {
                let agentConfig = SpecConfigs.agent(ap)
                let fits: BehaviourReport? = ctx.stage.inputs.contains("behaviour")
                    ? try? JSONDecoder().decode(BehaviourReport.self, from: try ctx.inputData("behaviour", "behaviour")) : nil
                let ops: [String: ResidualEdit.Operation] = Dictionary(uniqueKeysWithValues: runs)
                // Intact: exactly what the correlate stages measured (same rows, same SAEs).
                downstream["intact"] = Dictionary(uniqueKeysWithValues: later.compactMap { b in
                    correlations[b]?.variable(vc.variable, agent: vc.agent).map { (String(b), $0.maxAbsR) }
                })
                for (label, data) in conditions.dropFirst() {
                    try ctx.checkCancelled()
                    let iv = ops[label].map { LanguageModelRollout.Intervention(block: layer, operation: $0, onlyEvents: onlyEvents) }
                    downstream[label] = try laterCorrelations(data, blocks: later, intervention: iv, column: column,
                                                              agent: agentConfig, fits: fits, ctx: ctx)
                }
            }
        }
        // Q-learning consistency uses the behaviour fit, when there is one.
        var qModel: (BehaviourModel, [Double])?
        if ctx.stage.inputs.contains("behaviour"),
           let fits = try? JSONDecoder().decode(BehaviourReport.self, from: try ctx.inputData("behaviour", "behaviour")),
           let q = fits.models.first(where: { $0.name == "q_learning" }) {
            let model = BehaviourModel(.qLearning)
            qModel = (model, model.parameterNames.map { q.params[$0] ?? 0 })
        }
        let skip = task.int("random_episodes", 0)
        let isTwoStep = intact.task == "two_step"
        let results = conditions.map { label, data -> InterventionResult.Condition in
            let per = isTwoStep ? InterventionStats.points(data, skip: skip) : data.experiments.map(\.accuracy)
            let (m, lo, hi) = InterventionStats.meanCI(per, seed: ctx.seed)
            var c = InterventionResult.Condition(name: label, perExperiment: per, mean: m, ciLow: lo, ciHigh: hi)
            if isTwoStep, let (model, params) = qModel {
                let (q, nll) = InterventionStats.qConsistency(data, model: model, parameters: params)
                c.qConsistency = q; c.qNLL = nll
            }
            c.downstream = downstream[label]
            return c
        }
        let result = InterventionResult(
            name: name, layer: layer, variable: vc.name, latent: latent, latentR: latent == vc.bestLatent ? vc.bestR : .nan,
            control: control, controlR: control == nil ? nil : vc.controlR, edit: p["edit"]?.canonical ?? "zero",
            positions: onlyEvents ? "events" : "all", metric: isTwoStep ? "points" : "accuracy", experiments: experiments,
            conditions: results)
        var out = StageOutput()
        out.json("intervention", try result.encoded())
        for (label, data) in conditions.dropFirst() { out.json("rollout.\(label)", try data.encoded()) }
        if intact.task == "graph" {
            // Lesioned representations at the edited block, for the geometry stage.
            let (x, rows) = try lesionedActivations(conditions[0].1, layer: layer, intervention:
                LanguageModelRollout.Intervention(block: layer, operation: runs[0].1, onlyEvents: onlyEvents), ctx: ctx)
            let names = GeometryStage.lesionedBlobs(layer: layer)
            out.floats(names.x, x, shape: [rows.count, x.count / max(1, rows.count)])
            out.json(names.rows, try rows.encoded())
        }
        return out
    }

    func rerun(_ task: Params, seed: UInt64, intervention: LanguageModelRollout.Intervention, experiments: [Int],
               ctx: StageContext) throws -> RolloutData {
        switch task.symbol("kind") {
        case "two_step":
            return try LanguageModelRollout.twoStep(SpecConfigs.twoStep(task), seed: seed, ctx: ctx, intervention: intervention,
                                                    experiments: experiments)
        case "grid_world":
            let gen = Params.agentNames(ctx.stage.params).first.map { Params(ctx.stage.params, prefix: "agent.\($0)") }
            return try LanguageModelRollout.gridWorld(SpecConfigs.gridWorld(task, agent: gen), control: nil, seed: seed, ctx: ctx,
                                                      intervention: intervention, experiments: experiments)
        default:
            return try LanguageModelRollout.graph(SpecConfigs.graph(task), seed: seed, ctx: ctx, intervention: intervention,
                                                  experiments: experiments)
        }
    }

    /// Max |r| over SAE latents between each later block's representation (with the edit active) and the
    /// agent's variable computed along these trajectories.
    func laterCorrelations(_ data: RolloutData, blocks: [Int], intervention: LanguageModelRollout.Intervention?, column: String,
                           agent: AgentConfig, fits: BehaviourReport?, ctx: StageContext) throws -> [String: Double] {
        let model = try ctx.languageModel()
        let d = model.config.dModel
        var xs = blocks.map { _ in [Float]() }
        var ys: [Float] = []
        // Sequences in batches of 8: one forward pass each, the edit applied per sequence.
        for first in stride(from: 0, to: data.experiments.count, by: 8) {
            try ctx.checkCancelled()
            var seqs: [[Int]] = [], positions: [[Int]] = [], edits: [ResidualEdit] = [], values: [[Float]] = []
            for rec in data.experiments[first..<min(first + 8, data.experiments.count)] {
                let table = RLVariables.behaviour(agent.behaviourModel, parameters: agent.parameters(from: fits), steps: rec.steps,
                                                  experiment: rec.experiment)
                var track = rec.tokens ?? TokenTrack()
                if rec.tokens == nil { track.extend(to: rec.transcript.text, tokenizer: model.tokenizer) }
                var pos: [Int] = [], val: [Float] = []
                for (event, value) in table.aligned(column) where value.isFinite && rec.transcript.events.indices.contains(event) {
                    guard let p = track.position(of: rec.transcript.events[event].span) else { continue }
                    pos.append(p); val.append(Float(value))
                }
                guard !pos.isEmpty else { continue }
                if let e = intervention?.edit(sequence: seqs.count, range: 0..<track.ids.count, track: track, transcript: rec.transcript) {
                    edits.append(e)
                }
                seqs.append(track.ids); positions.append(pos); values.append(val)
            }
            guard !seqs.isEmpty else { continue }
            let r = try model.forward(ForwardRequest(sequences: seqs, logitPositions: seqs.map { _ in [] }, captureBlocks: blocks,
                                                     capturePositions: positions, edits: edits), caches: nil)
            for k in seqs.indices {
                let n = positions[k].count
                for b in blocks.indices { xs[b] += r.residuals[k][(b * n * d)..<((b + 1) * n * d)] }
                ys += values[k]
            }
        }
        var out: [String: Double] = [:]
        guard ys.count >= 3 else { return out }
        for (b, block) in blocks.enumerated() {
            let sae = try ctx.sae("sae[\(block)]")
            let h = sae.encode(xs[b], rows: ys.count)
            let r = Correlation.matrix(features: h, variables: ys, samples: ys.count, featureCount: sae.dSAE, variableCount: 1)
            out[String(block)] = Double(Correlation.maxAbs(r).first?.absR ?? .nan)
        }
        return out
    }

    /// The residual stream after the edited block with the edit active, at the node events.
    func lesionedActivations(_ data: RolloutData, layer: Int, intervention: LanguageModelRollout.Intervention,
                             ctx: StageContext) throws -> ([Float], ActivationRows) {
        let model = try ctx.languageModel()
        var x: [Float] = []
        var rows = ActivationRows(experiment: [], event: [], position: [])
        for rec in data.experiments {
            try ctx.checkCancelled()
            var track = rec.tokens ?? TokenTrack()
            if rec.tokens == nil { track.extend(to: rec.transcript.text, tokenizer: model.tokenizer) }
            let events = rec.transcript.events.indices.filter { rec.transcript.events[$0].kind == .node }
            let positions = events.compactMap { track.position(of: rec.transcript.events[$0].span) }
            guard positions.count == events.count, !positions.isEmpty else { continue }
            let edit = intervention.edit(sequence: 0, range: 0..<track.ids.count, track: track, transcript: rec.transcript)
            let r = try model.forward(ForwardRequest(sequences: [track.ids], logitPositions: [[]], captureBlocks: [layer],
                                                     capturePositions: [positions], edits: edit.map { [$0] } ?? []), caches: nil)
            x += r.residuals[0]
            rows.experiment += events.map { _ in rec.experiment }
            rows.event += events
            rows.position += positions
        }
        return (x, rows)
    }
}

enum InterveneError: UserError {
    case noCorrelations(String)
    var message: String {
        switch self { case .noCorrelations(let v): "no block has correlations with `\(v)` to choose a latent from" }
    }
    var help: String? { "add the variable to `correlate { with = [...] }`, or give `layer` and `latent` as numbers" }
}
