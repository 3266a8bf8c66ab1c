import Foundation
import TDXTasks

/// Where in the transcript a variable belongs.
public enum Anchor: String, Codable, Sendable {
    /// The event where the step starts: the choice slot (Two-Step, Grid World) or the current node (graph).
    case from
    /// The event where its outcome is revealed: the state reached / the reward (TD errors), the next node.
    case to
}

/// Per-step model variables of one experiment, aligned to transcript events. Row i belongs to step i;
/// column `name` is anchored at `fromEvents[i]` or `toEvents[i]` as `anchors[name]` says. NaN where a
/// variable is undefined (e.g. the TD error of a model without one).
public struct VariableTable: Codable, Sendable {
    public var experiment: Int
    public var fromEvents: [Int]
    public var toEvents: [Int]
    public var columns: [String: [Double]]
    public var anchors: [String: Anchor]

    /// (event index, value) pairs of a column, in step order.
    public func aligned(_ name: String) -> [(event: Int, value: Double)] {
        guard let c = columns[name], let a = anchors[name] else { return [] }
        let ev = a == .from ? fromEvents : toEvents
        return zip(ev, c).map { ($0, $1) }
    }
}

public enum RLVariables {
    /// A behavioural model's variables along steps, prefixed by `prefix` (e.g. "q_learning."):
    /// `td_error` (δ of the step, anchored at its outcome); `q_chosen`, `q_unchosen` (mean over the other
    /// actions), `v` (max_a Q(s, a)), `p_chosen` (model probability of the action taken), all before the
    /// update and anchored at the choice. For repetition / choice-kernel models the "Q" columns hold the
    /// kernel values.
    public static func behaviour(_ model: BehaviourModel, parameters: [Double], steps: [Step], experiment: Int,
                                 prefix: String = "") -> VariableTable {
        var learner = model.learner(parameters)
        var cols: [String: [Double]] = ["td_error": [], "q_chosen": [], "q_unchosen": [], "v": [], "p_chosen": []]
        for s in steps {
            let q = learner.values(state: s.state, actionCount: s.actionCount)
            let p = learner.probabilities(state: s.state, actionCount: s.actionCount)
            let others = q.indices.filter { $0 != s.action }.map { q[$0] }
            cols["q_chosen"]!.append(q[s.action])
            cols["q_unchosen"]!.append(others.isEmpty ? .nan : others.reduce(0, +) / Double(others.count))
            cols["v"]!.append(q.max()!)
            cols["p_chosen"]!.append(p[s.action])
            cols["td_error"]!.append(learner.update(s))
        }
        let anchors: [String: Anchor] = ["td_error": .to, "q_chosen": .from, "q_unchosen": .from, "v": .from, "p_chosen": .from]
        return VariableTable(experiment: experiment, fromEvents: steps.map(\.choiceEvent), toEvents: steps.map(\.outcomeEvent),
                             columns: Dictionary(uniqueKeysWithValues: cols.map { (prefix + $0.key, $0.value) }),
                             anchors: Dictionary(uniqueKeysWithValues: anchors.map { (prefix + $0.key, $0.value) }))
    }

    /// The index t of each step (0-based), anchored at its outcome: how far learning has gone, for variables
    /// that drift with it (SR values grow and surprise falls along a walk, as a position code might).
    public static func clock(from: [Int], to: [Int], experiment: Int) -> VariableTable {
        VariableTable(experiment: experiment, fromEvents: from, toEvents: to, columns: ["time": to.indices.map(Double.init)],
                      anchors: ["time": .to])
    }

    /// The model's own surprise at each choice slot where it gave probabilities: `model_surprise` =
    /// −log p(written answer), anchored at the slot, or at the node event laid over the slot's text in the
    /// graph task (where the node rows are).
    public static func readout(_ transcript: Transcript, experiment: Int) -> VariableTable {
        let events = transcript.events
        var from: [Int] = [], to: [Int] = [], surprise: [Double] = []
        for (i, ev) in events.enumerated() where ev.kind == .choice {
            guard let p = ev.probabilities, let w = ev.written, p.indices.contains(w) else { continue }
            let node = i + 1 < events.count && events[i + 1].kind == .node && events[i + 1].span == ev.span
            from.append(i); to.append(node ? i + 1 : i)
            surprise.append(-log(max(p[w], .leastNormalMagnitude)))
        }
        return VariableTable(experiment: experiment, fromEvents: from, toEvents: to, columns: ["model_surprise": surprise],
                             anchors: ["model_surprise": .to])
    }
}
