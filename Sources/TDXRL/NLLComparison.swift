import Foundation
import TDXCore
import TDXTasks

/// Whether one fitted model beats another by more than the experiments' spread (SCIENCE.md appendix: "report
/// whether the NLL difference is significant"): the NLL difference summed over experiments, with a bootstrap
/// over experiments. Parameters stay at their fits (pooled fits are not refitted per resample), so the CI
/// covers which experiments were run, not the fit's own uncertainty.
public struct NLLComparison: Codable, Sendable, Equatable {
    public var better: String
    public var worse: String
    /// NLL(worse) − NLL(better), summed over experiments (> 0).
    public var difference: Double
    public var ciLow: Double
    public var ciHigh: Double
    /// Fraction of bootstrap resamples in which `worse` fits at least as well.
    public var reversed: Double
    /// Experiments whose own NLL favours `better`, and those favouring `worse` (the rest are ties), of
    /// `experiments`.
    public var favouring: Int
    public var favouringWorse: Int
    public var experiments: Int

    /// Each fitted model's NLL per experiment: its own fit's when fitted per experiment, else the pooled
    /// parameters' (which sum to the pooled NLL).
    public static func perExperiment(_ fit: ModelFit, experiments: [[Step]], config: FitConfig) -> [Double]? {
        if let each = fit.perExperiment { return each.map(\.nll) }
        guard let kind = ModelKind(rawValue: fit.name) else { return nil }
        let model = BehaviourModel(kind, options: config.options)
        let p = model.parameterNames.map { fit.params[$0] ?? .nan }
        return experiments.map { model.negativeLogLikelihood(p, steps: $0, includeRandom: config.includeRandom) }
    }

    /// Differences within this many nats per experiment are ties: two fits of one likelihood (e.g. Q-learning
    /// with γ fitted to 0, and myopic) differ by the optimiser's tolerance.
    static let tie = 1e-4

    /// Every pair of fitted models, the better (lower total NLL) first; pairs in the order of the models'
    /// NLLs.
    public static func all(_ report: BehaviourReport, experiments: [[Step]], config: FitConfig, resamples: Int = 2000,
                           seed: UInt64) -> [NLLComparison] {
        let models = report.models.sorted { $0.nll < $1.nll }
        let per = models.map { perExperiment($0, experiments: experiments, config: config) }
        var out: [NLLComparison] = []
        for i in models.indices { for j in models.indices where j > i {
            guard let a = per[i], let b = per[j], a.count == b.count, !a.isEmpty else { continue }
            let d = zip(b, a).map { $0 - $1 }
            var rng = SeededRNG(seed: seed, stream: "nll/\(models[i].name)/\(models[j].name)")
            var totals: [Double] = []
            totals.reserveCapacity(resamples)
            for _ in 0..<resamples {
                var s = 0.0
                for _ in d.indices { s += d[rng.int(below: d.count)] }
                totals.append(s)
            }
            totals.sort()
            out.append(NLLComparison(better: models[i].name, worse: models[j].name, difference: d.reduce(0, +),
                                     ciLow: totals[Int(0.025 * Double(resamples))],
                                     ciHigh: totals[min(resamples - 1, Int(0.975 * Double(resamples)))],
                                     reversed: Double(totals.filter { $0 <= tie * Double(d.count) }.count) / Double(resamples),
                                     favouring: d.filter { $0 > tie }.count, favouringWorse: d.filter { $0 < -tie }.count,
                                     experiments: d.count))
        } }
        return out
    }
}
