import XCTest
import Foundation
import TDXCore
import TDXTasks
@testable import TDXRL

final class PipelineTests: XCTestCase {
    /// The `two_step_agent` path without a language model: the agent plays, behaviour is fitted, variables
    /// are computed and aligned to events.
    func testTwoStepAgentEndToEnd() throws {
        var agent = AgentConfig()             // q_learning α 0.3, γ 0.9, β 5
        XCTAssertEqual(agent.parameters, [0.3, 0.9, 5])
        let task = TwoStepConfig()
        let runs = TwoStep.playAll(task, seed: 2025) { _ in agent.makePolicy() }
        let learned = runs.map { $0.returns.suffix(10).reduce(0, +) / 10 }.reduce(0, +) / 100
        let optimal = runs.map(\.optimalReturn).reduce(0, +) / 100
        XCTAssertGreaterThan(learned, optimal - 1.0)   // near-optimal after learning
        var fit = FitConfig(); fit.restarts = 3
        let report = BehaviourFit.report(experiments: runs.map(\.steps), config: fit, seed: 1)
        XCTAssertEqual(report.models.map(\.name), ["q_learning", "myopic", "repetition"])
        XCTAssertEqual(report.best(by: "nll")?.name, "q_learning")
        let q = report.models[0]
        XCTAssertEqual(q.choices, 100 * 23 * 2)
        XCTAssertLessThan(q.nll, report.models[1].nll)
        // (No myopic < repetition here: this β = 5 agent repeats itself, unlike the paper's Llama.)
        print("two_step_agent fit:", report.models.map { "\($0.name) nll \($0.nll) \($0.params)" })
        XCTAssertEqual(q.aic, 6 + 2 * q.nll, accuracy: 1e-9)
        XCTAssertEqual(q.bic, 3 * log(4600) + 2 * q.nll, accuracy: 1e-9)
        let json = try JSONSerialization.jsonObject(with: report.json()) as! [String: Any]
        let first = (json["models"] as! [[String: Any]])[0]
        XCTAssertEqual(first["name"] as? String, "q_learning")
        XCTAssertEqual(Set((first["params"] as! [String: Double]).keys), ["alpha", "gamma", "beta"])
        for key in ["nll", "aic", "bic"] { XCTAssertNotNil(first[key] as? Double) }

        agent.useFitted = true
        let params = agent.parameters(from: report)
        XCTAssertEqual(params[0], q.params["alpha"]!)
        let x = runs[0]
        let table = RLVariables.behaviour(agent.behaviourModel, parameters: params, steps: x.steps, experiment: 0,
                                          prefix: "q_learning.")
            .merging(RLVariables.behaviour(BehaviourModel(.myopic), parameters: [0.3, 5], steps: x.steps,
                                           experiment: 0, prefix: "myopic."))
        XCTAssertEqual(table.columns.count, 10)
        for (event, _) in table.aligned("q_learning.td_error") {
            XCTAssertTrue([.state, .reward].contains(x.transcript.events[event].kind))
        }
        for (event, _) in table.aligned("myopic.q_chosen") { XCTAssertEqual(x.transcript.events[event].kind, .choice) }
    }

    func testPerExperimentFitAndRandomEpisodesOption() {
        var task = TwoStepConfig(); task.experiments = 4
        let data = Recovery.simulate(BehaviourModel(.qLearning), parameters: [0.4, 0.6, 1], task: task, seed: 3)
        var fit = FitConfig(); fit.restarts = 2; fit.models = [.myopic]; fit.pooling = .perExperiment
        let f = BehaviourFit.report(experiments: data, config: fit, seed: 1).models[0]
        XCTAssertEqual(f.perExperiment?.count, 4)
        XCTAssertEqual(f.parameterCount, 8)
        XCTAssertEqual(f.nll, f.perExperiment!.reduce(0) { $0 + $1.nll }, accuracy: 1e-9)
        fit.includeRandom = true
        XCTAssertEqual(BehaviourFit.report(experiments: data, config: fit, seed: 1).models[0].choices, 4 * 60)
    }

    func testGridWorldVariablesMatchGeneratingAgent() {
        var grid = GridWorldConfig(); grid.episodes = 10
        var p = RandomPolicy()
        let x = GridWorld.play(grid, experiment: 0, seed: 1, policy: &p)
        let a = grid.agent
        let t = RLVariables.behaviour(BehaviourModel(.qLearning), parameters: [a.alpha, a.gamma, a.beta],
                                      steps: x.steps, experiment: 0)
        // Replaying the agent's learner gives the same δ as the table.
        var q = TabularQ(alpha: a.alpha, gamma: a.gamma)
        for (s, d) in zip(x.steps, t.columns["td_error"]!) { XCTAssertEqual(q.update(s), d) }
        XCTAssertTrue(t.columns["td_error"]!.contains { $0 > 0 })
        for (event, v) in t.aligned("td_error") where v != 0 { XCTAssertEqual(x.transcript.events[event].kind, .reward) }
    }

    func testSROnSchapiroWalkLearnsCommunities() {
        var config = GraphConfig(); config.walkLength = 2000
        var p = RandomPolicy()
        let x = GraphWalk.play(config, experiment: 0, seed: 1, policy: &p)
        let r = SuccessorRepresentation.run(SRConfig(), walk: x.walk, nodeCount: 15, nodeEvents: x.nodeEvents)
        XCTAssertEqual(r.table.columns["surprise"]!.count, 1999)
        // Within-community SR exceeds between-community SR (off the diagonal).
        var within = 0.0, between = 0.0, nw = 0.0, nb = 0.0
        for i in 0..<15 { for j in 0..<15 where i != j {
            if i / 5 == j / 5 { within += r.sr[i * 15 + j]; nw += 1 } else { between += r.sr[i * 15 + j]; nb += 1 }
        } }
        XCTAssertGreaterThan(within / nw, 1.5 * between / nb)
        // Learned transitions approach 1/4 on edges; surprise approaches log 4.
        let late = r.table.columns["surprise"]!.suffix(500)
        XCTAssertEqual(late.reduce(0, +) / 500, log(4), accuracy: 0.15)
        for (event, _) in r.table.aligned("sr_td") { XCTAssertEqual(x.transcript.events[event].kind, .node) }
    }

    func testConfigsDecodeWithDefaultsAndValidate() throws {
        let fit = try JSONDecoder().decode(FitConfig.self, from: Data(#"{"models": ["q_learning", "hybrid"], "include_random": true}"#.utf8))
        XCTAssertEqual(fit.models, [.qLearning, .hybrid])
        XCTAssertTrue(fit.includeRandom)
        XCTAssertEqual(fit.restarts, 10)
        let agent = try JSONDecoder().decode(AgentConfig.self, from: Data(#"{"gamma": 0.99, "alpha": 0.1}"#.utf8))
        XCTAssertEqual(agent.parameters, [0.1, 0.99, 5])
        var bad = agent; bad.alpha = 1.5; bad.options.lambda = 2
        XCTAssertEqual(bad.validate().count, 2)
        var sr = SRConfig(); sr.gamma = 1
        XCTAssertEqual(sr.validate().count, 1)
        XCTAssertEqual(try JSONDecoder().decode(SRConfig.self, from: Data("{}".utf8)), SRConfig())
    }

    func testHybridReducesToModelFreeAtWZero() {
        var task = TwoStepConfig(); task.experiments = 3; task.transitions = .common(0.7)
        let data = Recovery.simulate(BehaviourModel(.hybrid), parameters: [0.5, 1, 0.5], task: task, seed: 9)
        // w = 0 is model-free Q-learning with γ = 1.
        for steps in data {
            XCTAssertEqual(BehaviourModel(.hybrid).negativeLogLikelihood([0.3, 2, 0], steps: steps, includeRandom: true),
                           BehaviourModel(.qLearning).negativeLogLikelihood([0.3, 1, 2], steps: steps, includeRandom: true),
                           accuracy: 1e-9)
        }
    }
}
