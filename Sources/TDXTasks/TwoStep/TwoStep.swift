import Foundation
import TDXCore

/// One Two-Step experiment, played slot by slot. States: 0 = S0, 1 = S1, 2 = S2; actions 0/1 at each.
/// The task's own draws (reward means, noise, transitions, drift) come from a stream of `seed` named by
/// the experiment, so every policy meets the same task.
public struct TwoStepEnvironment: Environment {
    public let config: TwoStepConfig
    public let experiment: Int
    public private(set) var transcript = Transcript()
    /// The 4 option means (points) or reward probabilities (binary), index (state − 1)·2 + action; current
    /// ones when drifting.
    public private(set) var optionValues: [Double]
    /// Points obtained in each finished episode.
    public private(set) var returns: [Double] = []

    private var taskRNG: SeededRNG
    private var episode = 0
    private var stepIndex = 0
    /// The pending slot's state, nil before the next episode's first slot.
    private var state: Int?

    public init(config: TwoStepConfig, experiment: Int, seed: UInt64) {
        self.config = config
        self.experiment = experiment
        taskRNG = SeededRNG(seed: seed, stream: "two_step/experiment/\(experiment)")
        let (lo, hi) = config.binaryRewards ? (config.driftLow, config.driftHigh) : (config.rewardMeanLow, config.rewardMeanHigh)
        var values: [Double] = []
        for _ in 0..<4 { values.append(lo + (hi - lo) * taskRNG.uniform()) }
        optionValues = values
        config.prompt.intro.render(into: &transcript, values: [:], episode: 0, step: 0)
    }

    private func labels(_ state: Int) -> [String] {
        state == 0 ? config.stage1Labels : config.stage2Labels[state - 1]
    }

    /// Expected reward of each action in `state` under the true task (what the oracle maximises).
    public func expectedValues(state: Int) -> [Double] {
        if state > 0 { return [optionValues[(state - 1) * 2], optionValues[(state - 1) * 2 + 1]] }
        let best1 = max(optionValues[0], optionValues[1]), best2 = max(optionValues[2], optionValues[3])
        let p = config.transitions.commonProbability
        return [p * best1 + (1 - p) * best2, p * best2 + (1 - p) * best1]
    }

    public mutating func nextSlot() -> ChoiceSlot? {
        let s: Int
        if let pending = state {
            s = pending
        } else {
            guard episode < config.episodes else { return nil }
            config.prompt.episode.render(into: &transcript, values: ["episode": String(episode + 1)],
                                         episode: episode, step: stepIndex)
            s = 0
            state = 0
        }
        let l = labels(s)
        var values = ["a": l[0], "b": l[1]]
        var events: [String: (EventKind, Int?, Double?)] = [:]
        if s > 0 { values["state"] = config.stage1Labels[s - 1]; events["state"] = (.state, s, nil) }
        (s == 0 ? config.prompt.stage1 : config.prompt.stage2)
            .render(into: &transcript, values: values, events: events, episode: episode, step: stepIndex)
        let ev = expectedValues(state: s)
        let best = ev.max()!
        return ChoiceSlot(mode: .act, episode: episode, step: stepIndex, state: s,
                          answers: l.map { config.answerPrefix + $0 },
                          optimal: ev.indices.filter { ev[$0] == best },
                          forcedRandom: episode < config.randomEpisodes, event: transcript.events.count)
    }

    public mutating func submit(_ decision: Decision, forcedRandom: Bool) -> Step {
        guard let s = state else { preconditionFailure("submit without a pending slot") }
        let l = labels(s)
        let a = decision.index
        let choiceEvent = transcript.appendEvent(config.answerPrefix + l[a], kind: .choice, episode: episode,
                                                 step: stepIndex, state: s, answers: l.map { config.answerPrefix + $0 })
        transcript.recordChoice(event: choiceEvent, written: a, chosen: a, probabilities: decision.probabilities,
                                forcedRandom: forcedRandom)
        config.prompt.afterAnswer.render(into: &transcript, values: [:], episode: episode, step: stepIndex)
        let step: Step
        if s == 0 {
            let common = taskRNG.uniform() < config.transitions.commonProbability
            let next = common ? a + 1 : 2 - a
            let before = transcript.events.count
            config.prompt.arrive.render(into: &transcript, values: ["state": config.stage1Labels[next - 1]],
                                        events: ["state": (.state, next, nil)], episode: episode, step: stepIndex)
            step = Step(episode: episode, stage: 0, state: 0, actionCount: 2, action: a, reward: 0, nextState: next,
                        forcedRandom: forcedRandom, choiceEvent: choiceEvent,
                        outcomeEvent: firstEvent(of: .state, from: before) ?? choiceEvent)
            state = next
        } else {
            let r = drawReward(option: (s - 1) * 2 + a)
            let before = transcript.events.count
            config.prompt.reward.render(into: &transcript, values: ["reward": Self.format(r)],
                                        events: ["reward": (.reward, nil, r)], episode: episode, step: stepIndex)
            step = Step(episode: episode, stage: 1, state: s, actionCount: 2, action: a, reward: r, nextState: nil,
                        forcedRandom: forcedRandom, choiceEvent: choiceEvent,
                        outcomeEvent: firstEvent(of: .reward, from: before) ?? choiceEvent)
            config.prompt.episodeEnd.render(into: &transcript, values: ["episode": String(episode + 1)],
                                            episode: episode, step: stepIndex)
            returns.append(r)
            if config.rewards == .drifting { drift() }
            episode += 1
            state = nil
        }
        stepIndex += 1
        return step
    }

    private func firstEvent(of kind: EventKind, from index: Int) -> Int? {
        transcript.events[index...].firstIndex { $0.kind == kind }
    }

    private mutating func drawReward(option: Int) -> Double {
        if config.binaryRewards { return taskRNG.uniform() < optionValues[option] ? 1 : 0 }
        var r = optionValues[option] + config.rewardNoise * taskRNG.normal()
        if config.roundPoints { r = min(max(r.rounded(), config.pointsMin), config.pointsMax) }
        return r
    }

    private mutating func drift() {
        let binary = config.binaryRewards
        let sd = binary ? config.driftSD : config.driftSD * (config.pointsMax - config.pointsMin)
        let (lo, hi) = binary ? (config.driftLow, config.driftHigh) : (config.rewardMeanLow, config.rewardMeanHigh)
        for i in optionValues.indices { optionValues[i] = min(max(optionValues[i] + sd * taskRNG.normal(), lo), hi) }
    }

    /// Points as shown: integers without a decimal point, other values with up to 2 decimals.
    static func format(_ r: Double) -> String {
        r == r.rounded() && abs(r) < 1e15 ? String(Int(r)) : String(format: "%.2f", r)
    }
}

/// A finished Two-Step experiment.
public struct TwoStepExperiment: Codable, Sendable {
    public var experiment: Int
    public var transcript: Transcript
    public var steps: [Step]
    /// Points per episode.
    public var returns: [Double]
    /// The 4 option means (points) or probabilities (binary) at the start.
    public var optionValues: [Double]
    /// Mean expected return per episode of the oracle (stationary: the best option mean).
    public var optimalReturn: Double
}

public enum TwoStep {
    /// Plays experiment `experiment` with a policy; forced-random episodes and the policy draw from a stream
    /// of `seed` separate from the task's own.
    public static func play<P: Policy>(_ config: TwoStepConfig, experiment: Int, seed: UInt64,
                                       policy: inout P) -> TwoStepExperiment {
        var env = TwoStepEnvironment(config: config, experiment: experiment, seed: seed)
        let start = env.optionValues
        let optimal = env.expectedValues(state: 0).max()!
        var rng = SeededRNG(seed: seed, stream: "two_step/policy/\(experiment)")
        let steps = Rollout.run(&env, policy: &policy, rng: &rng)
        return TwoStepExperiment(experiment: experiment, transcript: env.transcript, steps: steps,
                                 returns: env.returns, optionValues: start, optimalReturn: optimal)
    }

    /// Plays all `config.experiments` experiments, a fresh policy from `makePolicy` for each.
    public static func playAll<P: Policy>(_ config: TwoStepConfig, seed: UInt64,
                                          makePolicy: (Int) -> P) -> [TwoStepExperiment] {
        (0..<config.experiments).map { e in
            var p = makePolicy(e)
            return play(config, experiment: e, seed: seed, policy: &p)
        }
    }
}
