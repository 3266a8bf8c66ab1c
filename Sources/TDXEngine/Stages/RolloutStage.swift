import Foundation
import TDXCore
import TDXLang
import TDXPlan
import TDXRL
import TDXTasks

/// `rollout`: plays every experiment of the task. The language model chooses (Two-Step) or predicts
/// (Grid World, graph) at each choice slot; a spec may instead name a simulated policy for Two-Step.
struct RolloutStage: StageBody {
    let kind = StageKind.rollout
    let codeVersion = 3

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in
            let (data, captured) = try rollout(ctx)
            var out = StageOutput()
            out.json("rollout", try data.encoded())
            try captured?.write(to: &out)
            return out
        }
    }

    /// The played experiments, and the residual streams recorded on the way when the planner asked
    /// (`activations.record`).
    func rollout(_ ctx: StageContext) throws -> (RolloutData, CapturedActivations?) {
        let capture = RolloutCapture(params: ctx.stage.params)
        let p = Params(ctx.stage.params, prefix: "task")
        let seed = UInt64(truncatingIfNeeded: ctx.stage.params["seed"]?.intValue ?? 0)
        switch p.symbol("kind") {
        case "two_step":
            let config = SpecConfigs.twoStep(p)
            let policy = p["policy"] ?? .symbol("llm")
            let make: (Int) throws -> AnyPolicy
            switch policy.head {
            case "random": make = { _ in AnyPolicy(RandomPolicy()) }
            case "optimal": make = { _ in AnyPolicy(OraclePolicy()) }
            case "copier": make = { _ in AnyPolicy(MaxEpisodeCopier()) }
            case "agent":
                let name = policy.arguments.first?.symbolValue ?? ""
                let agent = SpecConfigs.agent(Params(ctx.stage.params, prefix: "agent.\(name)"))
                make = { _ in AnyPolicy(agent.makePolicy()) }
            default:
                return try LanguageModelRollout.twoStep(config, seed: seed, ctx: ctx, capture: capture, checkpoint: "rollout")
            }
            var out: [ExperimentRecord] = []
            for e in 0..<config.experiments {
                try ctx.checkCancelled()
                var pol = try make(e)
                out.append(ExperimentRecord(TwoStep.play(config, experiment: e, seed: seed, policy: &pol)))
                ctx.progress.update(e + 1, of: config.experiments)
            }
            return (RolloutData(task: "two_step", experiments: out), nil)
        case "grid_world":
            let generator = Params.agentNames(ctx.stage.params).first.map { Params(ctx.stage.params, prefix: "agent.\($0)") }
            let config = SpecConfigs.gridWorld(p, agent: generator)
            let control = p.symbol("control") == "none" ? nil : SpecConfigs.gridWorld(p, agent: generator, control: true)
            return try LanguageModelRollout.gridWorld(config, control: control, seed: seed, ctx: ctx, capture: capture, checkpoint: "rollout")
        case "graph":
            return try LanguageModelRollout.graph(SpecConfigs.graph(p), seed: seed, ctx: ctx, capture: capture, checkpoint: "rollout")
        default:
            throw NotImplementedYet("task kind `\(p.symbol("kind"))`")
        }
    }
}
