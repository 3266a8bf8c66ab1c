import Foundation
import TDXCore
import TDXTasks

/// Parameter and model recovery on the Two-Step task: simulate a model with known parameters, fit, compare.
public enum Recovery {
    /// Steps of `task.experiments` Two-Step experiments played by `model` with `parameters`.
    public static func simulate(_ model: BehaviourModel, parameters: [Double], task: TwoStepConfig,
                                seed: UInt64) -> [[Step]] {
        TwoStep.playAll(task, seed: seed) { _ in ModelPolicy(model, parameters: parameters) }.map(\.steps)
    }

    public struct ParameterRow: Sendable {
        public var truth: [Double]
        public var fitted: [Double]
        public var nll: Double
    }

    /// Fits the simulating model back to its own data, for each parameter vector of `grid`.
    public static func parameters(_ model: BehaviourModel, grid: [[Double]], task: TwoStepConfig, fit: FitConfig,
                                  seed: UInt64) -> [ParameterRow] {
        grid.enumerated().map { i, truth in
            let data = simulate(model, parameters: truth, task: task, seed: seed &+ UInt64(i))
            let f = BehaviourFit.fit(model, experiments: data, config: fit, seed: seed)
            return ParameterRow(truth: truth, fitted: model.parameterNames.map { f.params[$0]! }, nll: f.nll)
        }
    }

    /// confusion[i][j]: how often data simulated from `truths[i]` was best fit (lowest `criterion`) by model j.
    public static func models(_ truths: [(BehaviourModel, [Double])], repeats: Int, task: TwoStepConfig, fit: FitConfig,
                              criterion: String = "bic", seed: UInt64) -> [[Int]] {
        var confusion = Array(repeating: Array(repeating: 0, count: truths.count), count: truths.count)
        for (i, (model, params)) in truths.enumerated() {
            for r in 0..<repeats {
                let data = simulate(model, parameters: params, task: task, seed: seed &+ UInt64(1000 * i + r))
                let fits = truths.map { BehaviourFit.fit($0.0, experiments: data, config: fit, seed: seed) }
                let score = fits.map { criterion == "nll" ? $0.nll : criterion == "aic" ? $0.aic : $0.bic }
                confusion[i][score.indices.min { score[$0] < score[$1] }!] += 1
            }
        }
        return confusion
    }
}

/// `tdx bench fit`: parameter recovery of Q-learning on the Two-Step task over a grid of (α, γ, β), and
/// model recovery, with timings. Prints the error table.
public enum FitBench: Subcommand {
    public static let name = "fit"
    public static let summary = "Parameter and model recovery of the behavioural models on the Two-Step task"
    public static let help = """
        usage: tdx bench fit [--experiments N] [--restarts N] [--repeats N] [--seed N] [--quick]

        Simulates the softmax Q-learning agent on the Two-Step task (default task settings: 30 episodes, 7 random)
        for every (alpha, gamma, beta) in {0.2, 0.4, 0.6} x {0.3, 0.6, 0.9} x {0.5, 1, 2}, fits Q-learning by
        maximum likelihood (pooled, bounded Nelder-Mead with restarts) and prints true vs fitted values.
        Then simulates q_learning, myopic, repetition and model_based data and reports how often each is
        best fit (lowest BIC) by its own model.

          --experiments N   experiments per data set (default 100)
          --restarts N      Nelder-Mead starts per fit (default 5)
          --repeats N       model-recovery data sets per model (default 10; about 3.5 min in all on 2 cores)
          --seed N          (default 1)
          --quick           only the central grid point and 5 repeats
        """

    public static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        var experiments = 100, restarts = 5, repeats = 10, seed: UInt64 = 1, quick = false
        var it = arguments.makeIterator()
        while let a = it.next() {
            func int() throws -> Int {
                guard let v = it.next(), let n = Int(v), n > 0 else { throw UsageError("\(a) needs a positive integer") }
                return n
            }
            switch a {
            case "--experiments": experiments = try int()
            case "--restarts": restarts = try int()
            case "--repeats": repeats = try int()
            case "--seed": seed = UInt64(try int())
            case "--quick": quick = true
            default: throw UsageError("unknown option \(a)", help: "run `tdx bench fit --help`")
            }
        }
        var task = TwoStepConfig()
        task.experiments = experiments
        var fit = FitConfig()
        fit.restarts = restarts
        let q = BehaviourModel(.qLearning)
        var grid: [[Double]] = []
        for alpha in [0.2, 0.4, 0.6] { for gamma in [0.3, 0.6, 0.9] { for beta in [0.5, 1.0, 2.0] { grid.append([alpha, gamma, beta]) } } }
        if quick { grid = [[0.4, 0.6, 1.0]] }
        io.out("Parameter recovery, q_learning, Two-Step \(experiments) experiments x \(task.episodes) episodes (\(task.randomEpisodes) random), \(restarts) restarts\n")
        io.out("alpha  gamma  beta  |  alpha^   gamma^   beta^   | rel.err a  abs.err g  rel.err b |  s\n")
        for (i, truth) in grid.enumerated() {
            let t0 = Date()
            let row = Recovery.parameters(q, grid: [truth], task: task, fit: fit, seed: seed &+ UInt64(i * 7919))[0]
            let f = row.fitted
            io.out(String(format: "%.2f   %.2f   %.2f  |  %.3f    %.3f    %.3f   |  %6.1f%%   %6.3f    %6.1f%%  | %.2f\n",
                          truth[0], truth[1], truth[2], f[0], f[1], f[2], 100 * abs(f[0] - truth[0]) / truth[0],
                          abs(f[1] - truth[1]), 100 * abs(f[2] - truth[2]) / truth[2], Date().timeIntervalSince(t0)))
        }
        let truths: [(BehaviourModel, [Double])] = [
            (q, [0.4, 0.9, 1.0]), (BehaviourModel(.myopic), [0.4, 1.0]),
            (BehaviourModel(.repetition), [1.5]), (BehaviourModel(.modelBased), [0.4, 1.0]),
        ]
        let t0 = Date()
        let confusion = Recovery.models(truths, repeats: quick ? 5 : repeats, task: task, fit: fit, seed: seed)
        io.out("\nModel recovery (rows: simulated, columns: best by BIC), \(quick ? 5 : repeats) data sets per model, \(String(format: "%.1f", Date().timeIntervalSince(t0))) s\n")
        io.out("              " + truths.map { $0.0.name.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined() + "\n")
        for (i, row) in confusion.enumerated() {
            io.out(truths[i].0.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                   + row.map { String($0).padding(toLength: 12, withPad: " ", startingAt: 0) }.joined() + "\n")
        }
        let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
        io.out(String(format: "correct: %.1f%%\n", 100 * Double(correct) / Double(confusion.joined().reduce(0, +))))
        return 0
    }
}
