import XCTest
import Foundation
import TDXCore
import TDXTasks
@testable import TDXRL

final class NLLComparisonTests: XCTestCase {
    /// Choices simulated by a far-sighted Q-learner: Q-learning beats repetition on every resample, the
    /// per-experiment NLLs at the pooled fit add up to the pooled NLL, and the CI brackets the difference.
    func testSimulatedQLearnerBeatsRepetition() {
        var task = TwoStepConfig(); task.experiments = 12; task.episodes = 20
        var fit = FitConfig(); fit.restarts = 2; fit.models = [.repetition, .qLearning]
        let data = TwoStep.playAll(task, seed: 7) { _ in QAgentPolicy(alpha: 0.4, gamma: 0.9, beta: 3) }.map(\.steps)
        let report = BehaviourFit.report(experiments: data, config: fit, seed: 1)
        for m in report.models {
            let per = try! XCTUnwrap(NLLComparison.perExperiment(m, experiments: data, config: fit))
            XCTAssertEqual(per.count, 12)
            XCTAssertEqual(per.reduce(0, +), m.nll, accuracy: 1e-6 * m.nll)
        }
        let c = NLLComparison.all(report, experiments: data, config: fit, seed: 3)
        XCTAssertEqual(c.count, 1)
        XCTAssertEqual(c[0].better, "q_learning")
        XCTAssertEqual(c[0].worse, "repetition")
        let q = report.models.first { $0.name == "q_learning" }!.nll, r = report.models.first { $0.name == "repetition" }!.nll
        XCTAssertEqual(c[0].difference, r - q, accuracy: 1e-6 * r)
        XCTAssertTrue(c[0].ciLow > 0 && c[0].ciLow <= c[0].difference && c[0].difference <= c[0].ciHigh, "\(c[0])")
        XCTAssertEqual(c[0].reversed, 0)
        XCTAssertEqual(c[0].experiments, 12)
        // Seeded: the same numbers again.
        XCTAssertEqual(NLLComparison.all(report, experiments: data, config: fit, seed: 3), c)
    }

    /// Per-experiment fits carry their own NLLs; differences [+1, −1, 0, 0] have a CI straddling zero, and a
    /// resampled sum is ≤ 0 with probability (1 + P(sum = 0)) / 2 = (1 + 70/256) / 2.
    func testPerExperimentFitsAndATie() {
        func fit(_ name: String, _ nlls: [Double]) -> ModelFit {
            ModelFit(name: name, nll: nlls.reduce(0, +), aic: 0, bic: 0, params: [:], parameterCount: 1, choices: 10,
                     perExperiment: nlls.map { ExperimentFit(nll: $0, params: [:]) })
        }
        let report = BehaviourReport(models: [fit("myopic", [10, 12, 11, 11]), fit("q_learning", [11, 11, 11, 11])])
        let c = NLLComparison.all(report, experiments: [], config: FitConfig(), resamples: 4000, seed: 1)
        XCTAssertEqual(c.count, 1)
        XCTAssertEqual(c[0].difference, 0)
        XCTAssertEqual(c[0].favouring, 1)
        XCTAssertEqual(c[0].favouringWorse, 1)
        XCTAssertLessThan(c[0].ciLow, 0)
        XCTAssertGreaterThan(c[0].ciHigh, 0)
        XCTAssertEqual(c[0].reversed, (1 + 70.0 / 256) / 2, accuracy: 0.03)
        // Two fits of the same likelihood (up to rounding) are a tie, not a win.
        let same = BehaviourReport(models: [fit("myopic", [10, 12]), fit("q_learning", [10 + 1e-12, 12 - 1e-13])])
        let t = NLLComparison.all(same, experiments: [], config: FitConfig(), seed: 1)[0]
        XCTAssertEqual(t.favouring, 0)
        XCTAssertEqual(t.favouringWorse, 0)
        XCTAssertEqual(t.reversed, 1)
    }
}
