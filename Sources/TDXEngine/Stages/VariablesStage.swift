import Foundation
import TDXLang
import TDXPlan
import TDXRL
import TDXTasks

/// Per-experiment RL variables, each value tied to the transcript event it belongs to, named
/// `<agent>.<variable>` with the language's variable names (`q_learning.td_error`).
public struct VariablesData: Codable, Sendable {
    public struct Column: Codable, Sendable {
        public var events: [Int]
        public var values: [Double]
    }
    /// experiment → variable → column.
    public var experiments: [[String: Column]]

    public var names: [String] { Array(Set(experiments.flatMap(\.keys))).sorted() }

    public func encoded() throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
    public static func decode(_ text: String) throws -> VariablesData {
        try JSONDecoder().decode(VariablesData.self, from: Data(text.utf8))
    }
}

/// `rl_variables`: runs every agent block along the rollout's steps (or walks).
struct VariablesStage: StageBody {
    let kind = StageKind.rlVariables
    let codeVersion = 1

    /// Language variable name → the library's column name.
    static let columns: [String: String] = [
        "td_error": "td_error", "q_value": "q_chosen", "q_unchosen": "q_unchosen", "value": "v",
        "choice_kernel": "q_chosen", "sr": "sr_value", "sr_td_error": "sr_td", "sr_td_norm": "sr_td_norm",
        "transition": "transition_prob", "surprise": "surprise", "model_surprise": "model_surprise",
        "time": "time",
    ]

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in
            let rollout = try RolloutData.decode(try ctx.inputString("rollout", "rollout"))
            let fits: BehaviourReport? = ctx.hasInput("behaviour")
                ? try JSONDecoder().decode(BehaviourReport.self, from: try ctx.inputData("behaviour", "behaviour")) : nil
            var data = VariablesData(experiments: Array(repeating: [:], count: rollout.experiments.count))
            for name in Params.agentNames(ctx.stage.params) {
                let p = Params(ctx.stage.params, prefix: "agent.\(name)")
                let kind = p.symbol("kind")
                let provided = Schema.variables.filter { $0.providedBy.contains(kind) }.map(\.name)
                for (i, e) in rollout.experiments.enumerated() {
                    try ctx.checkCancelled()
                    guard let table = Self.table(agent: p, fits: fits, experiment: e) else { continue }
                    for v in provided {
                        if v == "reward" {
                            data.experiments[i]["\(name).reward"] = .init(events: e.steps.map(\.outcomeEvent), values: e.steps.map(\.reward))
                            continue
                        }
                        guard let col = Self.columns[v], table.columns[col] != nil else { continue }
                        let aligned = table.aligned(col)
                        data.experiments[i]["\(name).\(v)"] = .init(events: aligned.map(\.event), values: aligned.map(\.value))
                    }
                }
            }
            var out = StageOutput()
            out.json("variables", try data.encoded())
            return out
        }
    }

    /// One agent's variables along one experiment: behavioural agents along its steps, SR and transition
    /// agents along its walk (nil when the experiment has none).
    static func table(agent p: Params, fits: BehaviourReport?, experiment e: ExperimentRecord) -> VariableTable? {
        let kind = p.symbol("kind")
        if kind == "readout" { return RLVariables.readout(e.transcript, experiment: e.experiment) }
        if kind == "clock" {
            // Walks step from node to node; other tasks from choice to outcome.
            if let events = e.nodeEvents, events.count > 1 {
                return RLVariables.clock(from: Array(events.dropLast()), to: Array(events.dropFirst()), experiment: e.experiment)
            }
            return RLVariables.clock(from: e.steps.map(\.choiceEvent), to: e.steps.map(\.outcomeEvent), experiment: e.experiment)
        }
        if kind == "sr" || kind == "transition" {
            guard let walk = e.walk, let events = e.nodeEvents, let names = e.names else { return nil }
            return SuccessorRepresentation.run(SpecConfigs.sr(p), walk: walk, nodeCount: names.count,
                                               nodeEvents: events, experiment: e.experiment).table
        }
        let agent = SpecConfigs.agent(p)
        return RLVariables.behaviour(agent.behaviourModel, parameters: agent.parameters(from: fits), steps: e.steps, experiment: e.experiment)
    }
}
