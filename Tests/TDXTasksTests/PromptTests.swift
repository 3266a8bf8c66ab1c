import XCTest
import Foundation
import TDXCore
@testable import TDXTasks

/// Records the transcript text at every point of the protocol, to check prefix stability.
struct Snapshotting<E: Environment> {
    static func run<P: Policy>(_ env: inout E, policy: inout P, rng: inout SeededRNG) -> [String] {
        var texts = [env.transcript.text]
        while let slot = env.nextSlot() {
            texts.append(env.transcript.text)
            let d = slot.forcedRandom ? Decision(index: rng.int(below: slot.answers.count))
                                      : policy.choose(slot, transcript: env.transcript, rng: &rng)
            XCTAssertEqual(slot.event, env.transcript.events.count)
            let step = env.submit(d, forcedRandom: slot.forcedRandom)
            policy.observe(step)
            texts.append(env.transcript.text)
        }
        return texts
    }
}

final class PromptTests: XCTestCase {
    func checkPrefixStable(_ texts: [String], file: StaticString = #filePath, line: UInt = #line) {
        for i in 1..<texts.count where !texts[i].hasPrefix(texts[i - 1]) {
            XCTFail("text at point \(i) does not extend point \(i - 1)", file: file, line: line); return
        }
    }

    func checkSpans(_ t: Transcript, file: StaticString = #filePath, line: UInt = #line) {
        let bytes = Array(t.text.utf8)
        XCTAssertEqual(bytes.count, t.byteCount, file: file, line: line)
        for e in t.events {
            XCTAssertEqual(String(decoding: bytes[e.span.start..<e.span.end], as: UTF8.self), e.shown, file: file, line: line)
            if e.kind == .choice {
                XCTAssertEqual(e.answers![e.written!], e.shown, file: file, line: line)
                XCTAssertNotNil(e.chosen, file: file, line: line)
            }
        }
    }

    func testTwoStepPrefixStableOverRandomTrajectories() {
        for trial in 0..<20 {
            var config = TwoStepConfig()
            config.episodes = 12
            config.randomEpisodes = trial % 5
            config.transitions = trial.isMultiple(of: 2) ? .deterministic : .common(0.7)
            config.rewards = trial % 3 == 0 ? .drifting : .stationary
            if trial == 7 { config.stage1Labels = ["Ωmega", "日本"]; config.answerPrefix = " é" }
            var env = TwoStepEnvironment(config: config, experiment: trial, seed: 99)
            var policy = RandomPolicy()
            var rng = SeededRNG(seed: UInt64(trial))
            let texts = Snapshotting.run(&env, policy: &policy, rng: &rng)
            checkPrefixStable(texts)
            checkSpans(env.transcript)
            XCTAssertEqual(env.transcript.events.filter { $0.kind == .choice }.count, 24)
            XCTAssertEqual(env.transcript.events.filter { $0.kind == .reward }.count, 12)
        }
    }

    func testGridAndGraphPrefixStable() {
        var grid = GridWorldConfig()
        grid.episodes = 5
        for display in RewardDisplay.allCases {
            grid.rewardDisplay = display
            let traj = GridWorld.simulate(grid, experiment: 3, seed: 1)
            var env = GridWorldEnvironment(config: grid, trajectory: traj,
                                           shown: GridWorld.shownRewards(traj, config: grid, experiment: 3, seed: 1))
            var policy = RandomPolicy()
            var rng = SeededRNG(seed: 5)
            checkPrefixStable(Snapshotting.run(&env, policy: &policy, rng: &rng))
            checkSpans(env.transcript)
        }
        var graph = GraphConfig()
        graph.walkLength = 60
        let g = graph.resolvedGraph
        var task = SeededRNG(seed: 4)
        let names = GraphWalk.names(graph, count: 15, rng: &task)
        var env = GraphWalkEnvironment(config: graph, graph: g, names: names, walk: GraphWalk.walk(g, length: 60, rng: &task))
        var policy = RandomPolicy()
        var rng = SeededRNG(seed: 6)
        checkPrefixStable(Snapshotting.run(&env, policy: &policy, rng: &rng))
        checkSpans(env.transcript)
        XCTAssertEqual(env.nodeEvents.count, 60)
    }

    func testTwoStepDefaultRenderingAndEventAlignment() {
        var config = TwoStepConfig()
        config.episodes = 2
        var policy = RandomPolicy()
        let x = TwoStep.play(config, experiment: 0, seed: 1, policy: &policy)
        let t = x.transcript
        XCTAssertTrue(t.text.hasPrefix("You will travel to foreign planets"))
        XCTAssertTrue(t.text.contains("\nEpisode 1.\nQ: Do you want to take the spaceship to planet X or planet Y?\nA: Planet "))
        for s in x.steps {
            XCTAssertEqual(t.events[s.choiceEvent].kind, .choice)
            XCTAssertEqual(t.events[s.outcomeEvent].kind, s.stage == 0 ? .state : .reward)
            if s.stage == 0 { XCTAssertEqual(t.events[s.outcomeEvent].state, s.nextState) }
            else { XCTAssertEqual(t.events[s.outcomeEvent].value, s.reward) }
        }
        // The text ends exactly at a slot when a policy is asked.
        var env = TwoStepEnvironment(config: config, experiment: 0, seed: 1)
        let slot = env.nextSlot()!
        XCTAssertTrue(env.transcript.text.hasSuffix("A: Planet"))
        XCTAssertEqual(slot.answers, [" X", " Y"])
    }

    func testTemplate() {
        let t: Template = "a {x} {{literal}} {y}!"
        XCTAssertEqual(t.fields, ["x", "y"])
        XCTAssertEqual(t.render(["x": "1", "y": "2"]), "a 1 {literal} 2!")
        XCTAssertEqual(t.problems(allowed: ["x"], name: "p").count, 1)
    }
}

final class TaskConfigTests: XCTestCase {
    func testTaggedDecodingAndBaselines() throws {
        let t = try JSONDecoder().decode(TaskConfig.self, from: Data(#"{"kind": "grid_world", "size": 6}"#.utf8))
        guard case .gridWorld(let g) = t else { return XCTFail("wrong kind") }
        XCTAssertEqual(g.size, 6)
        XCTAssertEqual(g.episodes, 20)
        let back = try JSONDecoder().decode(TaskConfig.self, from: JSONEncoder().encode(t))
        XCTAssertEqual(back, t)
        XCTAssertThrowsError(try JSONDecoder().decode(TaskConfig.self, from: Data(#"{"kind": "maze"}"#.utf8)))
        var config = TwoStepConfig(); config.experiments = 2
        for b in BaselinePolicy.allCases {
            var p = b.make()
            XCTAssertEqual(TwoStep.play(config, experiment: 0, seed: 1, policy: &p).returns.count, 30)
        }
        let t0 = Date()
        let runs = TwoStep.playAll(TwoStepConfig(), seed: 1) { _ in QAgentPolicy(alpha: 0.3, gamma: 0.9, beta: 5) }
        print("two_step 100 x 30 rollout with the Q-agent: \(Date().timeIntervalSince(t0) * 1000) ms, \(runs.count) experiments")
    }
}
