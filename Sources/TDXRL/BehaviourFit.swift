import Foundation
import TDXCore
import TDXNumerics
import TDXTasks

/// How behavioural models are fitted to choices (the spec's `fit` block).
public struct FitConfig: Codable, Sendable, Hashable {
    /// Models to fit, by name (see `ModelKind`).
    public var models: [ModelKind] = [.qLearning, .myopic, .repetition]
    /// One parameter set for all experiments, or one per experiment (NLLs summed).
    public var pooling = Pooling.pooled
    /// Whether choices of the forced-random episodes count towards the likelihood (the models learn from them
    /// either way).
    public var includeRandom = false
    /// Nelder–Mead starts per fit (the first from the centre of the box, the rest random). ≥ 1.
    public var restarts = 10
    /// Fixed model options.
    public var options = ModelOptions()

    public init() {}

    enum CodingKeys: String, CodingKey {
        case models, pooling, includeRandom = "include_random", restarts, options
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FitConfig()
        models = try c.decodeIfPresent([ModelKind].self, forKey: .models) ?? d.models
        pooling = try c.decodeIfPresent(Pooling.self, forKey: .pooling) ?? d.pooling
        includeRandom = try c.decodeIfPresent(Bool.self, forKey: .includeRandom) ?? d.includeRandom
        restarts = try c.decodeIfPresent(Int.self, forKey: .restarts) ?? d.restarts
        options = try c.decodeIfPresent(ModelOptions.self, forKey: .options) ?? d.options
    }

    public func validate() -> [String] {
        var out = options.validate()
        if models.isEmpty { out.append("models must name at least one model") }
        if Set(models).count != models.count { out.append("models lists a model twice") }
        if restarts < 1 { out.append("restarts = \(restarts) must be at least 1") }
        return out
    }
}

public enum Pooling: String, Codable, Sendable, Hashable, CaseIterable {
    case pooled
    case perExperiment = "per_experiment"
}

/// The fit of one model. `params` are the pooled estimates, or the mean over experiments when fitted per
/// experiment (then `per_experiment` holds each one).
public struct ModelFit: Codable, Sendable {
    public var name: String
    /// Total negative log-likelihood over the counted choices of all experiments.
    public var nll: Double
    /// 2k + 2·NLL and k·ln(n) + 2·NLL, with k the number of fitted parameters (× experiments when per
    /// experiment) and n the number of counted choices.
    public var aic: Double
    public var bic: Double
    public var params: [String: Double]
    public var parameterCount: Int
    public var choices: Int
    public var perExperiment: [ExperimentFit]?

    enum CodingKeys: String, CodingKey {
        case name, nll, aic, bic, params, parameterCount = "k", choices = "n", perExperiment = "per_experiment"
    }
}

public struct ExperimentFit: Codable, Sendable {
    public var nll: Double
    public var params: [String: Double]
}

/// What the behaviour stage produces. Serialises as
/// `{"models":[{"name":"q_learning","nll":…,"aic":…,"bic":…,"params":{"alpha":…,"gamma":…,"beta":…},"k":3,"n":…}, …]}`.
public struct BehaviourReport: Codable, Sendable {
    public var models: [ModelFit]

    /// The model with the lowest value of `criterion` ("nll", "aic" or "bic").
    public func best(by criterion: String = "bic") -> ModelFit? {
        models.min { a, b in
            switch criterion { case "nll": a.nll < b.nll; case "aic": a.aic < b.aic; default: a.bic < b.bic }
        }
    }

    /// Pretty-printed JSON with sorted keys (stable bytes for caching).
    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }
}

public enum BehaviourFit {
    /// Maximum-likelihood fit of one model to experiments (each an ordered list of steps).
    public static func fit(_ model: BehaviourModel, experiments: [[Step]], config: FitConfig, seed: UInt64) -> ModelFit {
        let names = model.parameterNames
        let n = experiments.reduce(0) { $0 + BehaviourModel.choiceCount($1, includeRandom: config.includeRandom) }
        var rng = SeededRNG(seed: seed, stream: "fit/\(model.name)")
        func solve(_ data: [[Step]]) -> NelderMead.Result {
            NelderMead.minimize({ p in
                data.reduce(0) { $0 + model.negativeLogLikelihood(p, steps: $1, includeRandom: config.includeRandom) }
            }, lower: model.lower, upper: model.upper, restarts: config.restarts, rng: &rng)
        }
        let named = { (x: [Double]) in Dictionary(uniqueKeysWithValues: zip(names, x)) }
        switch config.pooling {
        case .pooled:
            let r = solve(experiments)
            return ModelFit(name: model.name, nll: r.value, aic: 2 * Double(names.count) + 2 * r.value,
                            bic: Double(names.count) * log(Double(max(n, 1))) + 2 * r.value, params: named(r.x),
                            parameterCount: names.count, choices: n, perExperiment: nil)
        case .perExperiment:
            let fits = experiments.map { solve([$0]) }
            let nll = fits.reduce(0) { $0 + $1.value }
            let k = names.count * experiments.count
            var mean = Array(repeating: 0.0, count: names.count)
            for f in fits { for i in mean.indices { mean[i] += f.x[i] / Double(fits.count) } }
            return ModelFit(name: model.name, nll: nll, aic: 2 * Double(k) + 2 * nll,
                            bic: Double(k) * log(Double(max(n, 1))) + 2 * nll, params: named(mean),
                            parameterCount: k, choices: n,
                            perExperiment: fits.map { ExperimentFit(nll: $0.value, params: named($0.x)) })
        }
    }

    /// Fits every model of `config` (the behaviour stage).
    public static func report(experiments: [[Step]], config: FitConfig, seed: UInt64) -> BehaviourReport {
        BehaviourReport(models: config.models.map {
            fit(BehaviourModel($0, options: config.options), experiments: experiments, config: config, seed: seed)
        })
    }
}
