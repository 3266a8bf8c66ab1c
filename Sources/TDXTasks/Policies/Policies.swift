import TDXCore

/// Uniformly random answers.
public struct RandomPolicy: Policy {
    public init() {}
    public mutating func choose(_ slot: ChoiceSlot, transcript: Transcript, rng: inout SeededRNG) -> Decision {
        let n = slot.answers.count
        return Decision(index: rng.int(below: n), probabilities: Array(repeating: 1 / Double(n), count: n))
    }
    public mutating func observe(_ step: Step) {}
}

/// Knows the task's truth (reward means, goal, graph): picks uniformly among the slot's optimal answers.
/// Two-Step: the action with the highest expected reward; Grid World: a move that shortens the distance to the
/// goal; graph: a neighbour of the current node (which reaches the ceiling accuracy 1/degree).
public struct OraclePolicy: Policy {
    public init() {}
    public mutating func choose(_ slot: ChoiceSlot, transcript: Transcript, rng: inout SeededRNG) -> Decision {
        let n = slot.answers.count
        var p = Array(repeating: 0.0, count: n)
        for i in slot.optimal { p[i] = 1 / Double(slot.optimal.count) }
        return Decision(index: slot.optimal[rng.int(below: slot.optimal.count)], probabilities: p)
    }
    public mutating func observe(_ step: Step) {}
}

/// The exploration rule of a Q-agent.
public enum Exploration: String, Codable, Sendable, CaseIterable {
    /// p(a|s) = softmax(β·Q(s, ·)).
    case softmax
    /// Greedy with probability 1 − ε (ties broken uniformly), uniformly random with probability ε.
    case epsilonGreedy = "epsilon_greedy"
}

/// A softmax (or ε-greedy) tabular Q-learning agent.
public struct QAgentPolicy: Policy {
    public var learner: TabularQ
    public var exploration: Exploration
    public var beta: Double
    public var epsilon: Double

    public init(alpha: Double, gamma: Double, beta: Double, exploration: Exploration = .softmax, epsilon: Double = 0.1,
                lambda: Double = 0, initial: Double = 0) {
        learner = TabularQ(alpha: alpha, gamma: gamma, lambda: lambda, initial: initial)
        self.exploration = exploration; self.beta = beta; self.epsilon = epsilon
    }

    /// The agent's choice probabilities at a state.
    public mutating func probabilities(state: Int, actionCount: Int) -> [Double] {
        let q = learner.values(state, actionCount: actionCount)
        switch exploration {
        case .softmax:
            return Softmax.probabilities(q, beta: beta)
        case .epsilonGreedy:
            let m = q.max()!
            let best = q.indices.filter { q[$0] == m }
            return q.indices.map { (best.contains($0) ? (1 - epsilon) / Double(best.count) : 0) + epsilon / Double(q.count) }
        }
    }

    public mutating func choose(_ slot: ChoiceSlot, transcript: Transcript, rng: inout SeededRNG) -> Decision {
        let p = probabilities(state: slot.state, actionCount: slot.answers.count)
        return Decision(index: Softmax.sample(p, rng: &rng), probabilities: p)
    }

    public mutating func observe(_ step: Step) { learner.update(step) }
}

/// Reviewer 4's heuristic: in each state, repeat the action taken there in the past episode with the most
/// points (among past episodes that visited the state; ties go to the latest). Random until a state has history.
public struct MaxEpisodeCopier: Policy {
    private var current: [(state: Int, action: Int)] = []
    private var currentReturn = 0.0
    /// Per state: (best return of an episode visiting it, the action taken there).
    private var best: [Int: (ret: Double, action: Int)] = [:]

    public init() {}

    public mutating func choose(_ slot: ChoiceSlot, transcript: Transcript, rng: inout SeededRNG) -> Decision {
        let n = slot.answers.count
        guard let b = best[slot.state], b.action < n else {
            return Decision(index: rng.int(below: n), probabilities: Array(repeating: 1 / Double(n), count: n))
        }
        var p = Array(repeating: 0.0, count: n); p[b.action] = 1
        return Decision(index: b.action, probabilities: p)
    }

    public mutating func observe(_ step: Step) {
        current.append((step.state, step.action))
        currentReturn += step.reward
        guard step.endsEpisode else { return }
        for (s, a) in current where currentReturn >= (best[s]?.ret ?? -.infinity) { best[s] = (currentReturn, a) }
        current.removeAll(); currentReturn = 0
    }
}
