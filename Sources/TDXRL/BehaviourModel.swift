import Foundation
import TDXCore
import TDXTasks

/// The behavioural models (SCIENCE.md §4.1). Raw values are the names used in specs and reports.
public enum ModelKind: String, Codable, Sendable, Hashable, CaseIterable {
    /// Q-learning, Bellman max backup: α, γ, β.
    case qLearning = "q_learning"
    /// Q-learning with γ fixed to 0: α, β.
    case myopic
    /// Tendency to repeat the last action taken in the same state: κ.
    case repetition
    /// Choice kernel: α_c, β_c.
    case choiceKernel = "choice_kernel"
    /// Model-based look-ahead through learned transitions: α, β.
    case modelBased = "model_based"
    /// Weighted model-based + model-free: α, β, w.
    case hybrid
}

/// A model with its fixed options and the bounds of its free parameters.
public struct BehaviourModel: Sendable, Hashable {
    public var kind: ModelKind
    public var options: ModelOptions

    public init(_ kind: ModelKind, options: ModelOptions = ModelOptions()) { self.kind = kind; self.options = options }

    public var name: String { kind.rawValue }

    /// Free parameter names, in the order of parameter vectors.
    public var parameterNames: [String] {
        switch kind {
        case .qLearning: ["alpha", "gamma", "beta"]
        case .myopic, .modelBased, .choiceKernel: ["alpha", "beta"]
        case .repetition: ["kappa"]
        case .hybrid: ["alpha", "beta", "w"]
        }
    }

    public var lower: [Double] { parameterNames.map { $0 == "kappa" ? -options.kappaMax : 0 } }

    public var upper: [Double] {
        parameterNames.map { switch $0 { case "beta": options.betaMax; case "kappa": options.kappaMax; default: 1 } }
    }

    /// A fresh learner (one per experiment) with parameters in `parameterNames` order.
    public func learner(_ p: [Double]) -> any ChoiceLearner {
        switch kind {
        case .qLearning: QLearner(alpha: p[0], gamma: p[1], beta: p[2], lambda: options.lambda, initial: options.qInit)
        case .myopic: QLearner(alpha: p[0], gamma: 0, beta: p[1], lambda: options.lambda, initial: options.qInit)
        case .repetition: RepetitionLearner(kappa: p[0])
        case .choiceKernel: ChoiceKernelLearner(alpha: p[0], beta: p[1])
        case .modelBased: HybridLearner(alpha: p[0], beta: p[1], w: 1, initial: options.qInit)
        case .hybrid: HybridLearner(alpha: p[0], beta: p[1], w: p[2], initial: options.qInit)
        }
    }

    /// −Σ log p(chosen) over one experiment's steps. Forced-random steps still update the learner; they count
    /// towards the likelihood only when `includeRandom`.
    public func negativeLogLikelihood(_ p: [Double], steps: [Step], includeRandom: Bool) -> Double {
        func run<L: ChoiceLearner>(_ l: L) -> Double {
            var l = l
            var total = 0.0
            for s in steps {
                if includeRandom || !s.forcedRandom {
                    let pr = l.probabilities(state: s.state, actionCount: s.actionCount)
                    total -= log(max(pr[s.action], 1e-300))
                }
                _ = l.update(s)
            }
            return total
        }
        return run(learner(p))  // opens the existential: the loop is specialised per learner type
    }

    /// Number of steps that count towards the likelihood.
    public static func choiceCount(_ steps: [Step], includeRandom: Bool) -> Int {
        includeRandom ? steps.count : steps.filter { !$0.forcedRandom }.count
    }
}

/// Options of the behavioural models that are fixed, not fitted (SCIENCE.md §4.1's open choices).
public struct ModelOptions: Codable, Sendable, Hashable {
    /// Initial Q value of every state-action pair.
    public var qInit = 0.0
    /// Eligibility λ ∈ [0, 1] of the Q-learning models (0: none; stage 1 learns only through γ·max Q(s2)).
    /// With λ > 0 the stage-2 TD error also moves the stage-1 value by α·λ·δ2 (Daw et al. 2011), which lets
    /// the myopic model's stage 1 learn from rewards.
    public var lambda = 0.0
    /// Upper bound of every inverse temperature β (lower bound 0).
    public var betaMax = 50.0
    /// Bound of the repetition weight κ ∈ [−kappaMax, kappaMax].
    public var kappaMax = 10.0

    public init() {}

    enum CodingKeys: String, CodingKey { case qInit = "q_init", lambda, betaMax = "beta_max", kappaMax = "kappa_max" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ModelOptions()
        qInit = try c.decodeIfPresent(Double.self, forKey: .qInit) ?? d.qInit
        lambda = try c.decodeIfPresent(Double.self, forKey: .lambda) ?? d.lambda
        betaMax = try c.decodeIfPresent(Double.self, forKey: .betaMax) ?? d.betaMax
        kappaMax = try c.decodeIfPresent(Double.self, forKey: .kappaMax) ?? d.kappaMax
    }

    public func validate() -> [String] {
        var out: [String] = []
        if !qInit.isFinite { out.append("q_init must be finite") }
        if !(0...1).contains(lambda) { out.append("lambda = \(lambda) must lie in [0, 1]") }
        if !(betaMax > 0 && betaMax.isFinite) { out.append("beta_max = \(betaMax) must be > 0") }
        if !(kappaMax > 0 && kappaMax.isFinite) { out.append("kappa_max = \(kappaMax) must be > 0") }
        return out
    }
}

/// Any behavioural model playing a task (to simulate data for recovery tests, or as a task's agent).
public struct ModelPolicy: Policy {
    public var learner: any ChoiceLearner
    public init(_ model: BehaviourModel, parameters: [Double]) { learner = model.learner(parameters) }
    public mutating func choose(_ slot: ChoiceSlot, transcript: Transcript, rng: inout SeededRNG) -> Decision {
        let p = learner.probabilities(state: slot.state, actionCount: slot.answers.count)
        return Decision(index: Softmax.sample(p, rng: &rng), probabilities: p)
    }
    public mutating func observe(_ step: Step) { _ = learner.update(step) }
}
