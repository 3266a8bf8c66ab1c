// The catalog. Defaults follow shared/SCIENCE.md: values the paper reports where it reports them,
// otherwise the recommendation of its section 9 (marked [I] there).

extension Schema {
    static let unit = Bounds.closed(0, 1)
    static let positiveInt = ParamType.int(.atLeast(1))
    static let agentKinds = ["q_learning", "myopic", "repetition", "choice_kernel", "model_based", "hybrid", "sr", "transition"]
    static let fitModels = ["q_learning", "myopic", "repetition", "choice_kernel", "model_based", "hybrid"]

    /// Prompt templates: the literal default text of each task kind (kept equal to TDXTasks' defaults by a test),
    /// so `check --resolved` pins the exact words the model read. Placeholders in braces, e.g. `{episode}`.
    static let promptParams: [Param] = [
        Param("prompt_intro", .string, .string("""
            You will travel to foreign planets in search of treasure.
            When you visit a planet, you can choose an alien to trade with.
            Each alien gives you a number of points. Your goal is to collect as many points as possible.

            """), "Text before the first episode.", kinds: ["two_step"], sweepable: false),
        Param("prompt_episode", .string, .string("\nEpisode {episode}.\n"), "Start of each episode ({episode}).",
              kinds: rewardTasks, sweepable: false),
        Param("prompt_stage1", .string, .string("Q: Do you want to take the spaceship to planet {a} or planet {b}?\nA: Planet"),
              "First-stage question; the answer follows ({a}, {b}).", kinds: ["two_step"], sweepable: false),
        Param("prompt_after_answer", .string, .string(".\n"), "Text after each answer.", kinds: ["two_step"], sweepable: false),
        Param("prompt_arrive", .string, .string("You arrive at planet {state}.\n"), "State reveal ({state}).",
              kinds: ["two_step"], sweepable: false),
        Param("prompt_stage2", .string, .string("Q: Do you want to trade with alien {a} or alien {b}?\nA: Alien"),
              "Second-stage question ({a}, {b}, {state}).", kinds: ["two_step"], sweepable: false),
        Param("prompt_reward", .string, .string("You receive {reward} points.\n"), "Reward ({reward}).",
              kinds: ["two_step"], sweepable: false),
        Param("prompt_episode_end", .string, .string(""), "End of each episode.", kinds: ["two_step"], sweepable: false),
        Param("prompt_grid_intro", .string, .string("""
            An agent moves in a grid of {size} by {size} cells, one step at a time (up, down, left or right).
            It receives points when it reaches a goal cell, which ends the episode.
            Predict the agent's moves.

            """), "Text before the first episode ({size}).", kinds: ["grid_world"], sweepable: false),
        Param("prompt_position", .string, .string("The agent is at {state}. It moves"), "Before each move ({state}).",
              kinds: ["grid_world"], sweepable: false),
        Param("prompt_outcome", .string, .string(". It gets {reward} points.\n"), "After each move ({reward}).",
              kinds: ["grid_world"], sweepable: false),
        Param("prompt_goal_reached", .string, .string("It reached the goal.\n"), "After a move onto the goal.",
              kinds: ["grid_world"], sweepable: false),
        Param("prompt_graph_intro", .string, .string("Here is a sequence of objects:\n"), "Text before the walk.",
              kinds: ["graph"], sweepable: false),
    ]
    static let rewardTasks = ["two_step", "grid_world"]

    public static let topLevel = BlockSchema(
        name: "spec", doc: "Top-level settings.", subKinds: [], multiple: false, implicit: true,
        params: [
            Param("seed", .int(.atLeast(0)), .int(0),
                  "Root seed; every stage derives its own seed from it and its key."),
        ])

    public static let variables: [Variable] = [
        Variable(name: "td_error", doc: "TD error δ of the transition that occurred",
                 providedBy: ["q_learning", "myopic", "hybrid"]),
        Variable(name: "q_value", doc: "Q of the chosen (or observed) action", providedBy: ["q_learning", "myopic", "model_based", "hybrid"]),
        Variable(name: "q_unchosen", doc: "Q of the action not taken", providedBy: ["q_learning", "myopic", "model_based", "hybrid"]),
        Variable(name: "value", doc: "state value V = max Q", providedBy: ["q_learning", "myopic", "model_based", "hybrid"]),
        Variable(name: "choice_kernel", doc: "choice-kernel value of the chosen action", providedBy: ["choice_kernel", "repetition"]),
        Variable(name: "reward", doc: "reward shown in the prompt", providedBy: ["q_learning", "myopic", "repetition", "choice_kernel", "model_based", "hybrid"]),
        Variable(name: "sr", doc: "successor representation M(s_t, s_t+1)", providedBy: ["sr"]),
        Variable(name: "sr_td_error", doc: "SR TD error δ_t[s_t+1] at the observed transition", providedBy: ["sr"]),
        Variable(name: "sr_td_norm", doc: "norm ‖δ_t‖ of the vector SR TD error", providedBy: ["sr"]),
        Variable(name: "transition", doc: "learned transition probability T̂(s_t, s_t+1)", providedBy: ["transition"]),
        Variable(name: "surprise", doc: "−log T̂(s_t, s_t+1)", providedBy: ["transition"]),
    ]

    public static let blocks: [BlockSchema] = [
        BlockSchema(
            name: "model", doc: "The language model that plays or watches the task.",
            subKinds: [], multiple: false, implicit: true,
            params: [
                Param("weights", .string, .string("smollm2-135m"),
                      "Built-in model name, or a path to a .gguf file or a Hugging Face safetensors directory.",
                      sweepable: false),
                Param("sha256", .string, .string(""),
                      "Expected SHA-256 of the weights file; filled in for built-in models, checked when set."),
                Param("backend", .choice([Variant("local", doc: "the in-process Swift engine"),
                                          Variant("worker", doc: "a process speaking the tdx JSON-lines protocol"),
                                          Variant("nnsight", doc: "the shipped nnsight worker (GPU or NDIF)")]),
                      .symbol("local"), "Which engine runs the forward passes.", sweepable: false),
                Param("command", .list(.string), .list([]), "Worker command line (backend = worker).", sweepable: false),
                Param("remote", .bool, .bool(false), "Run on NDIF instead of a local GPU (backend = nnsight).", sweepable: false),
                Param("revision", .string, .string(""), "Model revision for external backends; part of the model identity.", sweepable: false),
                Param("dtype", .choice([Variant("f32"), Variant("bf16"), Variant("f16")]), .symbol("f32"),
                      "Compute dtype; part of the model identity (quantisation changes activations).", sweepable: false),
            ]),

        BlockSchema(
            name: "task", doc: "The RL task the model plays (two_step) or watches (grid_world, graph).",
            subKinds: [SubKind("two_step", "Two-Step task (SCIENCE §3.1): S0 → {S1, S2} → points."),
                       SubKind("grid_world", "Grid World (§3.2): the model predicts a Q-learning agent's moves."),
                       SubKind("graph", "Graph learning (§3.3): the model predicts the next node of a random walk.")],
            multiple: false, implicit: false,
            params: [
                Param("kind", .choice([Variant("two_step"), Variant("grid_world"), Variant("graph")]), .symbol("two_step"),
                      "Task kind; defaults to the block's label.", sweepable: false),
                Param("experiments", positiveInt, .int(100), "Independent experiments (seeds), §3.1."),
                Param("episodes", positiveInt, .int(30), "Episodes per experiment, §3.1.", kinds: rewardTasks),
                Param("random_episodes", .int(.atLeast(0)), .int(7),
                      "First episodes played by a uniformly random policy, §3.1.", kinds: ["two_step"]),
                Param("policy", .choice([Variant("llm", doc: "the language model chooses"),
                                         Variant("random"), Variant("optimal"),
                                         Variant("copier", doc: "repeat the best-points past episode"),
                                         Variant("agent", [("name", .blockRef("agent"))], doc: "a simulated RL agent block")]),
                      .symbol("llm"), "Who chooses at each choice slot.", kinds: ["two_step"], sweepable: false),
                Param("transitions", .choice([Variant("deterministic", doc: "X → S1, Y → S2 (4 trajectories)"),
                                              Variant("common", [("p", .float(.open(0, 1)))],
                                                      doc: "common transition with probability p (Daw: 0.7)")]),
                      .symbol("deterministic"), "First-stage transitions, §3.1 / §9.2.", kinds: ["two_step"]),
                Param("rewards", .choice([Variant("stationary", doc: "points: per-experiment option means + Gaussian noise"),
                                          Variant("drifting", doc: "Bernoulli, random-walk probabilities")]),
                      .symbol("stationary"), "Second-stage reward scheme, §9.2.", kinds: ["two_step"]),
                Param("reward_mean_low", .float(.any), .float(2), "Lowest option mean (points), drawn uniformly per experiment.", kinds: ["two_step"]),
                Param("reward_mean_high", .float(.any), .float(8), "Highest option mean (points).", kinds: ["two_step"]),
                Param("reward_noise", .float(.atLeast(0)), .float(1), "Standard deviation of the points around an option's mean.", kinds: ["two_step"]),
                Param("round_points", .bool, .bool(true), "Show whole points.", kinds: ["two_step"]),
                Param("points_min", .float(.any), .float(0), "Points are clipped to [points_min, points_max].", kinds: ["two_step"]),
                Param("points_max", .float(.any), .float(10), "Upper clip of the points.", kinds: ["two_step"]),
                Param("drift_sd", .float(.atLeast(0)), .float(0.025), "Random-walk step of reward probabilities (drifting).", kinds: ["two_step"]),
                Param("drift_low", .float(unit), .float(0.25), "Lower bound of drifting probabilities.", kinds: ["two_step"]),
                Param("drift_high", .float(unit), .float(0.75), "Upper bound of drifting probabilities.", kinds: ["two_step"]),
                Param("stage1_labels", .list(.string), .list([.string("X"), .string("Y")]), "Names of the two planets (first-stage options).",
                      kinds: ["two_step"], sweepable: false),
                Param("stage2_labels", .list(.list(.string)), .list([.list([.string("D"), .string("F")]), .list([.string("J"), .string("K")])]),
                      "Names of the aliens at each planet.", kinds: ["two_step"], sweepable: false),
                Param("size", .int(.closed(2, 20)), .int(5), "Grid side length, §3.2.", kinds: ["grid_world"]),
                Param("goal", .choice([Variant("random"), Variant("corner", doc: "the cell (size−1, size−1)"),
                                       Variant("cell", [("x", .int(.atLeast(0))), ("y", .int(.atLeast(0)))])]),
                      .symbol("random"), "Goal cell: random per experiment, the far corner, or cell(x, y).", kinds: ["grid_world"]),
                Param("goal_reward", .float(.any), .float(10), "Points at the goal.", kinds: ["grid_world"]),
                Param("step_reward", .float(.any), .float(0), "Points for every other move.", kinds: ["grid_world"]),
                Param("max_steps", positiveInt, .int(20), "An episode ends after this many moves.", kinds: ["grid_world"]),
                Param("start", .choice([Variant("random"), Variant("corner")]), .symbol("random"),
                      "Start cell of each episode.", kinds: ["grid_world"]),
                Param("generator", .blockRef("agent"), .string(""),
                      "Agent block whose behaviour the model predicts (\"\" = the first q_learning agent).",
                      kinds: ["grid_world"], sweepable: false),
                Param("control", .choice([Variant("shuffled", doc: "rewards shuffled within the experiment"),
                                          Variant("random", doc: "rewards replaced by random values"),
                                          Variant("none")]),
                      .symbol("shuffled"), "Random-reward control condition, §3.2.", kinds: ["grid_world"]),
                Param("action_labels", .list(.string), .list(["up", "down", "left", "right"].map { .string($0) }),
                      "Words for the four moves.", kinds: ["grid_world"], sweepable: false),
                Param("graph", .choice([Variant("schapiro", doc: "15 nodes, 3 communities, degree 4"),
                                        Variant("edges", [("pairs", .list(.list(.int(.atLeast(0)))))],
                                                doc: "an edge list [[a, b], …]")]),
                      .symbol("schapiro"), "Graph to walk on, §3.3.", kinds: ["graph"]),
                Param("walk_length", .int(.atLeast(2)), .int(1000), "Steps of the random walk per experiment.", kinds: ["graph"]),
                Param("names", .either([.choice([Variant("things", doc: "sampled from the THINGS concepts")]), .list(.string)]),
                      .symbol("things"), "Node names: sampled from THINGS, or given.", kinds: ["graph"], sweepable: false),
                Param("multiword", .bool, .bool(false), "Allow multi-word THINGS names.", kinds: ["graph"]),
                Param("separator", .string, .string(","), "Text between nodes of the walk.", kinds: ["graph"], sweepable: false),
                Param("readout", .choice([Variant("sample"), Variant("argmax")]), .symbol("sample"),
                      "Choice read-out from the restricted softmax over valid answers, §9.3."),
                Param("temperature", .float(.above(0)), .float(1), "Softmax temperature of the read-out."),
                Param("answer_prefix", .string, .string(" "), "Text written before an answer (a space: ` Paris`).", sweepable: false),
            ] + promptParams),

        BlockSchema(
            name: "agent", doc: "An RL model whose quantities are correlated with latents (and may act or be fitted).",
            subKinds: [SubKind("q_learning", "Q-learning with Bellman max backup."),
                       SubKind("myopic", "Q-learning with γ fixed to 0."),
                       SubKind("repetition", "Tendency to repeat the last action in a state."),
                       SubKind("choice_kernel", "Choice kernel with its own learning rate."),
                       SubKind("model_based", "Model-based values from the learned transitions."),
                       SubKind("hybrid", "Weighted mix of model-based and model-free values."),
                       SubKind("sr", "Successor representation learned by TD."),
                       SubKind("transition", "Transition-matrix learner (and surprise).")],
            multiple: true, implicit: false,
            params: [
                Param("kind", .choice(agentKinds.map { Variant($0) }), .symbol("q_learning"),
                      "Model kind; defaults to the block's label.", sweepable: false),
                Param("alpha", .float(unit), .float(0.1), "Learning rate α (paper: 0.1 two-step / grid, 0.05 graph).",
                      aliases: ["α"], kinds: ["q_learning", "myopic", "choice_kernel", "model_based", "hybrid", "sr", "transition"]),
                Param("gamma", .float(unit), .float(0.99), "Discount γ (paper: 0.99).", aliases: ["γ"],
                      kinds: ["q_learning", "hybrid", "sr"]),
                Param("beta", .float(.closed(0, 50)), .float(5), "Softmax inverse temperature β.", aliases: ["β"],
                      kinds: ["q_learning", "myopic", "choice_kernel", "model_based", "hybrid"]),
                Param("weight", .float(unit), .float(0.5), "Model-based weight w.", kinds: ["hybrid"]),
                Param("kappa", .float(.closed(-10, 10)), .float(1), "Repetition strength κ.", kinds: ["repetition"]),
                Param("q_init", .float(.any), .float(0), "Initial Q-values.", kinds: ["q_learning", "myopic", "model_based", "hybrid"]),
                Param("lambda", .float(unit), .float(0), "Eligibility trace λ: 1 lets stage 1 learn from the stage-2 reward, §4.1.",
                      aliases: ["λ"], kinds: ["q_learning", "myopic", "hybrid"]),
                Param("epsilon", .float(unit), .float(0), "ε-greedy exploration when the agent acts (0 = softmax).",
                      aliases: ["ε"], kinds: ["q_learning", "myopic"]),
                Param("m_init", .choice([Variant("identity"), Variant("zero")]), .symbol("identity"), "Initial SR matrix M₀.",
                      kinds: ["sr"]),
                Param("learning", .choice([Variant("counts", doc: "row-normalised counts with a prior"),
                                           Variant("delta", doc: "delta rule with rate α")]),
                      .symbol("counts"), "How T̂ is learned.", kinds: ["transition"]),
                Param("prior", .float(.above(0)), .float(1), "Pseudo-count of every transition (counts).", kinds: ["transition"]),
                Param("params", .choice([Variant("fixed"), Variant("fitted", doc: "use the fit block's pooled estimates")]),
                      .symbol("fixed"), "Use the values above, or those fitted to the model's behaviour.",
                      kinds: ["q_learning", "myopic", "repetition", "choice_kernel", "model_based", "hybrid"]),
            ]),

        BlockSchema(
            name: "fit", doc: "Behavioural model fitting by maximum likelihood (§4.1).",
            subKinds: [], multiple: false, implicit: false,
            params: [
                Param("models", .list(.choice(fitModels.map { Variant($0) })),
                      .list([.symbol("q_learning"), .symbol("myopic"), .symbol("repetition")]), "Models to fit and compare.",
                      sweepable: false),
                Param("pooling", .choice([Variant("pooled", doc: "one parameter set for all experiments"),
                                          Variant("per_experiment")]),
                      .symbol("pooled"), "Shared or per-experiment parameters, §9.8."),
                Param("include_random", .bool, .bool(false), "Count the random episodes' choices in the likelihood."),
                Param("restarts", positiveInt, .int(10), "Random restarts of the optimiser."),
                Param("beta_max", .float(.above(0)), .float(50), "Upper bound of β in the fit."),
                Param("kappa_max", .float(.above(0)), .float(10), "Bound of |κ| in the fit."),
                Param("q_init", .float(.any), .float(0), "Initial Q-values of the fitted models."),
                Param("lambda", .float(unit), .float(0), "Eligibility trace λ of the fitted models.", aliases: ["λ"]),
            ]),

        BlockSchema(
            name: "activations", doc: "Which residual-stream activations to record.",
            subKinds: [], multiple: false, implicit: true,
            params: [
                Param("layers", .layers, .symbol("all"),
                      "Blocks whose output residual stream is recorded (block 0 = first transformer block).", sweepable: false),
                Param("positions", .list(.choice([Variant("events", doc: "every task event"),
                                                  Variant("choice"), Variant("state"), Variant("reward"), Variant("node"),
                                                  Variant("all_tokens")])),
                      .list([.symbol("events")]), "Token positions recorded, §9.4.", sweepable: false),
                Param("token", .choice([Variant("last"), Variant("first")]), .symbol("last"),
                      "Which token of a multi-token event."),
            ]),

        BlockSchema(
            name: "sae", doc: "One sparse autoencoder per recorded block (§5).",
            subKinds: [], multiple: false, implicit: false,
            params: [
                Param("width", .int(.atLeast(0)), .int(0), "Latents d_sae (0 = expansion × d_model)."),
                Param("expansion", .float(.above(0)), .float(4), "d_sae / d_model when width = 0."),
                Param("beta", .float(.atLeast(0)), .float(1e-5), "L1 coefficient β [B].", aliases: ["β"]),
                Param("lr", .float(.above(0)), .float(1e-4), "Adam learning rate [B]."),
                Param("batch", positiveInt, .int(256), "Batch size [B]."),
                Param("epochs", positiveInt, .int(30), "Epochs (paper: 30 two-step, 15 grid world)."),
                Param("normalise", .choice([Variant("none"), Variant("rms", doc: "centre, divide by scalar RMS norm"),
                                            Variant("standardise", doc: "per-dimension z-score")]),
                      .symbol("rms"), "Input normalisation (constants stored with the SAE).", aliases: ["normalize"]),
                Param("activation", .choice([Variant("relu"), Variant("topk", [("k", positiveInt)])]), .symbol("relu"),
                      "Latent activation."),
                Param("decoder_init", .choice([Variant("transpose"), Variant("random")]), .symbol("transpose"),
                      "Decoder initialised as the encoder's transpose, or independently."),
                Param("resample_dead", .bool, .bool(false), "Resample dead latents during training."),
                Param("test_fraction", .float(.open(0, 1)), .float(0.2), "Held-out experiments, split by experiment."),
            ]),

        BlockSchema(
            name: "correlate", doc: "Latent–variable correlations per block (§6.1).",
            subKinds: [], multiple: false, implicit: false,
            params: [
                Param("with", .list(.variable), .list([.symbol("td_error"), .symbol("q_value")]),
                      "Variables correlated with every latent.", sweepable: false),
                Param("agents", .list(.blockRef("agent")), .list([]),
                      "Agent blocks providing the variables ([] = every agent that provides them).", sweepable: false),
                Param("method", .choice([Variant("pearson"), Variant("spearman")]), .symbol("pearson"), "Correlation type."),
                Param("smooth", .float(.atLeast(0)), .float(0.5), "Gaussian σ (in blocks) for smoothed curves."),
                Param("null", .choice([Variant("none"), Variant("permutation", [("n", positiveInt)])]),
                      .call("permutation", [.int(1000)]), "Null for max |r|: shuffle within experiment."),
                Param("bootstrap", .int(.atLeast(0)), .int(1000), "Bootstrap resamples over experiments for CIs."),
                Param("held_out", .bool, .bool(true), "Also select the best latent on training experiments and report r on test."),
                Param("neurons", .bool, .bool(true), "Raw residual dimensions as a baseline."),
            ]),

        BlockSchema(
            name: "intervene", doc: "A closed-loop re-run with an SAE latent edited (§7).",
            subKinds: [], multiple: true, implicit: false,
            params: [
                Param("layer", .either([.int(.atLeast(0)), .choice([Variant("peak", [("variable", .variable)])])]),
                      .call("peak", [.symbol("td_error")]), "Block to edit: a number or the peak of a variable's curve (unwritten: the variable latent or control names)."),
                Param("latent", .either([.int(.atLeast(0)), .choice([Variant("top", [("variable", .variable)])])]),
                      .call("top", [.symbol("td_error")]), "Latent to edit: an index or the best-correlated one (unwritten: the variable layer or control names)."),
                Param("agent", .blockRef("agent"), .string(""), "Agent providing the variable (\"\" = the first agent block, in spec order, that does).",
                      sweepable: false),
                Param("edit", .choice([Variant("zero"), Variant("scale", [("factor", .float(.any))]),
                                       Variant("clamp", [("value", .float(.any))])]),
                      .symbol("zero"), "Edit applied to the latent; the SAE error term is kept."),
                Param("control", .choice([Variant("lowest", [("variable", .variable)]), Variant("none")]),
                      .call("lowest", [.symbol("td_error")]), "Control latent: lowest |r| in the same block (unwritten: the variable latent or layer names)."),
                Param("positions", .choice([Variant("all", doc: "every token of the prompt"), Variant("events")]),
                      .symbol("all"), "Where the edit is applied, §9.11."),
                Param("baseline", .bool, .bool(true), "Also run the full-reconstruction baseline (x → x̂ + error)."),
                Param("experiments", .int(.atLeast(0)), .int(0), "Experiments re-run (0 = all of the task's)."),
            ]),

        BlockSchema(
            name: "geometry", doc: "Node representations and metric MDS (graph task, §6.2).",
            subKinds: [], multiple: false, implicit: false,
            params: [
                Param("layer", .either([.int(.atLeast(0)), .choice([Variant("peak", [("variable", .variable)])])]),
                      .call("peak", [.symbol("sr_td_error")]), "Block whose representations are compared."),
                Param("source", .choice([Variant("sae"), Variant("residual")]), .symbol("sae"), "SAE latents or raw residuals."),
                Param("distance", .choice([Variant("euclidean"), Variant("correlation")]), .symbol("euclidean"),
                      "Dissimilarity between node averages."),
                Param("skip", .int(.atLeast(0)), .int(100), "Walk steps ignored before averaging."),
                Param("inits", positiveInt, .int(4), "SMACOF initialisations (best stress kept)."),
                Param("lesion", .blockRef("intervene"), .string(""), "Intervention compared with intact (\"\" = none)."),
            ]),

        BlockSchema(
            name: "report", doc: "The report written to Results/<spec>/.",
            subKinds: [], multiple: false, implicit: true,
            params: [
                Param("title", .string, .string(""), "Report title (\"\" = the spec's file name).", sweepable: false),
                Param("figures", .bool, .bool(true), "Write SVG figures.", sweepable: false),
            ]),
    ]
}
