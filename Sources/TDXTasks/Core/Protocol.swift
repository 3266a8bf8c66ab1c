import TDXCore

// The step-wise protocol a rollout follows, so that any policy (random, an RL agent, later a language model)
// can drive a task: the environment renders text up to a choice slot, the policy picks one of the slot's
// valid answers, the environment writes the answer and what follows, and so on.

/// An answer slot: the transcript's text ends exactly where the answer goes.
public struct ChoiceSlot: Sendable {
    public enum Mode: Sendable {
        /// The answer is the action taken (Two-Step): it decides what happens next.
        case act
        /// The answer is a prediction (Grid World's next action, the graph's next node). The text continues with
        /// the true continuation whatever is predicted; accuracy compares the two.
        case predict
    }
    public var mode: Mode
    public var episode: Int
    /// Index of the step this slot belongs to (the `Step` / walk transition about to happen).
    public var step: Int
    /// Task state index at the slot (Two-Step: 0 = S0, 1 = S1, 2 = S2; grid: y·size + x; graph: current node).
    public var state: Int
    /// Valid answers, exactly as they would be written into the text (leading space included).
    public var answers: [String]
    /// Answers an oracle would give (non-empty); policies other than the oracle ignore it.
    public var optimal: [Int]
    /// Forced uniformly random choice (Two-Step's `random_episodes`): the driver samples, not the policy.
    public var forcedRandom: Bool
    /// Index in `Transcript.events` of this slot's choice event.
    public var event: Int
}

/// A policy's answer: an index into `ChoiceSlot.answers` and, when known, its probabilities over them.
public struct Decision: Sendable {
    public var index: Int
    public var probabilities: [Double]?
    public init(index: Int, probabilities: [Double]? = nil) { self.index = index; self.probabilities = probabilities }
}

/// Something that answers choice slots. One instance plays one experiment.
public protocol Policy {
    /// Picks an answer. `transcript.text` ends exactly at the slot (a language model continues it).
    mutating func choose(_ slot: ChoiceSlot, transcript: Transcript, rng: inout SeededRNG) -> Decision
    /// Sees what actually happened at a step (always called, also after forced-random and prediction slots).
    mutating func observe(_ step: Step)
}

/// A task experiment driven slot by slot. It draws its own randomness (rewards, transitions) from a stream
/// fixed by the experiment's seed, so every policy faces the same task draws.
public protocol Environment {
    var transcript: Transcript { get }
    /// Renders up to the next slot; nil when the experiment is over.
    mutating func nextSlot() -> ChoiceSlot?
    /// Writes the answer (for `.act` slots `decision.index`; for `.predict` slots the true continuation),
    /// then the outcome, and returns the step that happened.
    mutating func submit(_ decision: Decision, forcedRandom: Bool) -> Step
}

public enum Rollout {
    /// Plays an environment to the end with a policy. Forced-random slots are sampled uniformly from `rng`.
    /// Returns the steps in order.
    public static func run<E: Environment, P: Policy>(_ env: inout E, policy: inout P,
                                                      rng: inout SeededRNG) -> [Step] {
        var steps: [Step] = []
        while let slot = env.nextSlot() {
            let decision: Decision
            if slot.forcedRandom {
                let n = slot.answers.count
                decision = Decision(index: rng.int(below: n), probabilities: Array(repeating: 1 / Double(n), count: n))
            } else {
                decision = policy.choose(slot, transcript: env.transcript, rng: &rng)
            }
            let step = env.submit(decision, forcedRandom: slot.forcedRandom)
            policy.observe(step)
            steps.append(step)
        }
        return steps
    }
}
