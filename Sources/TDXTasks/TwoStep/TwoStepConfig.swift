/// The Two-Step task (SCIENCE.md §3.1): S0 → {S1, S2} → reward, two actions per state, experiments × episodes,
/// the first `randomEpisodes` played uniformly at random. JSON keys are the snake_case names in `CodingKeys`;
/// every key is optional and defaults as documented.
public struct TwoStepConfig: Codable, Sendable, Hashable {
    /// Independent experiments (seeds). ≥ 1.
    public var experiments = 100
    /// Episodes per experiment. ≥ 1.
    public var episodes = 30
    /// Leading episodes whose choices are uniformly random (still written into the history). 0…episodes.
    public var randomEpisodes = 7
    /// First-stage transition rule.
    public var transitions = TwoStepTransitions.deterministic
    /// Reward scheme: fixed option values, or values that drift after every episode.
    public var rewards = TwoStepRewardScheme.stationary
    /// What a reward is (SCIENCE.md §9.2 asks for the two choices separately); `auto`: points when
    /// stationary, binary when drifting.
    public var rewardValues = TwoStepRewardValues.auto
    /// Points: each of the 4 second-stage options gets a mean drawn uniformly from
    /// [rewardMeanLow, rewardMeanHigh] per experiment.
    public var rewardMeanLow = 2.0
    public var rewardMeanHigh = 8.0
    /// Points: standard deviation of the Gaussian noise added to the mean on each visit. ≥ 0.
    public var rewardNoise = 1.0
    /// Points: round points to integers and clip them to [pointsMin, pointsMax].
    public var roundPoints = true
    public var pointsMin = 0.0
    public var pointsMax = 10.0
    /// Binary: the 4 reward probabilities start uniform in [driftLow, driftHigh]; the reward is 1 with that
    /// probability, else 0. Drifting: after every episode each probability takes a Gaussian random-walk step
    /// of sd `driftSD` and is clipped to [driftLow, driftHigh] (CogBench); drifting points take steps of sd
    /// `driftSD` × (pointsMax − pointsMin), clipped to [rewardMeanLow, rewardMeanHigh].
    public var driftSD = 0.025
    public var driftLow = 0.25
    public var driftHigh = 0.75
    /// Labels of the first-stage actions; action i leads (commonly) to second-stage state S(i+1), which is
    /// named by the same label. Two distinct single-token strings.
    public var stage1Labels = ["X", "Y"]
    /// Labels of the second-stage actions in S1 and in S2 (2 × 2 strings, distinct within a state).
    public var stage2Labels = [["D", "F"], ["J", "K"]]
    /// Written between the text before a slot and an answer label: the answer at a slot is
    /// `answerPrefix + label` (a leading space keeps the label a word-initial token).
    public var answerPrefix = " "
    public var prompt = TwoStepPrompt()

    public init() {}

    enum CodingKeys: String, CodingKey {
        case experiments, episodes, randomEpisodes = "random_episodes", transitions, rewards, rewardValues = "reward_values"
        case rewardMeanLow = "reward_mean_low", rewardMeanHigh = "reward_mean_high", rewardNoise = "reward_noise"
        case roundPoints = "round_points", pointsMin = "points_min", pointsMax = "points_max"
        case driftSD = "drift_sd", driftLow = "drift_low", driftHigh = "drift_high"
        case stage1Labels = "stage1_labels", stage2Labels = "stage2_labels", answerPrefix = "answer_prefix", prompt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TwoStepConfig()
        experiments = try c.value(.experiments, or: d.experiments)
        episodes = try c.value(.episodes, or: d.episodes)
        randomEpisodes = try c.value(.randomEpisodes, or: d.randomEpisodes)
        transitions = try c.value(.transitions, or: d.transitions)
        rewards = try c.value(.rewards, or: d.rewards)
        rewardValues = try c.value(.rewardValues, or: d.rewardValues)
        rewardMeanLow = try c.value(.rewardMeanLow, or: d.rewardMeanLow)
        rewardMeanHigh = try c.value(.rewardMeanHigh, or: d.rewardMeanHigh)
        rewardNoise = try c.value(.rewardNoise, or: d.rewardNoise)
        roundPoints = try c.value(.roundPoints, or: d.roundPoints)
        pointsMin = try c.value(.pointsMin, or: d.pointsMin)
        pointsMax = try c.value(.pointsMax, or: d.pointsMax)
        driftSD = try c.value(.driftSD, or: d.driftSD)
        driftLow = try c.value(.driftLow, or: d.driftLow)
        driftHigh = try c.value(.driftHigh, or: d.driftHigh)
        stage1Labels = try c.value(.stage1Labels, or: d.stage1Labels)
        stage2Labels = try c.value(.stage2Labels, or: d.stage2Labels)
        answerPrefix = try c.value(.answerPrefix, or: d.answerPrefix)
        prompt = try c.value(.prompt, or: d.prompt)
    }

    /// Problems with the values, one sentence each (empty when valid).
    public func validate() -> [String] {
        var out = Check.positive(experiments, "experiments") + Check.positive(episodes, "episodes")
        if randomEpisodes < 0 || randomEpisodes > episodes {
            out.append("random_episodes = \(randomEpisodes) must lie in 0…episodes (\(episodes))")
        }
        if case .common(let p) = transitions { out += Check.probability(p, "transitions common(p)") }
        if !(rewardMeanLow <= rewardMeanHigh) { out.append("reward_mean_low must be ≤ reward_mean_high") }
        out += Check.nonNegative(rewardNoise, "reward_noise") + Check.nonNegative(driftSD, "drift_sd")
        if !(pointsMin < pointsMax) { out.append("points_min must be < points_max") }
        if !(0 <= driftLow && driftLow <= driftHigh && driftHigh <= 1) {
            out.append("drift_low/drift_high = \(driftLow)/\(driftHigh) must satisfy 0 ≤ low ≤ high ≤ 1")
        }
        if stage1Labels.count != 2 { out.append("stage1_labels needs exactly 2 labels, got \(stage1Labels.count)") }
        out += Check.distinct(stage1Labels, "stage1_labels")
        if stage2Labels.count != 2 || stage2Labels.contains(where: { $0.count != 2 }) {
            out.append("stage2_labels needs 2 lists of 2 labels (for S1 and S2)")
        }
        for (i, l) in stage2Labels.enumerated() { out += Check.distinct(l, "stage2_labels[\(i)]") }
        out += prompt.problems()
        return out
    }
}

/// How the first-stage action leads to a second-stage state.
public enum TwoStepTransitions: Codable, Sendable, Hashable {
    /// Action i always leads to S(i+1): 4 possible trajectories (the paper's reviewer's reading).
    case deterministic
    /// Action i leads to S(i+1) with probability p, to the other state otherwise (Daw et al. 2011: 0.7).
    case common(Double)

    /// Probability that action i leads to S(i+1).
    public var commonProbability: Double {
        switch self { case .deterministic: 1; case .common(let p): p }
    }

    // JSON: "deterministic" or {"common": 0.7}.
    public init(from decoder: any Decoder) throws {
        if let s = try? decoder.singleValueContainer().decode(String.self), s == "deterministic" {
            self = .deterministic; return
        }
        let c = try decoder.container(keyedBy: Key.self)
        self = .common(try c.decode(Double.self, forKey: .common))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .deterministic:
            var c = encoder.singleValueContainer(); try c.encode("deterministic")
        case .common(let p):
            var c = encoder.container(keyedBy: Key.self); try c.encode(p, forKey: .common)
        }
    }

    private enum Key: String, CodingKey { case common }
}

public enum TwoStepRewardScheme: String, Codable, Sendable, Hashable, CaseIterable {
    /// Option values fixed per experiment (default).
    case stationary
    /// Option values that take a Gaussian random-walk step after every episode (clipped).
    case drifting
}

public enum TwoStepRewardValues: String, Codable, Sendable, Hashable, CaseIterable {
    /// Points when stationary, binary when drifting (the pairs of earlier versions).
    case auto
    /// Points: the option's mean plus Gaussian noise, rounded and clipped.
    case points
    /// 1 with the option's probability, else 0.
    case binary
}

extension TwoStepConfig {
    /// Whether rewards are 0/1 draws (else points).
    public var binaryRewards: Bool {
        switch rewardValues {
        case .auto: rewards == .drifting
        case .points: false
        case .binary: true
        }
    }
}

/// The Two-Step prompt, in pieces. Each experiment's text is:
/// intro, then per episode: episode, stage1 ⟨slot⟩ after_answer arrive stage2 ⟨slot⟩ after_answer reward
/// episode_end. A slot is where the answer (`answer_prefix` + label) is written.
///
/// Placeholders: `{episode}` (1-based) in `episode`; `{a}` `{b}` (the two labels on offer) in `stage1` and
/// `stage2`; `{state}` (the reached state's label, a `state` event) in `arrive` and `stage2`; `{reward}`
/// (the points, a `reward` event) in `reward`.
public struct TwoStepPrompt: Codable, Sendable, Hashable {
    public var intro: Template = """
        You will travel to foreign planets in search of treasure.
        When you visit a planet, you can choose an alien to trade with.
        Each alien gives you a number of points. Your goal is to collect as many points as possible.

        """
    public var episode: Template = "\nEpisode {episode}.\n"
    public var stage1: Template = "Q: Do you want to take the spaceship to planet {a} or planet {b}?\nA: Planet"
    public var afterAnswer: Template = ".\n"
    public var arrive: Template = "You arrive at planet {state}.\n"
    public var stage2: Template = "Q: Do you want to trade with alien {a} or alien {b}?\nA: Alien"
    public var reward: Template = "You receive {reward} points.\n"
    public var episodeEnd: Template = ""

    public init() {}

    enum CodingKeys: String, CodingKey {
        case intro, episode, stage1, afterAnswer = "after_answer", arrive, stage2, reward, episodeEnd = "episode_end"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TwoStepPrompt()
        intro = try c.value(.intro, or: d.intro)
        episode = try c.value(.episode, or: d.episode)
        stage1 = try c.value(.stage1, or: d.stage1)
        afterAnswer = try c.value(.afterAnswer, or: d.afterAnswer)
        arrive = try c.value(.arrive, or: d.arrive)
        stage2 = try c.value(.stage2, or: d.stage2)
        reward = try c.value(.reward, or: d.reward)
        episodeEnd = try c.value(.episodeEnd, or: d.episodeEnd)
    }

    func problems() -> [String] {
        intro.problems(allowed: [], name: "prompt.intro")
            + episode.problems(allowed: ["episode"], name: "prompt.episode")
            + stage1.problems(allowed: ["a", "b"], name: "prompt.stage1")
            + afterAnswer.problems(allowed: [], name: "prompt.after_answer")
            + arrive.problems(allowed: ["state"], required: ["state"], name: "prompt.arrive")
            + stage2.problems(allowed: ["a", "b", "state"], name: "prompt.stage2")
            + reward.problems(allowed: ["reward"], required: ["reward"], name: "prompt.reward")
            + episodeEnd.problems(allowed: ["episode"], name: "prompt.episode_end")
    }
}
