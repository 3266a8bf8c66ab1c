import XCTest
import Foundation
import TDXCore
import TDXTasks
import TDXNumerics
@testable import TDXRL

/// A 3-episode Two-Step trace: (S0 →a0→ S1 →a1→ 4), (S0 →a0→ S1 →a1→ 2), (S0 →a1→ S2 →a0→ 6).
let threeEpisodes: [Step] = [
    Step(episode: 0, stage: 0, state: 0, actionCount: 2, action: 0, reward: 0, nextState: 1),
    Step(episode: 0, stage: 1, state: 1, actionCount: 2, action: 1, reward: 4, nextState: nil),
    Step(episode: 1, stage: 0, state: 0, actionCount: 2, action: 0, reward: 0, nextState: 1),
    Step(episode: 1, stage: 1, state: 1, actionCount: 2, action: 1, reward: 2, nextState: nil),
    Step(episode: 2, stage: 0, state: 0, actionCount: 2, action: 1, reward: 0, nextState: 2),
    Step(episode: 2, stage: 1, state: 2, actionCount: 2, action: 0, reward: 6, nextState: nil),
]

final class HandComputedTests: XCTestCase {
    func testTDUpdatesOnThreeEpisodeTrace() {
        // α = 0.5, γ = 0.9, Q₀ = 0:
        // ep1: δ1 = 0 + 0.9·0 − 0 = 0;      δ2 = 4 − 0 = 4  → Q(S1,1) = 2
        // ep2: δ1 = 0.9·2 − 0 = 1.8 → Q(S0,0) = 0.9;  δ2 = 2 − 2 = 0
        // ep3: δ1 = 0.9·0 − 0 = 0;          δ2 = 6 − 0 = 6  → Q(S2,0) = 3
        let t = RLVariables.behaviour(BehaviourModel(.qLearning), parameters: [0.5, 0.9, 1], steps: threeEpisodes,
                                      experiment: 0)
        XCTAssertEqual(t.columns["td_error"]!, [0, 4, 1.8, 0, 0, 6])
        XCTAssertEqual(t.columns["q_chosen"]!, [0, 0, 0, 2, 0, 0])
        XCTAssertEqual(t.columns["q_unchosen"]!, [0, 0, 0, 0, 0.9, 0])
        XCTAssertEqual(t.columns["v"]!, [0, 0, 0, 2, 0.9, 0])
        // Myopic (γ = 0): stage-1 values never move.
        let m = RLVariables.behaviour(BehaviourModel(.myopic), parameters: [0.5, 1], steps: threeEpisodes, experiment: 0)
        XCTAssertEqual(m.columns["td_error"]!, [0, 4, 0, 0, 0, 6])
        // λ = 1: δ2 of episode 1 also moves Q(S0,0) by 0.5·4 = 2, so episode 2's δ1 = 0.9·2 − 2 = −0.2.
        var opts = ModelOptions(); opts.lambda = 1
        let l = RLVariables.behaviour(BehaviourModel(.qLearning, options: opts), parameters: [0.5, 0.9, 1],
                                      steps: threeEpisodes, experiment: 0)
        XCTAssertEqual(l.columns["td_error"]![2], -0.2, accuracy: 1e-12)
        XCTAssertEqual(l.columns["q_chosen"]![2], 2, accuracy: 1e-12)
    }

    func testLikelihoodByHand() {
        // β = 1: every choice is 50/50 except ep2 stage 2 (Q(S1) = [0, 2], chose 1) and ep3 stage 1
        // (Q(S0) = [0.9, 0], chose 1).
        let p1 = exp(2.0) / (1 + exp(2.0)), p2 = 1 / (1 + exp(0.9))
        let expected = -(4 * log(0.5) + log(p1) + log(p2))
        XCTAssertEqual(BehaviourModel(.qLearning).negativeLogLikelihood([0.5, 0.9, 1], steps: threeEpisodes,
                                                                      includeRandom: true), expected, accuracy: 1e-12)
        var random = threeEpisodes
        random[0].forcedRandom = true; random[1].forcedRandom = true
        XCTAssertEqual(BehaviourModel(.qLearning).negativeLogLikelihood([0.5, 0.9, 1], steps: random, includeRandom: false),
                       expected + 2 * log(0.5), accuracy: 1e-12)
        // Repetition κ = 2: S0 repeats a0 in ep2 (p = e²/(1+e²)), switches in ep3; S1 repeats in ep2; S2 first visit.
        let rep = BehaviourModel(.repetition).negativeLogLikelihood([2], steps: threeEpisodes, includeRandom: true)
        XCTAssertEqual(rep, -(3 * log(0.5) + 2 * log(p1) + log(1 - p1)), accuracy: 1e-12)
    }

    func testSRUpdateOnFourStepWalk() {
        // Path 0–1–2, walk 0,1,2,1,0; α = γ = 0.5, M₀ = I.
        // t0: δ = e0 + ½M[1] − M[0] = [0, .5, 0]         → M[0] = [1, .25, 0]
        // t1: δ = e1 + ½M[2] − M[1] = [0, 0, .5]         → M[1] = [0, 1, .25]
        // t2: δ = e2 + ½M[1] − M[2] = [0, .5, .125]      → M[2] = [0, .25, 1.0625]
        // t3: δ = e1 + ½M[0] − M[1] = [.5, .125, −.25]   → M[1] = [.25, 1.0625, .125]
        var c = SRConfig(); c.alpha = 0.5; c.gamma = 0.5
        let r = SuccessorRepresentation.run(c, walk: [0, 1, 2, 1, 0], nodeCount: 3, nodeEvents: [10, 11, 12, 13, 14])
        XCTAssertEqual(r.sr, [1, 0.25, 0, 0.25, 1.0625, 0.125, 0, 0.25, 1.0625])
        XCTAssertEqual(r.table.columns["sr_td"]!, [0.5, 0.5, 0.5, 0.5])
        let norms = [0.5, 0.5, (0.25 + 0.015625).squareRoot(), (0.25 + 0.015625 + 0.0625).squareRoot()]
        for (a, b) in zip(r.table.columns["sr_td_norm"]!, norms) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        XCTAssertEqual(r.table.columns["sr_td_sum"]!, [0.5, 0.5, 0.625, 0.375])
        XCTAssertEqual(r.table.columns["sr_value"]!, [0, 0, 0, 0])
        // Counts with prior 1 over 3 nodes: T̂(0,1) = 1/3, T̂(1,2) = 1/3, T̂(2,1) = 1/3, T̂(1,0) = 1/4.
        XCTAssertEqual(r.table.columns["transition_prob"]!, [1.0 / 3, 1.0 / 3, 1.0 / 3, 0.25])
        XCTAssertEqual(r.table.columns["surprise"]![3], log(4), accuracy: 1e-12)
        XCTAssertEqual(r.table.toEvents, [11, 12, 13, 14])
        XCTAssertEqual(r.table.aligned("surprise").map(\.event), [11, 12, 13, 14])
    }

    func testNelderMeadFindsBoxedMinima() {
        var rng = SeededRNG(seed: 1)
        let rosen = { (x: [Double]) in 100 * pow(x[1] - x[0] * x[0], 2) + pow(1 - x[0], 2) }
        let r = NelderMead.minimize(rosen, lower: [-2, -1], upper: [2, 3], restarts: 4, rng: &rng)
        XCTAssertEqual(r.x[0], 1, accuracy: 1e-3)
        XCTAssertEqual(r.x[1], 1, accuracy: 2e-3)
        // Minimum outside the box: lands on the bound.
        let b = NelderMead.minimize({ ($0[0] - 5) * ($0[0] - 5) + $0[1] * $0[1] }, lower: [0, -1], upper: [1, 1],
                                    restarts: 2, rng: &rng)
        XCTAssertEqual(b.x[0], 1, accuracy: 1e-6)
        XCTAssertEqual(b.x[1], 0, accuracy: 1e-3)
    }
}
