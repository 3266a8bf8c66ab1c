import TDXCore

/// The behaviour of one Grid World experiment: what the generating agent did, before any rendering.
public struct GridTrajectory: Codable, Sendable, Hashable {
    public var size: Int
    /// Goal state index (y·size + x).
    public var goal: Int
    /// The agent's steps (state = y·size + x; actions 0 up, 1 down, 2 left, 3 right). Event indices are −1
    /// until rendered.
    public var steps: [Step]
}

public enum GridWorld {
    public static func state(x: Int, y: Int, size: Int) -> Int { y * size + x }
    public static func position(_ s: Int, size: Int) -> (x: Int, y: Int) { (s % size, s / size) }

    /// The cell reached by `action` from `state` (borders block).
    public static func move(_ state: Int, action: Int, size: Int) -> Int {
        var (x, y) = position(state, size: size)
        switch action {
        case 0: y = max(y - 1, 0)
        case 1: y = min(y + 1, size - 1)
        case 2: x = max(x - 1, 0)
        default: x = min(x + 1, size - 1)
        }
        return Self.state(x: x, y: y, size: size)
    }

    /// Actions that shorten the Manhattan distance to the goal (what the oracle predicts).
    public static func optimalActions(_ state: Int, goal: Int, size: Int) -> [Int] {
        let d = distance(state, goal, size: size)
        return (0..<4).filter { distance(move(state, action: $0, size: size), goal, size: size) < d }
    }

    static func distance(_ a: Int, _ b: Int, size: Int) -> Int {
        let p = position(a, size: size), q = position(b, size: size)
        return abs(p.x - q.x) + abs(p.y - q.y)
    }

    /// Simulates the generating agent for one experiment (task draws and the agent's choices come from
    /// separate streams of `seed`).
    public static func simulate(_ config: GridWorldConfig, experiment: Int, seed: UInt64) -> GridTrajectory {
        var task = SeededRNG(seed: seed, stream: "grid/task/\(experiment)")
        var rng = SeededRNG(seed: seed, stream: "grid/agent/\(experiment)")
        let n = config.size * config.size
        let goal: Int
        if let g = config.goal {
            goal = state(x: g[0], y: g[1], size: config.size)
        } else {
            goal = config.start == .corner ? 1 + task.int(below: n - 1) : task.int(below: n)
        }
        var agent = config.agent.makePolicy()
        var steps: [Step] = []
        for episode in 0..<config.episodes {
            var s: Int
            switch config.start {
            case .corner: s = 0
            case .random:
                s = task.int(below: n - 1)
                if s >= goal { s += 1 }
            }
            for t in 0..<config.maxSteps {
                let p = agent.probabilities(state: s, actionCount: 4)
                let a = Softmax.sample(p, rng: &rng)
                let next = move(s, action: a, size: config.size)
                let atGoal = next == goal
                var step = Step(episode: episode, stage: t, state: s, actionCount: 4, action: a,
                                reward: atGoal ? config.goalReward : config.stepReward, nextState: atGoal ? nil : next)
                step.isLastOfEpisode = atGoal || t == config.maxSteps - 1
                agent.observe(step)
                steps.append(step)
                if atGoal { break }
                s = next
            }
        }
        return GridTrajectory(size: config.size, goal: goal, steps: steps)
    }

    /// The rewards to write into the text for a trajectory under `config.rewardDisplay`.
    public static func shownRewards(_ trajectory: GridTrajectory, config: GridWorldConfig, experiment: Int,
                                    seed: UInt64) -> [Double] {
        var rng = SeededRNG(seed: seed, stream: "grid/display/\(experiment)")
        let actual = trajectory.steps.map(\.reward)
        switch config.rewardDisplay {
        case .actual: return actual
        case .shuffled: return actual.shuffled(using: &rng)
        case .random:
            let lo = Int(min(config.goalReward, config.stepReward).rounded(.down))
            let hi = Int(max(config.goalReward, config.stepReward).rounded(.up))
            return actual.map { _ in Double(lo + rng.int(below: hi - lo + 1)) }
        }
    }

    /// Renders and plays one experiment with a predicting policy. The text always continues with the
    /// agent's true move; the policy's predictions are recorded in the choice events.
    public static func play<P: Policy>(_ config: GridWorldConfig, experiment: Int, seed: UInt64,
                                       policy: inout P) -> GridWorldExperiment {
        let trajectory = simulate(config, experiment: experiment, seed: seed)
        var env = GridWorldEnvironment(config: config, trajectory: trajectory,
                                       shown: shownRewards(trajectory, config: config, experiment: experiment, seed: seed))
        var rng = SeededRNG(seed: seed, stream: "grid/policy/\(experiment)")
        let steps = Rollout.run(&env, policy: &policy, rng: &rng)
        return GridWorldExperiment(experiment: experiment, goal: trajectory.goal, transcript: env.transcript, steps: steps)
    }
}

extension GridWorld {
    /// Plays all `config.experiments` experiments, a fresh policy from `makePolicy` for each.
    public static func playAll<P: Policy>(_ config: GridWorldConfig, seed: UInt64,
                                          makePolicy: (Int) -> P) -> [GridWorldExperiment] {
        (0..<config.experiments).map { e in
            var p = makePolicy(e)
            return play(config, experiment: e, seed: seed, policy: &p)
        }
    }
}

/// Renders a Grid World trajectory with prediction slots.
public struct GridWorldEnvironment: Environment {
    public let config: GridWorldConfig
    public let trajectory: GridTrajectory
    /// The reward written after each step (the true one unless a control display is chosen).
    public let shown: [Double]
    public private(set) var transcript = Transcript()
    private var next = 0

    public init(config: GridWorldConfig, trajectory: GridTrajectory, shown: [Double]) {
        self.config = config; self.trajectory = trajectory; self.shown = shown
        config.prompt.intro.render(into: &transcript, values: ["size": String(config.size)], episode: 0, step: 0)
    }

    private func label(_ s: Int) -> String {
        let p = GridWorld.position(s, size: config.size)
        return "(\(p.x), \(p.y))"
    }

    public mutating func nextSlot() -> ChoiceSlot? {
        guard next < trajectory.steps.count else { return nil }
        let step = trajectory.steps[next]
        if step.stage == 0 {
            config.prompt.episode.render(into: &transcript, values: ["episode": String(step.episode + 1)],
                                         episode: step.episode, step: next)
        }
        config.prompt.position.render(into: &transcript, values: ["state": label(step.state)],
                                      events: ["state": (.state, step.state, nil)], episode: step.episode, step: next)
        return ChoiceSlot(mode: .predict, episode: step.episode, step: next, state: step.state,
                          answers: config.actionLabels.map { config.answerPrefix + $0 },
                          optimal: GridWorld.optimalActions(step.state, goal: trajectory.goal, size: config.size),
                          forcedRandom: false, event: transcript.events.count)
    }

    public mutating func submit(_ decision: Decision, forcedRandom: Bool) -> Step {
        var step = trajectory.steps[next]
        let answers = config.actionLabels.map { config.answerPrefix + $0 }
        step.choiceEvent = transcript.appendEvent(answers[step.action], kind: .choice, episode: step.episode,
                                                  step: next, state: step.state, answers: answers)
        transcript.recordChoice(event: step.choiceEvent, written: step.action, chosen: decision.index,
                                probabilities: decision.probabilities, forcedRandom: false)
        let before = transcript.events.count
        config.prompt.outcome.render(into: &transcript, values: ["reward": TwoStepEnvironment.format(shown[next])],
                                     events: ["reward": (.reward, nil, step.reward)], episode: step.episode, step: next)
        step.outcomeEvent = transcript.events[before...].firstIndex { $0.kind == .reward } ?? step.choiceEvent
        if step.nextState == nil {
            config.prompt.goalReached.render(into: &transcript, values: [:], episode: step.episode, step: next)
        }
        next += 1
        return step
    }
}

/// A rendered Grid World experiment.
public struct GridWorldExperiment: Codable, Sendable {
    public var experiment: Int
    public var goal: Int
    public var transcript: Transcript
    /// The agent's steps with event indices.
    public var steps: [Step]

    /// Fraction of slots where the policy predicted the agent's move.
    public var accuracy: Double {
        let slots = steps.map { transcript.events[$0.choiceEvent] }
        return Double(slots.filter { $0.chosen == $0.written }.count) / Double(max(slots.count, 1))
    }
}
