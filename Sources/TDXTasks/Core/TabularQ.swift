import Foundation
import TDXCore

/// Tabular Q-learning, the learner shared by the Q-agent policy, Grid World's generating agent and TDXRL's
/// Q-learning models (so that simulated and fitted agents use one set of equations).
///
/// Per step (s, a, r, s'):  δ = r + γ·max_a' Q(s', a') − Q(s, a)   (the γ term is 0 when s' is terminal)
///                          Q(s, a) ← Q(s, a) + α·δ
/// With `lambda` > 0 (Daw et al. 2011 style eligibility), the k-th earlier step of the same episode is also
/// moved by α·λ^k·δ: with λ = 1 the stage-1 value learns the stage-2 reward directly.
public struct TabularQ: Sendable {
    public var alpha: Double
    public var gamma: Double
    public var lambda: Double
    public var initial: Double
    /// Q values by state, then action; rows appear as states are first seen.
    public private(set) var table: [[Double]] = []
    private var trace: [(state: Int, action: Int)] = []

    public init(alpha: Double, gamma: Double, lambda: Double = 0, initial: Double = 0) {
        self.alpha = alpha; self.gamma = gamma; self.lambda = lambda; self.initial = initial
    }

    /// Q(s, ·), creating the row with `actionCount` entries at `initial` if needed.
    public mutating func values(_ state: Int, actionCount: Int) -> [Double] {
        ensure(state, actionCount)
        return table[state]
    }

    private mutating func ensure(_ state: Int, _ actionCount: Int) {
        if state >= table.count { table.append(contentsOf: repeatElement([], count: state + 1 - table.count)) }
        if table[state].count < actionCount {
            table[state].append(contentsOf: repeatElement(initial, count: actionCount - table[state].count))
        }
    }

    /// max_a Q(s, a); `initial` for a state never seen.
    public func stateValue(_ state: Int) -> Double {
        guard state < table.count, let m = table[state].max() else { return initial }
        return m
    }

    /// Applies one step and returns its TD error δ.
    @discardableResult
    public mutating func update(_ step: Step) -> Double {
        ensure(step.state, step.actionCount)
        let bootstrap = step.nextState.map { gamma * stateValue($0) } ?? 0
        let delta = step.reward + bootstrap - table[step.state][step.action]
        table[step.state][step.action] += alpha * delta
        if lambda > 0 {
            var w = lambda
            for (s, a) in trace.reversed() {
                table[s][a] += alpha * w * delta
                w *= lambda
            }
        }
        if step.endsEpisode { trace.removeAll(keepingCapacity: true) } else if lambda > 0 { trace.append((step.state, step.action)) }
        return delta
    }
}

public enum Softmax {
    /// softmax(β·x), computed stably.
    public static func probabilities(_ x: [Double], beta: Double) -> [Double] {
        guard let m = x.max() else { return [] }
        var p = x.map { exp(beta * ($0 - m)) }
        let s = p.reduce(0, +)
        for i in p.indices { p[i] /= s }
        return p
    }

    /// Samples an index from probabilities `p`.
    public static func sample(_ p: [Double], rng: inout SeededRNG) -> Int {
        let u = rng.uniform()
        var c = 0.0
        for (i, v) in p.enumerated() {
            c += v
            if u < c { return i }
        }
        return p.count - 1
    }
}
