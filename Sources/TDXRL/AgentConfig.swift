import TDXTasks

/// An RL agent with fixed parameters (the spec's `agent` block): it can play a task in place of a language
/// model, and its quantities (TD errors, Q values) are the variables correlated with latents.
public struct AgentConfig: Codable, Sendable, Hashable {
    /// Which model.
    public var model = ModelKind.qLearning
    /// Learning rate α ∈ [0, 1] (q_learning, myopic, choice_kernel, model_based, hybrid).
    public var alpha = 0.3
    /// Discount γ ∈ [0, 1] (q_learning; myopic fixes 0).
    public var gamma = 0.9
    /// Inverse temperature β ∈ [0, options.beta_max].
    public var beta = 5.0
    /// Model-based weight w ∈ [0, 1] (hybrid).
    public var w = 0.5
    /// Repetition weight κ ∈ [−options.kappa_max, options.kappa_max] (repetition).
    public var kappa = 1.0
    /// When true, the variables stage uses the parameters the behaviour stage fitted for this model instead.
    public var useFitted = false
    public var options = ModelOptions()

    public init() {}

    enum CodingKeys: String, CodingKey { case model, alpha, gamma, beta, w, kappa, useFitted = "use_fitted", options }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AgentConfig()
        model = try c.decodeIfPresent(ModelKind.self, forKey: .model) ?? d.model
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? d.alpha
        gamma = try c.decodeIfPresent(Double.self, forKey: .gamma) ?? d.gamma
        beta = try c.decodeIfPresent(Double.self, forKey: .beta) ?? d.beta
        w = try c.decodeIfPresent(Double.self, forKey: .w) ?? d.w
        kappa = try c.decodeIfPresent(Double.self, forKey: .kappa) ?? d.kappa
        useFitted = try c.decodeIfPresent(Bool.self, forKey: .useFitted) ?? d.useFitted
        options = try c.decodeIfPresent(ModelOptions.self, forKey: .options) ?? d.options
    }

    public var behaviourModel: BehaviourModel { BehaviourModel(model, options: options) }

    /// Parameters in the model's `parameterNames` order.
    public var parameters: [Double] {
        let named = ["alpha": alpha, "gamma": gamma, "beta": beta, "w": w, "kappa": kappa]
        return behaviourModel.parameterNames.map { named[$0]! }
    }

    /// Parameters taken from a fit of the same model when `useFitted` (falls back to the fixed ones).
    public func parameters(from report: BehaviourReport?) -> [Double] {
        guard useFitted, let fit = report?.models.first(where: { $0.name == model.rawValue }) else { return parameters }
        return behaviourModel.parameterNames.map { fit.params[$0]! }
    }

    public func makePolicy() -> ModelPolicy { ModelPolicy(behaviourModel, parameters: parameters) }

    public func validate() -> [String] {
        let m = behaviourModel
        var out = options.validate()
        let named = ["alpha": alpha, "gamma": gamma, "beta": beta, "w": w, "kappa": kappa]
        for (i, name) in m.parameterNames.enumerated() where !(m.lower[i]...m.upper[i]).contains(named[name]!) {
            out.append("\(name) = \(named[name]!) must lie in [\(m.lower[i]), \(m.upper[i])] for model \(m.name)")
        }
        return out
    }
}

extension VariableTable {
    /// Joins the columns of another table over the same steps (e.g. q_learning.* and myopic.*).
    public func merging(_ other: VariableTable) -> VariableTable {
        precondition(fromEvents == other.fromEvents && toEvents == other.toEvents, "tables over different steps")
        var t = self
        t.columns.merge(other.columns) { $1 }
        t.anchors.merge(other.anchors) { $1 }
        return t
    }
}
