/// One decision of a Markov decision process as it happened: the record RL models learn from and are
/// fitted to. Two-Step: two steps per episode (stage 1 at S0, stage 2 at S1/S2); Grid World: one per move.
public struct Step: Codable, Sendable, Hashable {
    public var episode: Int
    /// 0-based position within the episode.
    public var stage: Int
    public var state: Int
    /// Number of actions available in `state`.
    public var actionCount: Int
    public var action: Int
    public var reward: Double
    /// The state reached; nil when the episode ended at a terminal state. A step-capped episode that
    /// stops at a non-terminal state keeps its `nextState` (the value there is still bootstrapped).
    public var nextState: Int?
    /// Whether the action was forced uniformly at random (not chosen by the policy).
    public var forcedRandom: Bool
    /// Index in `Transcript.events` of the choice event where the action was written.
    public var choiceEvent: Int
    /// Index in `Transcript.events` of the event where the outcome became known: the state reveal for a
    /// non-final stage, the reward for the final one. TD errors are aligned here.
    public var outcomeEvent: Int
    /// Set by tasks whose episodes can stop at a non-terminal state (Grid World's step cap).
    public var isLastOfEpisode: Bool = false

    public init(episode: Int, stage: Int, state: Int, actionCount: Int, action: Int, reward: Double,
                nextState: Int?, forcedRandom: Bool = false, choiceEvent: Int = -1, outcomeEvent: Int = -1) {
        self.episode = episode; self.stage = stage; self.state = state; self.actionCount = actionCount
        self.action = action; self.reward = reward; self.nextState = nextState; self.forcedRandom = forcedRandom
        self.choiceEvent = choiceEvent; self.outcomeEvent = outcomeEvent
    }

    /// True when this step ends its episode (terminal or step cap).
    public var endsEpisode: Bool { nextState == nil || isLastOfEpisode }
}
