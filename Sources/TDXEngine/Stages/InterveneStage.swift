import Foundation
import TDXAnalysis
import TDXCore
import TDXModels
import TDXPlan
import TDXReport
import TDXRL
import TDXTasks

/// `intervene[name]`: re-runs the task with an SAE latent edited inside the language model (§7): the latent
/// most correlated with a variable at the chosen block, the control latent (lowest |r| in the same block)
/// and the full-reconstruction baseline, each kept active at every step of the closed loop. Compares
/// behaviour with the intact rollout (bootstrap CIs over experiments). `mode = replay` instead reads the
/// intact Two-Step transcripts again under each condition (intact included) and compares the model's
/// probabilities at the same choices (§9.11).
struct InterveneStage: StageBody {
    let kind = StageKind.intervene
    let codeVersion = 6

    func run(_ group: [StageContext]) throws -> [StageOutput] { try group.map(intervene) }

    func intervene(_ ctx: StageContext) throws -> StageOutput {
        let name = ctx.stage.name ?? ""
        let p = Params(ctx.stage.params, prefix: "intervene.\(name)")
        let task = Params(ctx.stage.params, prefix: "task")
        let seed = UInt64(truncatingIfNeeded: ctx.stage.params["seed"]?.intValue ?? 0)
        let intact = try RolloutData.decode(try ctx.inputString("rollout", "rollout"))

        // Which variable, blocks and latents.
        let variable = [p["layer"], p["latent"], p["control"]].compactMap { $0?.arguments.first?.symbolValue }.first ?? "td_error"
        let agent = p["agent"]?.head ?? (p.string("agent").isEmpty ? nil : p.string("agent"))
        var correlations: [Int: CorrelationResult] = [:]
        for id in ctx.inputs(of: .correlate) { let c = try ctx.correlations(id); correlations[c.layer] = c }
        let targets = try Self.targets(p, variable: variable, agent: agent, correlations: correlations, ctx: ctx)
        let threshold = Self.threshold(p)
        let layer = targets[0].block, latent = targets[0].latent, control = targets[0].control
        guard let vc = correlations[layer]?.variable(variable, agent: agent) else { throw InterveneError.noCorrelations(variable) }
        let blocks = targets.blocks
        var dictionaries: [Int: SAEDictionary] = [:]
        for b in blocks { dictionaries[b] = try ctx.sae("sae[\(b)]").dictionary }
        let factor = Float(p["edit"]?.arguments.first?.doubleValue ?? 0)
        var largest: [Int: [Float]] = [:]   // block → each latent's largest activation, for clamp_max
        func action(block b: Int, latent k: Int) throws -> LatentEdit.Action {
            switch p["edit"]?.head ?? "zero" {
            case "scale": return .scale(factor)
            case "clamp": return .clamp(factor)
            case "clamp_max":
                if largest[b] == nil { largest[b] = try Self.largestActivations(block: b, ctx: ctx) }
                return .clamp(factor * largest[b]![k])
            default: return .zero
            }
        }
        let onlyEvents = p.symbol("positions") == "events"
        let count = p.int("experiments", 0)
        let experiments = count > 0 ? Array(intact.experiments.map(\.experiment).prefix(count)) : intact.experiments.map(\.experiment)
        let isTwoStep = intact.task == "two_step"
        // Prediction tasks read the transcripts the generator wrote whatever the model predicts: both modes are one.
        let replay = isTwoStep && p.symbol("mode") == "replay"
        let intactRun = RolloutData(task: intact.task, experiments: intact.experiments.filter { experiments.contains($0.experiment) })

        // Behaviour under each condition (a replay reads the intact run again as its own first condition).
        var conditions: [(String, RolloutData)] = replay ? [] : [("intact", intactRun)]
        // Each condition edits every block holding one of its latents.
        func latentEdits(_ pick: (InterventionTarget) -> Int?) throws -> [(block: Int, operation: ResidualEdit.Operation)] {
            try blocks.compactMap { b in
                let edits = try targets.filter { $0.block == b }.compactMap(pick).map { LatentEdit(latent: $0, action: try action(block: b, latent: $0)) }
                return edits.isEmpty ? nil : (b, .saeLatents(dictionaries[b]!, edits))
            }
        }
        var runs: [(String, [(block: Int, operation: ResidualEdit.Operation)])] = replay ? [("intact", [])] : []
        runs.append(("latent", try latentEdits(\.latent)))
        if control != nil { runs.append(("control", try latentEdits(\.control))) }
        if p.bool("baseline", true) { runs.append(("reconstruction", blocks.map { ($0, .saeReconstruct(dictionaries[$0]!)) })) }
        // Later blocks (after the deepest edited one): max |r| (or `correlate.sign`'s) with the variable, recomputed along each
        // condition's own trajectories from the residual streams the re-run records (intact: exactly what the
        // correlate stages measured).
        let later = ctx.inputs(of: .sae).compactMap { id in Int(id.dropFirst(4).prefix { $0 != "]" }) }.filter { $0 > blocks.last! }.sorted()
        var downstreamAgent: (Params, String)?
        if let agentName = p["agent"]?.head, !later.isEmpty, let column = VariablesStage.columns[vc.variable] {
            downstreamAgent = (Params(ctx.stage.params, prefix: "agent.\(agentName)"), column)
        }
        let isGraph = intact.task == "graph"
        // The graph task also keeps the edited blocks' streams at the node events, for the geometry stage.
        let recordBlocks = (isGraph ? blocks : []) + (downstreamAgent == nil ? [] : later)
        let capture = recordBlocks.isEmpty ? nil : RolloutCapture(blocks: recordBlocks)
        var captured: [String: CapturedActivations] = [:]
        let shared = { try Self.sharedLowerBlocks(ctx, intact: intactRun, after: blocks.min()!, seed: seed, experiments: experiments) }
        for (label, edits) in runs {
            try ctx.checkCancelled()
            ctx.progress.note("condition \(label)")
            let iv = LanguageModelRollout.Intervention(blocks: edits, onlyEvents: onlyEvents)
            let play = {
                try self.rerun(task, seed: seed, intervention: iv, experiments: experiments, capture: capture,
                               checkpoint: (replay ? "replay-" : "condition-") + label, ctx: ctx, replay: replay ? intactRun : nil,
                               shared: shared)
            }
            let (data, rec) = replay && edits.isEmpty
                ? try IntactReplayMemo.shared(ctx.services).value(try IntactReplayMemo.key(ctx, seed: seed, experiments: experiments, capture: capture)) {
                    let (d, c) = try play()
                    return IntactReplay(data: d, captured: c)
                }.pair
                : try play()
            conditions.append((label, data))
            captured[label] = rec
        }
        var downstream: [String: [String: Double]] = [:]
        if let (agentConfig, column) = downstreamAgent {
            let fits: BehaviourReport? = ctx.hasInput("behaviour")
                ? try? JSONDecoder().decode(BehaviourReport.self, from: try ctx.inputData("behaviour", "behaviour")) : nil
            if replay {
                // The intact replay recorded its own streams, below with the other conditions.
            } else if experiments.count == intact.experiments.count && vc.partialOut == nil {
                // Exactly what the correlate stages measured (same rows, same SAEs; the re-runs' r is not partial).
                downstream["intact"] = Dictionary(uniqueKeysWithValues: later.compactMap { b in
                    correlations[b]?.variable(vc.variable, agent: vc.agent).map { (String(b), $0.strength) }
                })
            } else if let rowsJSON = try? ctx.inputString("rollout", CapturedActivations.rowsBlob) {
                // Only some experiments were re-run: intact is measured on the same experiments, from the
                // streams the rollout recorded, so every condition is compared on the same rows.
                let recorded = CapturedActivations(blocks: later, rows: try ActivationRows.decode(rowsJSON),
                                                   x: try later.map { try ctx.inputFloats("rollout", CapturedActivations.blob(block: $0)) })
                downstream["intact"] = try laterCorrelations(conditions[0].1, captured: recorded, blocks: later, column: column,
                                                             agent: agentConfig, fits: fits, sign: vc.correlationSign, ctx: ctx)
            }
            for (label, data) in conditions where downstream[label] == nil {
                guard let rec = captured[label] else { continue }
                downstream[label] = try laterCorrelations(data, captured: rec, blocks: later, column: column, agent: agentConfig,
                                                          fits: fits, sign: vc.correlationSign, ctx: ctx)
            }
        }
        // Q-learning consistency uses the behaviour fit, when there is one.
        var qModel: (BehaviourModel, [Double])?
        if ctx.hasInput("behaviour"),
           let fits = try? JSONDecoder().decode(BehaviourReport.self, from: try ctx.inputData("behaviour", "behaviour")),
           let q = fits.models.first(where: { $0.name == "q_learning" }) {
            let model = BehaviourModel(.qLearning)
            qModel = (model, model.parameterNames.map { q.params[$0] ?? 0 })
        }
        let skip = task.int("random_episodes", 0)
        let replayIntactLogP = replay ? InterventionStats.replay(conditions[0].1, intact: conditions[0].1, q: nil).logP : []
        let results = conditions.map { label, data -> InterventionResult.Condition in
            if replay {
                let s = InterventionStats.replay(data, intact: conditions[0].1, q: qModel)
                let (m, lo, hi) = InterventionStats.meanCI(s.logP, seed: ctx.seed)
                var c = InterventionResult.Condition(name: label, perExperiment: s.logP, mean: m, ciLow: lo, ciHigh: hi)
                c.qConsistency = s.expectedQ; c.changed = s.changed
                let (d, dlo, dhi) = InterventionStats.meanCI(zip(s.logP, replayIntactLogP).map { $0 - $1 }, seed: ctx.seed)
                c.versusIntact = [d, dlo, dhi]
                c.downstream = downstream[label]
                return c
            }
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
            name: name, layer: layer, variable: vc.name, latent: latent, latentR: targets[0].r,
            control: control, controlR: targets[0].controlR, edit: p["edit"]?.canonical ?? "zero",
            positions: onlyEvents ? "events" : "all", metric: replay ? InterventionResult.replayMetric : isTwoStep ? "points" : "accuracy",
            experiments: experiments, conditions: results, targets: targets.count > 1 || threshold != nil ? targets : nil,
            mode: replay ? "replay" : nil, threshold: threshold,
            largest: largest.isEmpty ? nil : Dictionary(uniqueKeysWithValues: targets.flatMap { t in
                ([t.latent] + (t.control.map { [$0] } ?? [])).map { ("\(t.block).\($0)", Double(largest[t.block]![$0])) }
            }), sign: vc.sign)
        var out = StageOutput()
        out.json("intervention", try result.encoded())
        for (label, data) in conditions.dropFirst() { out.json("rollout.\(label)", try data.encoded()) }
        if isGraph, let rec = captured["latent"] {
            // Lesioned representations at each edited block, for the geometry stage.
            for (i, b) in blocks.enumerated() {
                let (x, rows) = lesionedActivations(rec, block: i, data: conditions[1].1)
                let names = GeometryStage.lesionedBlobs(layer: b)
                out.floats(names.x, x, shape: [rows.count, x.count / max(1, rows.count)])
                out.json(names.rows, try rows.encoded())
            }
        }
        return out
    }

    /// The intact run's blocks 0...after that the closed-loop conditions share (`SharedLowerBlocks`), from
    /// memory when another intervention on the same experiments and block computed them; nil with a worker,
    /// or when they would take more than 3 GiB.
    static func sharedLowerBlocks(_ ctx: StageContext, intact: RolloutData, after: Int, seed: UInt64,
                                  experiments: [Int]) throws -> SharedLowerBlocks? {
        let model = try ctx.languageModel()
        guard model.keepsCaches else { return nil }
        let tokens = intact.experiments.reduce(0) { $0 + ($1.tokens?.ids.count ?? 0) }
        guard SharedLowerBlocks.bytes(tokens: tokens, after: after, config: model.config) <= 3 << 30 else { return nil }
        let key = try SharedLowerBlocksMemo.intactKey(ctx, seed: seed, experiments: experiments, extra: "lower-blocks-after=\(after)")
        return try SharedLowerBlocksMemo.shared(ctx.services).value(key) {
            ctx.progress.note("intact blocks 0–\(after), shared by every condition")
            return try SharedLowerBlocks(model: model, records: intact.experiments, after: after, checkCancelled: { try ctx.checkCancelled() })
        }
    }

    /// Each latent's largest activation at a block over the rows its SAE was trained on (`clamp_max`).
    static func largestActivations(block b: Int, ctx: StageContext) throws -> [Float] {
        let sae = try ctx.sae("sae[\(b)]")
        let x = try ctx.inputFloats("activations[\(b)]", "x")
        let d = sae.dIn, rows = x.count / max(1, d)
        var top = [Float](repeating: 0, count: sae.dSAE)
        var r0 = 0
        while r0 < rows {   // in chunks: a paper-scale block holds ~100,000 rows
            let m = min(4096, rows - r0)
            let h = sae.encode(Array(x[(r0 * d)..<((r0 + m) * d)]), rows: m)
            for i in 0..<m { for k in 0..<sae.dSAE where h[i * sae.dSAE + k] > top[k] { top[k] = h[i * sae.dSAE + k] } }
            r0 += m
        }
        return top
    }

    func rerun(_ task: Params, seed: UInt64, intervention: LanguageModelRollout.Intervention, experiments: [Int],
               capture: RolloutCapture?, checkpoint: String, ctx: StageContext,
               replay: RolloutData? = nil, shared: (() throws -> SharedLowerBlocks?)? = nil) throws -> (RolloutData, CapturedActivations?) {
        switch task.symbol("kind") {
        case "two_step":
            return try LanguageModelRollout.twoStep(SpecConfigs.twoStep(task), seed: seed, ctx: ctx, intervention: intervention,
                                                    experiments: experiments, capture: capture, checkpoint: checkpoint,
                                                    replay: replay.map { Dictionary(uniqueKeysWithValues: $0.experiments.map { ($0.experiment, $0) }) },
                                                    shared: shared)
        case "grid_world":
            // The planner names the generating agent (it may not be the agent whose variable is edited).
            let name = task.symbol("generator")
            let gen = name.isEmpty ? nil : Params(ctx.stage.params, prefix: "agent.\(name)")
            return try LanguageModelRollout.gridWorld(SpecConfigs.gridWorld(task, agent: gen), control: nil, seed: seed, ctx: ctx,
                                                      intervention: intervention, experiments: experiments, capture: capture,
                                                    checkpoint: checkpoint)
        default:
            return try LanguageModelRollout.graph(SpecConfigs.graph(task), seed: seed, ctx: ctx, intervention: intervention,
                                                  experiments: experiments, capture: capture,
                                                    checkpoint: checkpoint)
        }
    }

    /// Max |r| (or r, −r by `sign`) over SAE latents between each later block's representation (recorded with
    /// the edit active) and the agent's variable computed along these trajectories.
    func laterCorrelations(_ data: RolloutData, captured: CapturedActivations, blocks: [Int], column: String,
                           agent: Params, fits: BehaviourReport?, sign: CorrelationSign, ctx: StageContext) throws -> [String: Double] {
        struct Row: Hashable { var experiment: Int; var event: Int }
        var value: [Row: Float] = [:]
        for rec in data.experiments {
            guard let table = VariablesStage.table(agent: agent, fits: fits, experiment: rec) else { continue }
            for (event, v) in table.aligned(column) where v.isFinite { value[Row(experiment: rec.experiment, event: event)] = Float(v) }
        }
        let rows = captured.rows
        let picked = (0..<rows.count).filter { value[Row(experiment: rows.experiment[$0], event: rows.event[$0])] != nil }
        let ys = picked.map { value[Row(experiment: rows.experiment[$0], event: rows.event[$0])]! }
        var out: [String: Double] = [:]
        guard ys.count >= 3 else { return out }
        for block in blocks {
            guard let b = captured.blocks.firstIndex(of: block) else { continue }
            let d = captured.x[b].count / max(1, rows.count)
            var x = [Float](); x.reserveCapacity(picked.count * d)
            for i in picked { x += captured.x[b][(i * d)..<((i + 1) * d)] }
            let sae = try ctx.sae("sae[\(block)]")
            let h = sae.encode(x, rows: ys.count)
            let r = Correlation.matrix(features: h, variables: ys, samples: ys.count, featureCount: sae.dSAE, variableCount: 1)
            out[String(block)] = Double(Correlation.strongest(r, sign: sign).first.map { sign.score($0.r) } ?? .nan)
        }
        return out
    }

    /// The recorded stream after an edited block (recorded block `b`) at the node events.
    func lesionedActivations(_ captured: CapturedActivations, block b: Int, data: RolloutData) -> ([Float], ActivationRows) {
        let kinds = Dictionary(uniqueKeysWithValues: data.experiments.map { ($0.experiment, $0.transcript.events.map(\.kind)) })
        let src = captured.rows
        let d = src.count > 0 ? captured.x[b].count / src.count : 0
        var x: [Float] = []
        var rows = ActivationRows(experiment: [], event: [], position: [])
        for i in 0..<src.count where kinds[src.experiment[i]]?[src.event[i]] == .node {
            x += captured.x[b][(i * d)..<((i + 1) * d)]
            rows.experiment.append(src.experiment[i]); rows.event.append(src.event[i]); rows.position.append(src.position[i])
        }
        return (x, rows)
    }
}

enum InterveneError: UserError {
    case noCorrelations(String)
    case noCorrelationsInBlocks(String, [Int])
    case tooFewLatents(String, wanted: Int, found: Int)
    case noControlLeft(block: Int)
    case noneAbove(String, threshold: Double, best: (r: Double, block: Int)?, sign: CorrelationSign)
    case replayMissing(Int)
    case replayDiverged(Int)
    var message: String {
        switch self {
        case .noCorrelations(let v): "no block has correlations with `\(v)` to choose a latent from"
        case .noCorrelationsInBlocks(let v, let blocks):
            "none of the blocks `layer` names (\(blocks.map(String.init).joined(separator: ", "))) has correlations with `\(v)`"
        case .noControlLeft(let b): "block \(b) has no active latent left to serve as a control for every latent edited there"
        case .tooFewLatents(let v, let wanted, let found): "`top(\(v), \(wanted))` asks for \(wanted) latents but the blocks have \(found) whose r with `\(v)` is not zero"
        case .noneAbove(let v, let t, let best, let sign):
            "no latent in the blocks of `layer` has \(sign.label) ≥ \(NumberFormat.format(t)) with `\(v)`"
                + (best.map { " (the highest is \(NumberFormat.format($0.r)), at block \($0.block))" } ?? "")
        case .replayMissing(let e): "experiment \(e) is not in the intact rollout, so it cannot be replayed"
        case .replayDiverged(let e): "replaying experiment \(e) with the intact run's choices did not write the intact run's transcript"
        }
    }
    var help: String? {
        switch self {
        case .noCorrelations: "add the variable to `correlate { with = [...] }`, or give `layer` and `latent` as numbers"
        case .noCorrelationsInBlocks: "record and correlate those blocks (`activations { layers = ... }`), or name blocks that are"
        case .tooFewLatents: "ask for fewer latents, or name more blocks in `layer`"
        case .noControlLeft: "ask for fewer latents, name more blocks in `layer`, or set `control = none`"
        case .noneAbove(let v, _, _, _): "lower the threshold, name more blocks in `layer`, or edit a fixed number with `top(\(v), n)`"
        case .replayMissing, .replayDiverged:
            "the cached rollout was written by another version of the task; recompute it with `tdx run <spec> --force rollout`"
        }
    }
}
