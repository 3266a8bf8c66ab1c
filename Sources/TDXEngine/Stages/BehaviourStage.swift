import Foundation
import TDXPlan
import TDXRL

/// `behaviour`: maximum-likelihood fits of the behavioural models to the choices in the rollout.
struct BehaviourStage: StageBody {
    let kind = StageKind.behaviour
    let codeVersion = 1

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in
            let rollout = try RolloutData.decode(try ctx.inputString("rollout", "rollout"))
            let config = SpecConfigs.fit(Params(ctx.stage.params, prefix: "fit"))
            let report = BehaviourFit.report(experiments: rollout.steps, config: config, seed: ctx.seed)
            var out = StageOutput()
            out.json("behaviour", String(decoding: try report.json(), as: UTF8.self))
            return out
        }
    }
}
