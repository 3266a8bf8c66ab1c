/// Grid World (SCIENCE.md §3.2): a tabular Q-learning agent learns to reach a goal across episodes; the text
/// shows its moves and a policy (later the language model) predicts each next move. Positions are (x, y),
/// 0-based, x to the right and y downward: `up` is y − 1, `down` y + 1, `left` x − 1, `right` x + 1.
/// A move into the border leaves the position unchanged.
public struct GridWorldConfig: Codable, Sendable, Hashable {
    /// Independent experiments (seeds). ≥ 1.
    public var experiments = 100
    /// Episodes per experiment; the agent keeps learning across them. ≥ 1.
    public var episodes = 20
    /// Side length of the square grid. 2…20.
    public var size = 5
    /// Goal cell [x, y]; nil: a random cell per experiment (not the corner start, when `start` is corner).
    public var goal: [Int]? = nil
    /// Reward on reaching the goal (which ends the episode) and on every other move.
    public var goalReward = 10.0
    public var stepReward = 0.0
    /// Moves after which an unfinished episode stops. ≥ 1.
    public var maxSteps = 20
    /// Where each episode starts.
    public var start = GridStart.random
    /// The generating agent.
    public var agent = GridAgentConfig()
    /// Rewards written into the text: the true ones, or the random-reward control (SCIENCE.md §3.2).
    public var rewardDisplay = RewardDisplay.actual
    /// Action labels in the order up, down, left, right. 4 distinct strings.
    public var actionLabels = ["up", "down", "left", "right"]
    /// Written before a label at the answer slot.
    public var answerPrefix = " "
    public var prompt = GridWorldPrompt()

    public init() {}

    enum CodingKeys: String, CodingKey {
        case experiments, episodes, size, goal, goalReward = "goal_reward", stepReward = "step_reward"
        case maxSteps = "max_steps", start, agent, rewardDisplay = "reward_display", actionLabels = "action_labels"
        case answerPrefix = "answer_prefix", prompt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GridWorldConfig()
        experiments = try c.value(.experiments, or: d.experiments)
        episodes = try c.value(.episodes, or: d.episodes)
        size = try c.value(.size, or: d.size)
        goal = try c.decodeIfPresent([Int].self, forKey: .goal)
        goalReward = try c.value(.goalReward, or: d.goalReward)
        stepReward = try c.value(.stepReward, or: d.stepReward)
        maxSteps = try c.value(.maxSteps, or: d.maxSteps)
        start = try c.value(.start, or: d.start)
        agent = try c.value(.agent, or: d.agent)
        rewardDisplay = try c.value(.rewardDisplay, or: d.rewardDisplay)
        actionLabels = try c.value(.actionLabels, or: d.actionLabels)
        answerPrefix = try c.value(.answerPrefix, or: d.answerPrefix)
        prompt = try c.value(.prompt, or: d.prompt)
    }

    public func validate() -> [String] {
        var out = Check.positive(experiments, "experiments") + Check.positive(episodes, "episodes")
            + Check.positive(maxSteps, "max_steps")
        if size < 2 || size > 20 { out.append("size = \(size) must lie in 2…20") }
        if let g = goal {
            if g.count != 2 || g.contains(where: { $0 < 0 || $0 >= size }) {
                out.append("goal = \(g) must be [x, y] with 0 ≤ x, y < size (\(size))")
            } else if start == .corner && g == [0, 0] {
                out.append("goal [0, 0] is the start cell when start = corner")
            }
        }
        if actionLabels.count != 4 { out.append("action_labels needs 4 labels (up, down, left, right)") }
        out += Check.distinct(actionLabels, "action_labels")
        out += agent.validate()
        out += prompt.problems()
        return out
    }
}

public enum GridStart: String, Codable, Sendable, Hashable, CaseIterable {
    /// A uniformly random non-goal cell at every episode.
    case random
    /// The corner (0, 0) at every episode.
    case corner
}

public enum RewardDisplay: String, Codable, Sendable, Hashable, CaseIterable {
    /// The rewards the agent received.
    case actual
    /// The experiment's rewards permuted over its steps (same values, wrong places).
    case shuffled
    /// Each shown reward drawn uniformly from the integers between the smallest and largest reward.
    case random
}

/// The tabular Q-learning agent that generates Grid World behaviour.
public struct GridAgentConfig: Codable, Sendable, Hashable {
    /// Learning rate α ∈ [0, 1].
    public var alpha = 0.3
    /// Discount γ ∈ [0, 1].
    public var gamma = 0.9
    public var exploration = Exploration.softmax
    /// Softmax inverse temperature β ≥ 0 (used when exploration = softmax).
    public var beta = 2.0
    /// ε ∈ [0, 1] (used when exploration = epsilon_greedy).
    public var epsilon = 0.1
    /// Initial Q value.
    public var qInit = 0.0

    public init() {}

    enum CodingKeys: String, CodingKey { case alpha, gamma, exploration, beta, epsilon, qInit = "q_init" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GridAgentConfig()
        alpha = try c.value(.alpha, or: d.alpha)
        gamma = try c.value(.gamma, or: d.gamma)
        exploration = try c.value(.exploration, or: d.exploration)
        beta = try c.value(.beta, or: d.beta)
        epsilon = try c.value(.epsilon, or: d.epsilon)
        qInit = try c.value(.qInit, or: d.qInit)
    }

    public func validate() -> [String] {
        Check.probability(alpha, "agent.alpha", open: false) + Check.probability(gamma, "agent.gamma", open: false)
            + Check.nonNegative(beta, "agent.beta") + Check.probability(epsilon, "agent.epsilon", open: false)
    }

    public func makePolicy() -> QAgentPolicy {
        QAgentPolicy(alpha: alpha, gamma: gamma, beta: beta, exploration: exploration, epsilon: epsilon, initial: qInit)
    }
}

/// The Grid World prompt: intro (`{size}`: the side length), then per episode `episode`, and per move `position` ⟨slot⟩ `outcome`;
/// `goal_reached` after a move onto the goal. Placeholders: `{episode}` (1-based); `{state}` the position
/// "(x, y)" (a `state` event); `{reward}` the shown reward (a `reward` event).
public struct GridWorldPrompt: Codable, Sendable, Hashable {
    public var intro: Template = """
        An agent moves in a grid of {size} by {size} cells, one step at a time (up, down, left or right).
        It receives points when it reaches a goal cell, which ends the episode.
        Predict the agent's moves.

        """
    public var episode: Template = "\nEpisode {episode}.\n"
    public var position: Template = "The agent is at {state}. It moves"
    public var outcome: Template = ". It gets {reward} points.\n"
    public var goalReached: Template = "It reached the goal.\n"

    public init() {}

    enum CodingKeys: String, CodingKey { case intro, episode, position, outcome, goalReached = "goal_reached" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GridWorldPrompt()
        intro = try c.value(.intro, or: d.intro)
        episode = try c.value(.episode, or: d.episode)
        position = try c.value(.position, or: d.position)
        outcome = try c.value(.outcome, or: d.outcome)
        goalReached = try c.value(.goalReached, or: d.goalReached)
    }

    func problems() -> [String] {
        intro.problems(allowed: ["size"], name: "prompt.intro")
            + episode.problems(allowed: ["episode"], name: "prompt.episode")
            + position.problems(allowed: ["state"], required: ["state"], name: "prompt.position")
            + outcome.problems(allowed: ["reward"], required: ["reward"], name: "prompt.outcome")
            + goalReached.problems(allowed: [], name: "prompt.goal_reached")
    }
}
