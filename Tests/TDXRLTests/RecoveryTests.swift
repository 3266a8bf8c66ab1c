import XCTest
import Foundation
import TDXCore
import TDXTasks
@testable import TDXRL

final class RecoveryTests: XCTestCase {
    func testQLearningParameterRecoveryCentralPoint() {
        let task = TwoStepConfig()   // 100 experiments × 30 episodes, 7 random
        var fit = FitConfig(); fit.restarts = 4
        // Simulated with TDXTasks's softmax Q-agent, fitted with TDXRL's Q-learning model.
        for truth in [[0.4, 0.6, 1.0]] {
            let data = TwoStep.playAll(task, seed: 42) { _ in QAgentPolicy(alpha: truth[0], gamma: truth[1], beta: truth[2]) }
            let f = BehaviourFit.fit(BehaviourModel(.qLearning), experiments: data.map(\.steps), config: fit, seed: 1)
            let a = f.params["alpha"]!, g = f.params["gamma"]!, b = f.params["beta"]!
            print("recovery truth \(truth) fitted [\(a), \(g), \(b)] nll \(f.nll)")
            XCTAssertEqual(a, truth[0], accuracy: 0.15 * truth[0])
            XCTAssertEqual(g, truth[1], accuracy: 0.1)
            XCTAssertEqual(b, truth[2], accuracy: 0.15 * truth[2])
        }
    }

    func testModelRecovery() {
        var task = TwoStepConfig(); task.experiments = 30
        var fit = FitConfig(); fit.restarts = 2
        let truths: [(BehaviourModel, [Double])] = [
            (BehaviourModel(.qLearning), [0.4, 0.9, 1.0]), (BehaviourModel(.myopic), [0.4, 1.0]),
            (BehaviourModel(.repetition), [1.5]), (BehaviourModel(.modelBased), [0.4, 1.0]),
        ]
        let confusion = Recovery.models(truths, repeats: 3, task: task, fit: fit, seed: 5)
        print("model recovery confusion \(confusion)")
        let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
        XCTAssertGreaterThanOrEqual(Double(correct) / 12, 0.9)
    }
}
