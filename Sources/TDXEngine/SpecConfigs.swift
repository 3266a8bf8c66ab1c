import TDXLang
import TDXRL
import TDXTasks

/// Turns checked spec parameters into the task and model configurations of TDXTasks and TDXRL.
public enum SpecConfigs {
    public static func twoStep(_ p: Params) -> TwoStepConfig {
        var c = TwoStepConfig()
        c.experiments = p.int("experiments", c.experiments)
        c.episodes = p.int("episodes", c.episodes)
        c.randomEpisodes = p.int("random_episodes", c.randomEpisodes)
        if let t = p["transitions"], t.head == "common", let prob = t.arguments.first?.doubleValue { c.transitions = .common(prob) }
        c.rewards = p.symbol("rewards") == "drifting" ? .drifting : .stationary
        c.rewardValues = TwoStepRewardValues(rawValue: p.symbol("reward_values", "auto")) ?? .auto
        c.rewardMeanLow = p.double("reward_mean_low", c.rewardMeanLow)
        c.rewardMeanHigh = p.double("reward_mean_high", c.rewardMeanHigh)
        c.rewardNoise = p.double("reward_noise", c.rewardNoise)
        c.roundPoints = p.bool("round_points", c.roundPoints)
        c.pointsMin = p.double("points_min", c.pointsMin)
        c.pointsMax = p.double("points_max", c.pointsMax)
        c.driftSD = p.double("drift_sd", c.driftSD)
        c.driftLow = p.double("drift_low", c.driftLow)
        c.driftHigh = p.double("drift_high", c.driftHigh)
        if p["stage1_labels"] != nil { c.stage1Labels = p.strings("stage1_labels") }
        if let l = p["stage2_labels"]?.listValue { c.stage2Labels = l.map { $0.listValue?.compactMap(\.stringValue) ?? [] } }
        c.answerPrefix = p.string("answer_prefix", c.answerPrefix)
        var t = c.prompt
        func tpl(_ name: String, _ d: Template) -> Template { p[name]?.stringValue.map { Template($0) } ?? d }
        t.intro = tpl("prompt_intro", t.intro)
        t.episode = tpl("prompt_episode", t.episode)
        t.stage1 = tpl("prompt_stage1", t.stage1)
        t.afterAnswer = tpl("prompt_after_answer", t.afterAnswer)
        t.arrive = tpl("prompt_arrive", t.arrive)
        t.stage2 = tpl("prompt_stage2", t.stage2)
        t.reward = tpl("prompt_reward", t.reward)
        t.episodeEnd = tpl("prompt_episode_end", t.episodeEnd)
        c.prompt = t
        return c
    }

    /// Grid World; `agent` is the generating agent's parameters (the `generator` block).
    public static func gridWorld(_ p: Params, agent: Params?, control: Bool = false) -> GridWorldConfig {
        var c = GridWorldConfig()
        c.experiments = p.int("experiments", c.experiments)
        c.episodes = p.int("episodes", c.episodes)
        c.size = p.int("size", c.size)
        if let g = p["goal"] {
            switch g.head {
            case "corner": c.goal = [c.size - 1, c.size - 1]
            case "cell": c.goal = g.arguments.compactMap(\.intValue)
            default: c.goal = nil
            }
        }
        c.goalReward = p.double("goal_reward", c.goalReward)
        c.stepReward = p.double("step_reward", c.stepReward)
        c.maxSteps = p.int("max_steps", c.maxSteps)
        c.start = p.symbol("start") == "corner" ? .corner : .random
        if control {
            c.rewardDisplay = p.symbol("control") == "random" ? .random : .shuffled
        }
        if p["action_labels"] != nil { c.actionLabels = p.strings("action_labels") }
        c.answerPrefix = p.string("answer_prefix", c.answerPrefix)
        if let a = agent {
            c.agent.alpha = a.double("alpha", c.agent.alpha)
            c.agent.gamma = a.double("gamma", c.agent.gamma)
            c.agent.beta = a.double("beta", c.agent.beta)
            c.agent.qInit = a.double("q_init", c.agent.qInit)
            let eps = a.double("epsilon", 0)
            if eps > 0 { c.agent.exploration = .epsilonGreedy; c.agent.epsilon = eps }
        }
        func tpl(_ name: String, _ d: Template) -> Template { p[name]?.stringValue.map { Template($0) } ?? d }
        c.prompt.intro = tpl("prompt_grid_intro", c.prompt.intro)
        c.prompt.episode = tpl("prompt_episode", c.prompt.episode)
        c.prompt.position = tpl("prompt_position", c.prompt.position)
        c.prompt.outcome = tpl("prompt_outcome", c.prompt.outcome)
        c.prompt.goalReached = tpl("prompt_goal_reached", c.prompt.goalReached)
        return c
    }

    public static func graph(_ p: Params) -> GraphConfig {
        var c = GraphConfig()
        c.experiments = p.int("experiments", c.experiments)
        c.walkLength = p.int("walk_length", c.walkLength)
        if let g = p["graph"], g.head == "edges" {
            let pairs = g.arguments.first?.listValue?.compactMap { $0.intList } ?? []
            c.graph = .edges(nodes: (pairs.flatMap { $0 }.max() ?? -1) + 1, edges: pairs)
        }
        if let names = p["names"]?.listValue { c.names = names.compactMap(\.stringValue) }
        c.singleWordNames = !p.bool("multiword", false)
        c.separator = p.string("separator", c.separator)
        c.answerPrefix = p.string("answer_prefix", c.answerPrefix)
        if let i = p["prompt_graph_intro"]?.stringValue { c.intro = Template(i) }
        return c
    }

    /// A behavioural agent block (not sr / transition).
    public static func agent(_ p: Params) -> AgentConfig {
        var a = AgentConfig()
        a.model = ModelKind(rawValue: p.symbol("kind", "q_learning")) ?? .qLearning
        a.alpha = p.double("alpha", a.alpha)
        a.gamma = a.model == .myopic ? 0 : p.double("gamma", a.gamma)
        a.beta = p.double("beta", a.beta)
        a.w = p.double("weight", a.w)
        a.kappa = p.double("kappa", a.kappa)
        a.useFitted = p.symbol("params") == "fitted"
        a.options.qInit = p.double("q_init", a.options.qInit)
        a.options.lambda = p.double("lambda", a.options.lambda)
        return a
    }

    public static func sr(_ p: Params) -> SRConfig {
        var c = SRConfig()
        let kind = p.symbol("kind")
        if kind == "sr" {
            c.alpha = p.double("alpha", c.alpha)
            c.gamma = min(p.double("gamma", c.gamma), 0.999_999)
            c.initial = p.symbol("m_init") == "zero" ? .zero : .identity
        } else {
            c.transitions = p.symbol("learning") == "delta" ? .delta : .counts
            c.transitionAlpha = p.double("alpha", c.transitionAlpha)
            c.prior = p.double("prior", c.prior)
        }
        return c
    }

    public static func fit(_ p: Params) -> FitConfig {
        var f = FitConfig()
        if let m = p["models"]?.listValue { f.models = m.compactMap { $0.symbolValue.flatMap(ModelKind.init(rawValue:)) } }
        f.pooling = p.symbol("pooling") == "per_experiment" ? .perExperiment : .pooled
        f.includeRandom = p.bool("include_random", f.includeRandom)
        f.restarts = p.int("restarts", f.restarts)
        f.options.betaMax = p.double("beta_max", f.options.betaMax)
        f.options.kappaMax = p.double("kappa_max", f.options.kappaMax)
        f.options.qInit = p.double("q_init", f.options.qInit)
        f.options.lambda = p.double("lambda", f.options.lambda)
        return f
    }
}
