import Foundation
import TDXTasks

/// A choice model as an online learner: choice probabilities before each step, then an update from the step.
/// Fitting sums −log p(chosen) over steps; simulating samples from the same probabilities (so that simulated
/// and fitted agents share their equations exactly).
public protocol ChoiceLearner {
    /// The model's action values at `state` (Q, or the choice kernel / repetition indicator for those models).
    mutating func values(state: Int, actionCount: Int) -> [Double]
    /// p(a | state) for every action.
    mutating func probabilities(state: Int, actionCount: Int) -> [Double]
    /// Learns from a step; returns the model's prediction error (TD error δ), NaN when it has none.
    mutating func update(_ step: Step) -> Double
}

/// Q-learning (`TabularQ`) with softmax(β·Q) choices. Myopic Q-learning is this with γ = 0.
public struct QLearner: ChoiceLearner {
    public var q: TabularQ
    public var beta: Double
    public init(alpha: Double, gamma: Double, beta: Double, lambda: Double = 0, initial: Double = 0) {
        q = TabularQ(alpha: alpha, gamma: gamma, lambda: lambda, initial: initial); self.beta = beta
    }
    public mutating func values(state: Int, actionCount: Int) -> [Double] { q.values(state, actionCount: actionCount) }
    public mutating func probabilities(state: Int, actionCount: Int) -> [Double] {
        Softmax.probabilities(q.values(state, actionCount: actionCount), beta: beta)
    }
    public mutating func update(_ step: Step) -> Double { q.update(step) }
}

/// Repetition: p(a | s) ∝ exp(κ·[a is the last action taken in s]); uniform in a state not yet visited.
public struct RepetitionLearner: ChoiceLearner {
    public var kappa: Double
    private var last: [Int: Int] = [:]
    public init(kappa: Double) { self.kappa = kappa }
    public mutating func values(state: Int, actionCount: Int) -> [Double] {
        (0..<actionCount).map { last[state] == $0 ? 1 : 0 }
    }
    public mutating func probabilities(state: Int, actionCount: Int) -> [Double] {
        Softmax.probabilities(values(state: state, actionCount: actionCount), beta: kappa)
    }
    public mutating func update(_ step: Step) -> Double { last[step.state] = step.action; return .nan }
}

/// Choice kernel: CK(s, ·) ← CK(s, ·) + α_c·(onehot(a) − CK(s, ·)); p(a | s) = softmax(β_c·CK(s, ·)).
public struct ChoiceKernelLearner: ChoiceLearner {
    public var alpha: Double, beta: Double
    private var kernel: [Int: [Double]] = [:]
    public init(alpha: Double, beta: Double) { self.alpha = alpha; self.beta = beta }
    public mutating func values(state: Int, actionCount: Int) -> [Double] {
        kernel[state] ?? Array(repeating: 0, count: actionCount)
    }
    public mutating func probabilities(state: Int, actionCount: Int) -> [Double] {
        Softmax.probabilities(values(state: state, actionCount: actionCount), beta: beta)
    }
    public mutating func update(_ step: Step) -> Double {
        var k = values(state: step.state, actionCount: step.actionCount)
        for i in k.indices { k[i] += alpha * ((i == step.action ? 1 : 0) - k[i]) }
        kernel[step.state] = k
        return .nan
    }
}

/// Model-based / hybrid (Daw et al. 2011). Model-free values Q_MF learn by `TabularQ` with γ = 1. Where a
/// state's actions have led to non-terminal states, the model-based value is a one-step look-ahead through the
/// learned transition estimate: Q_MB(s, a) = Σ_s' T̂(s, a, s')·max_a' Q_MF(s', a'), with
/// T̂(s, a, s') = (n(s, a, s') + 1) / (n(s, a) + K_s) over the K_s successors seen from s (Laplace prior).
/// Choices: softmax(β·(w·Q_MB + (1 − w)·Q_MF)); w = 1 is the pure model-based model. Elsewhere Q = Q_MF.
public struct HybridLearner: ChoiceLearner {
    public var mf: TabularQ
    public var beta: Double, w: Double
    /// n(s, a, s') by state, action, successor.
    private var counts: [Int: [Int: [Int: Double]]] = [:]
    private var successors: [Int: Set<Int>] = [:]

    public init(alpha: Double, beta: Double, w: Double, initial: Double = 0) {
        mf = TabularQ(alpha: alpha, gamma: 1, initial: initial); self.beta = beta; self.w = w
    }

    public mutating func values(state: Int, actionCount: Int) -> [Double] {
        let qmf = mf.values(state, actionCount: actionCount)
        guard let succ = successors[state], !succ.isEmpty else { return qmf }
        let k = Double(succ.count)
        return (0..<actionCount).map { a in
            let row = counts[state]?[a] ?? [:]
            let n = row.values.reduce(0, +)
            let mb = succ.reduce(0.0) { $0 + (row[$1, default: 0] + 1) / (n + k) * mf.stateValue($1) }
            return w * mb + (1 - w) * qmf[a]
        }
    }

    public mutating func probabilities(state: Int, actionCount: Int) -> [Double] {
        Softmax.probabilities(values(state: state, actionCount: actionCount), beta: beta)
    }

    public mutating func update(_ step: Step) -> Double {
        if let next = step.nextState, !step.isLastOfEpisode {
            counts[step.state, default: [:]][step.action, default: [:]][next, default: 0] += 1
            successors[step.state, default: []].insert(next)
        }
        return mf.update(step)
    }
}
