import XCTest
import Foundation
import TDXCore
@testable import TDXTasks

final class TwoStepTests: XCTestCase {
    func testOptimalPolicyReturnEqualsBestMean() {
        var config = TwoStepConfig()
        config.randomEpisodes = 0
        config.rewardNoise = 0
        config.roundPoints = false
        for e in 0..<10 {
            var oracle = OraclePolicy()
            let x = TwoStep.play(config, experiment: e, seed: 7, policy: &oracle)
            let best = x.optionValues.max()!
            XCTAssertEqual(x.optimalReturn, best, accuracy: 1e-12)
            for r in x.returns { XCTAssertEqual(r, best, accuracy: 1e-12) }
        }
    }

    func testOptimalBeatsRandomWithCommonTransitions() {
        var config = TwoStepConfig()
        config.transitions = .common(0.7)
        config.randomEpisodes = 0
        let optimal = TwoStep.playAll(config, seed: 3) { _ in OraclePolicy() }
        let random = TwoStep.playAll(config, seed: 3) { _ in RandomPolicy() }
        let mean = { (xs: [TwoStepExperiment]) in xs.flatMap(\.returns).reduce(0, +) / Double(xs.count * config.episodes) }
        XCTAssertGreaterThan(mean(optimal), mean(random) + 1)
        // Expected oracle return: p·max(best pair) + (1 − p)·max(other pair), averaged over experiments.
        let expected = optimal.map(\.optimalReturn).reduce(0, +) / Double(optimal.count)
        XCTAssertEqual(mean(optimal), expected, accuracy: 0.15)
    }

    func testTransitionsAndRandomEpisodes() {
        var config = TwoStepConfig()
        config.transitions = .common(0.7)
        config.episodes = 200
        config.randomEpisodes = 50
        var policy = MaxEpisodeCopier()
        let x = TwoStep.play(config, experiment: 0, seed: 11, policy: &policy)
        let first = x.steps.filter { $0.stage == 0 }
        let common = first.filter { $0.nextState == $0.action + 1 }.count
        XCTAssertEqual(Double(common) / 200, 0.7, accuracy: 0.08)
        XCTAssertEqual(x.steps.filter(\.forcedRandom).count, 100)
        XCTAssertTrue(x.steps.prefix(100).allSatisfy(\.forcedRandom))
        var det = TwoStepConfig()
        det.episodes = 50
        var r = RandomPolicy()
        XCTAssertTrue(TwoStep.play(det, experiment: 1, seed: 1, policy: &r).steps.filter { $0.stage == 0 }
            .allSatisfy { $0.nextState == $0.action + 1 })
    }

    func testDriftStaysInBoundsAndSameTaskForEveryPolicy() {
        var config = TwoStepConfig()
        config.rewards = .drifting
        config.episodes = 300
        var env = TwoStepEnvironment(config: config, experiment: 2, seed: 5)
        var p = RandomPolicy()
        var rng = SeededRNG(seed: 1)
        _ = Rollout.run(&env, policy: &p, rng: &rng)
        XCTAssertTrue(env.optionValues.allSatisfy { (0.25...0.75).contains($0) })
        var a = RandomPolicy(), b = OraclePolicy()
        XCTAssertEqual(TwoStep.play(config, experiment: 4, seed: 9, policy: &a).optionValues,
                       TwoStep.play(config, experiment: 4, seed: 9, policy: &b).optionValues)
    }

    /// `reward_values` apart from the scheme: `auto` keeps the old pairs draw for draw; stationary binary rewards
    /// are 0/1 with fixed probabilities; drifting points are whole points whose means walk within their range.
    func testRewardValuesApartFromTheScheme() {
        func play(_ scheme: TwoStepRewardScheme, _ values: TwoStepRewardValues, episodes: Int = 200) -> (TwoStepExperiment, [Double]) {
            var c = TwoStepConfig()
            c.rewards = scheme; c.rewardValues = values; c.episodes = episodes
            var env = TwoStepEnvironment(config: c, experiment: 3, seed: 11)
            var p = RandomPolicy(), rng = SeededRNG(seed: 2)
            _ = Rollout.run(&env, policy: &p, rng: &rng)
            var q = RandomPolicy()
            return (TwoStep.play(c, experiment: 3, seed: 11, policy: &q), env.optionValues)
        }
        XCTAssertEqual(play(.stationary, .auto).0.transcript.text, play(.stationary, .points).0.transcript.text)
        XCTAssertEqual(play(.drifting, .auto).0.transcript.text, play(.drifting, .binary).0.transcript.text)

        let (binary, end) = play(.stationary, .binary)
        XCTAssertEqual(Set(binary.returns), [0, 1])
        XCTAssertEqual(end, binary.optionValues, "stationary probabilities do not move")
        XCTAssertTrue(end.allSatisfy { (0.25...0.75).contains($0) })

        let (points, moved) = play(.drifting, .points)
        XCTAssertTrue(points.returns.allSatisfy { $0 == $0.rounded() && (0...10).contains($0) })
        XCTAssertGreaterThan(Set(points.returns).count, 2)
        XCTAssertNotEqual(moved, points.optionValues, "drifting means move")
        XCTAssertTrue(moved.allSatisfy { (2...8).contains($0) })
        // Steps of sd 0.025 × 10 points per episode: over 200 episodes a mean travels well past one point.
        XCTAssertGreaterThan(zip(moved, points.optionValues).map { abs($0 - $1) }.max()!, 0.5)
    }

    func testMaxEpisodeCopierRepeatsBestEpisode() {
        var c = MaxEpisodeCopier()
        var rng = SeededRNG(seed: 1)
        c.observe(Step(episode: 0, stage: 0, state: 0, actionCount: 2, action: 1, reward: 0, nextState: 2))
        c.observe(Step(episode: 0, stage: 1, state: 2, actionCount: 2, action: 0, reward: 9, nextState: nil))
        c.observe(Step(episode: 1, stage: 0, state: 0, actionCount: 2, action: 0, reward: 0, nextState: 1))
        c.observe(Step(episode: 1, stage: 1, state: 1, actionCount: 2, action: 1, reward: 3, nextState: nil))
        let slot = ChoiceSlot(mode: .act, episode: 2, step: 4, state: 0, answers: [" X", " Y"], optimal: [0],
                              forcedRandom: false, event: 0)
        XCTAssertEqual(c.choose(slot, transcript: Transcript(), rng: &rng).index, 1)
        var s1 = slot; s1.state = 1
        XCTAssertEqual(c.choose(s1, transcript: Transcript(), rng: &rng).index, 1)
    }

    func testValidateAndDecodeDefaults() throws {
        var c = TwoStepConfig()
        XCTAssertEqual(c.validate(), [])
        c.transitions = .common(1.2)
        c.randomEpisodes = 40
        c.stage1Labels = ["X", "X"]
        c.prompt.reward = "You get {points}."  // unknown placeholder and {reward} missing
        XCTAssertEqual(c.validate().count, 5, "\(c.validate())")
        let d = try JSONDecoder().decode(TwoStepConfig.self, from: Data(#"{"episodes": 12, "transitions": {"common": 0.7}}"#.utf8))
        XCTAssertEqual(d.episodes, 12)
        XCTAssertEqual(d.experiments, 100)
        XCTAssertEqual(d.transitions, .common(0.7))
        let round = try JSONDecoder().decode(TwoStepConfig.self, from: JSONEncoder().encode(d))
        XCTAssertEqual(round, d)
    }
}

final class GridWorldTests: XCTestCase {
    func testAgentLearnsAndControlKeepsTrajectories() {
        var config = GridWorldConfig()
        config.episodes = 40
        var first = 0.0, last = 0.0
        for e in 0..<20 {
            let t = GridWorld.simulate(config, experiment: e, seed: 2)
            let lengths = Dictionary(grouping: t.steps, by: \.episode).mapValues(\.count)
            first += Double((0..<5).map { lengths[$0]! }.reduce(0, +))
            last += Double((35..<40).map { lengths[$0]! }.reduce(0, +))
        }
        XCTAssertLessThan(last, first * 0.6)
        var control = config
        control.rewardDisplay = .shuffled
        var p1 = RandomPolicy(), p2 = RandomPolicy()
        let a = GridWorld.play(config, experiment: 1, seed: 3, policy: &p1)
        let b = GridWorld.play(control, experiment: 1, seed: 3, policy: &p2)
        XCTAssertEqual(a.steps.map(\.action), b.steps.map(\.action))
        XCTAssertEqual(a.steps.map(\.reward), b.steps.map(\.reward))
        XCTAssertNotEqual(a.transcript.text, b.transcript.text)
    }

    func testMovesAndOracle() {
        XCTAssertEqual(GridWorld.move(0, action: 0, size: 5), 0)      // up at the top border
        XCTAssertEqual(GridWorld.move(0, action: 3, size: 5), 1)      // right
        XCTAssertEqual(GridWorld.move(0, action: 1, size: 5), 5)      // down
        XCTAssertEqual(GridWorld.optimalActions(0, goal: 24, size: 5), [1, 3])
        var config = GridWorldConfig()
        config.episodes = 60
        var oracle = OraclePolicy(), random = RandomPolicy()
        // The agent has learned by then, so a goal-directed predictor beats chance.
        XCTAssertGreaterThan(GridWorld.play(config, experiment: 0, seed: 1, policy: &oracle).accuracy,
                             GridWorld.play(config, experiment: 0, seed: 1, policy: &random).accuracy + 0.1)
        var bad = config
        bad.goal = [5, 1]
        bad.agent.alpha = 2
        XCTAssertEqual(bad.validate().count, 2)
    }
}

final class GraphTests: XCTestCase {
    func testSchapiroDegreesAndCommunities() {
        let g = Graph.schapiro
        XCTAssertEqual(g.nodeCount, 15)
        XCTAssertEqual(g.edgeCount, 30)
        for n in 0..<15 { XCTAssertEqual(g.degree(n), 4) }
        var between = 0
        for n in 0..<15 {
            let c = Graph.schapiroCommunity(n)
            let out = g.neighbours[n].filter { Graph.schapiroCommunity($0) != c }
            between += out.count
            // Boundary nodes (first and last of a community) have one edge out; the 3 inner nodes none.
            XCTAssertEqual(out.count, n % 5 == 0 || n % 5 == 4 ? 1 : 0)
        }
        XCTAssertEqual(between, 6)  // 3 between-community edges, counted from both ends
        XCTAssertEqual(g.neighbours[4], [1, 2, 3, 5])
        XCTAssertEqual(g.neighbours[0], [1, 2, 3, 14])
    }

    func testNextNodeCeilingIsAQuarter() {
        var config = GraphConfig()
        config.walkLength = 400
        var hits = 0, total = 0
        for e in 0..<40 {
            var oracle = OraclePolicy()
            let x = GraphWalk.play(config, experiment: e, seed: 8, policy: &oracle)
            XCTAssertEqual(Graph.schapiro.nextNodeCeiling(walk: x.walk), 0.25, accuracy: 1e-12)
            hits += Int((x.accuracy * Double(x.steps.count)).rounded()); total += x.steps.count
            XCTAssertEqual(Set(x.names).count, 15)
        }
        XCTAssertEqual(Double(hits) / Double(total), 0.25, accuracy: 0.015)
    }

    func testWalkFollowsEdgesAndVisitsUniformly() {
        var rng = SeededRNG(seed: 1)
        let w = GraphWalk.walk(.schapiro, length: 30_000, rng: &rng)
        for i in 1..<w.count { XCTAssertTrue(Graph.schapiro.neighbours[w[i - 1]].contains(w[i])) }
        var counts = Array(repeating: 0, count: 15)
        for n in w { counts[n] += 1 }
        for c in counts { XCTAssertEqual(Double(c) / 30_000, 1.0 / 15, accuracy: 0.01) }  // regular graph: uniform
    }

    func testThingsPoolAndValidation() throws {
        XCTAssertEqual(ThingsConcepts.all.count, 1854)
        let pool = ThingsConcepts.pool()
        XCTAssertEqual(pool.count, 1523)
        XCTAssertFalse(pool.contains("bat"))
        XCTAssertFalse(pool.contains("air conditioner"))
        XCTAssertTrue(pool.contains("aardvark"))
        XCTAssertEqual(GraphConfig().validate(), [])
        var c = GraphConfig()
        c.graph = .edges(nodes: 4, edges: [[0, 1], [1, 2], [2, 2]])
        c.names = ["a", "b", "c"]
        let problems = c.validate()
        XCTAssertTrue(problems.contains { $0.contains("isolated node(s) 3") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("self-loop") })
        XCTAssertTrue(problems.contains { $0.contains("only 3 distinct names") })
        let d = try JSONDecoder().decode(GraphConfig.self, from: Data(#"{"graph": {"edges": [[0,1],[1,2],[2,0]]}, "names": ["x","y","z"]}"#.utf8))
        XCTAssertEqual(d.resolvedGraph.nodeCount, 3)
        XCTAssertEqual(d.validate(), [])
        XCTAssertEqual(d.walkLength, 500)
    }
}
