import TDXAnalysis
import Foundation
import TDXCore
import TDXRL
import TDXTasks

/// What the `intervene` stage stores: which latent was edited where, and each condition's behaviour.
public struct InterventionResult: Codable, Sendable {
    public struct Condition: Codable, Sendable {
        /// `intact`, `latent`, `control`, `reconstruction`.
        public var name: String
        /// Two-Step: mean points per episode after the random episodes; prediction tasks: accuracy; a replay:
        /// the mean log-probability of the intact run's choices.
        public var perExperiment: [Double]
        public var mean: Double
        public var ciLow: Double
        public var ciHigh: Double
        /// Two-Step: mean probability of the chosen action under the fitted Q-learning model, per experiment (a
        /// replay: its expectation over the model's probabilities, Σ_a p(a)·p_Q(a)).
        public var qConsistency: [Double]?
        /// Two-Step: NLL of the choices under the fitted Q-learning model.
        public var qNLL: Double?
        /// Max |r| (r or −r under `correlate.sign`) of the latent's variable at the blocks after the edited one,
        /// when measured.
        public var downstream: [String: Double]?
        /// A replay: per experiment, the fraction of the model's choices whose most probable answer is not the
        /// intact replay's.
        public var changed: [Double]?
        /// A replay: mean and bootstrap 95 % CI of the per-experiment difference from the intact replay (paired:
        /// both read the same transcripts).
        public var versusIntact: [Double]?
    }

    /// The metric of a replay.
    static let replayMetric = "log p(choice)"

    public var name: String
    public var layer: Int
    public var variable: String
    public var latent: Int
    public var latentR: Double
    public var control: Int?
    public var controlR: Double?
    public var edit: String
    public var positions: String
    public var metric: String
    public var experiments: [Int]
    public var conditions: [Condition]
    /// Every edited latent with its control, when `top(variable, n)` picked more than one (the fields
    /// above then describe the first, the highest |r|, or r or −r under `correlate.sign`).
    public var targets: [InterventionTarget]? = nil
    /// "replay" when the intact transcripts were read again (nil: closed loop).
    public var mode: String? = nil
    /// `above(variable, r)`: the |r| (r or −r under `correlate.sign`) every edited latent reaches.
    public var threshold: Double? = nil
    /// `clamp_max(f)`: the largest activation of each edited latent (the latent, then the control), by
    /// "block.latent".
    public var largest: [String: Double]? = nil
    /// `correlate.sign` when not `abs`: latents were ranked, and later blocks measured, by r or −r.
    public var sign: String? = nil

    /// The blocks the edits touch, shallowest first.
    public var editedBlocks: [Int] { targets?.blocks ?? [layer] }
    public var correlationSign: CorrelationSign { sign.flatMap(CorrelationSign.init(rawValue:)) ?? .absolute }
    /// "block 12" or "blocks 12, 20" for titles.
    var blocksText: String {
        editedBlocks.count == 1 ? "block \(layer)" : "blocks " + editedBlocks.map(String.init).joined(separator: ", ")
    }

    public func encoded() throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
    public static func decode(_ s: String) throws -> InterventionResult {
        try JSONDecoder().decode(InterventionResult.self, from: Data(s.utf8))
    }
}

enum InterventionStats {
    /// Mean, and a percentile bootstrap 95 % CI over experiments (seeded).
    static func meanCI(_ xs: [Double], resamples: Int = 1000, seed: UInt64) -> (Double, Double, Double) {
        let v = xs.filter(\.isFinite)
        guard !v.isEmpty else { return (.nan, .nan, .nan) }
        let mean = v.reduce(0, +) / Double(v.count)
        guard v.count > 1 else { return (mean, mean, mean) }
        var rng = SeededRNG(seed: seed, stream: "intervene/bootstrap")
        var means: [Double] = []
        for _ in 0..<resamples {
            var s = 0.0
            for _ in 0..<v.count { s += v[rng.int(below: v.count)] }
            means.append(s / Double(v.count))
        }
        means.sort()
        return (mean, means[Int(0.025 * Double(resamples))], means[min(resamples - 1, Int(0.975 * Double(resamples)))])
    }

    /// Two-Step: mean points per episode after the random episodes, per experiment.
    static func points(_ r: RolloutData, skip: Int) -> [Double] {
        r.experiments.map { e in
            let pts = Array((e.returns ?? []).dropFirst(skip))
            return pts.isEmpty ? .nan : pts.reduce(0, +) / Double(pts.count)
        }
    }

    /// A replay's measures per experiment, over the model's own (not forced-random) choices: the mean log p of
    /// the intact run's choice, the fraction whose most probable answer differs from the intact replay's,
    /// and (with a fitted Q-learner, run along the intact trajectory) the expected consistency Σ_a p(a)·p_Q(a).
    static func replay(_ r: RolloutData, intact: RolloutData, q: (BehaviourModel, [Double])?)
        -> (logP: [Double], changed: [Double], expectedQ: [Double]?) {
        var logP: [Double] = [], changed: [Double] = [], expected: [Double] = []
        func argmax(_ p: [Double]) -> Int { p.indices.max { p[$0] < p[$1] } ?? 0 }
        for (e, base) in zip(r.experiments, intact.experiments) {
            var learner = q.map { $0.0.learner($0.1) }
            var lp: [Double] = [], flips: [Double] = [], agree: [Double] = []
            for (s, s0) in zip(e.steps, base.steps) {
                let pQ = learner?.probabilities(state: s.state, actionCount: s.actionCount)
                if !s.forcedRandom, let p = e.transcript.events[s.choiceEvent].probabilities,
                   let p0 = base.transcript.events[s0.choiceEvent].probabilities {
                    lp.append(Foundation.log(max(p[s.action], 1e-300)))
                    flips.append(argmax(p) == argmax(p0) ? 0 : 1)
                    if let pQ { agree.append(zip(p, pQ).reduce(0) { $0 + $1.0 * $1.1 }) }
                }
                _ = learner?.update(s)
            }
            func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
            logP.append(mean(lp)); changed.append(mean(flips)); expected.append(mean(agree))
        }
        return (logP, changed, q == nil ? nil : expected)
    }

    /// Consistency with Q-learning: per experiment, the mean probability the fitted model gives to each
    /// non-random choice, and the total NLL.
    static func qConsistency(_ r: RolloutData, model: BehaviourModel, parameters: [Double]) -> ([Double], Double) {
        var nll = 0.0
        let per = r.experiments.map { e -> Double in
            var learner = model.learner(parameters)
            var ps: [Double] = []
            for s in e.steps {
                let p = learner.probabilities(state: s.state, actionCount: s.actionCount)[s.action]
                if !s.forcedRandom { ps.append(p); nll -= Foundation.log(max(p, 1e-300)) }
                _ = learner.update(s)
            }
            return ps.isEmpty ? .nan : ps.reduce(0, +) / Double(ps.count)
        }
        return (per, nll)
    }
}

