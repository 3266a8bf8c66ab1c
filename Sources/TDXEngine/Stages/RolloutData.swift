import Foundation
import TDXCore
import TDXTasks

/// One experiment as it was played: the final transcript (text and event spans), the steps, and the
/// task's own measures. The rollout stage stores these as JSON; every later stage reads them.
public struct ExperimentRecord: Codable, Sendable {
    public var experiment: Int
    public var transcript: Transcript
    public var steps: [Step]
    /// Two-Step: points per episode, and the best expected return per episode.
    public var returns: [Double]?
    public var optimalReturn: Double?
    /// Two-Step: the expected return of a uniformly random policy (the mean option value).
    public var randomReturn: Double?
    /// Grid World: the goal cell.
    public var goal: Int?
    /// Graph: node names, the walk, and the transcript event of each walk position.
    public var names: [String]?
    public var walk: [Int]?
    public var nodeEvents: [Int]?
    /// The token ids the language model read (with each token's end byte), when it took part.
    var tokens: TokenTrack?

    /// Fraction of prediction slots where the chosen answer is the one that happened.
    public var accuracy: Double {
        let choices = transcript.events.filter { $0.kind == .choice && $0.chosen != nil && $0.written != nil }
        guard !choices.isEmpty else { return .nan }
        return Double(choices.filter { $0.chosen == $0.written }.count) / Double(choices.count)
    }
}

public struct RolloutData: Codable, Sendable {
    public var task: String
    public var experiments: [ExperimentRecord]
    /// Grid World's random-reward control: the same trajectories with other rewards shown.
    public var control: [ExperimentRecord]?

    public var steps: [[Step]] { experiments.map(\.steps) }

    public func encoded() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    public static func decode(_ text: String) throws -> RolloutData {
        try JSONDecoder().decode(RolloutData.self, from: Data(text.utf8))
    }
}

extension ExperimentRecord {
    init(_ e: TwoStepExperiment) {
        self.init(experiment: e.experiment, transcript: e.transcript, steps: e.steps, returns: e.returns,
                  optimalReturn: e.optimalReturn, randomReturn: e.optionValues.reduce(0, +) / Double(max(1, e.optionValues.count)))
    }
    init(_ e: GridWorldExperiment) {
        self.init(experiment: e.experiment, transcript: e.transcript, steps: e.steps, goal: e.goal)
    }
    init(_ e: GraphExperiment) {
        self.init(experiment: e.experiment, transcript: e.transcript, steps: e.steps, names: e.names, walk: e.walk,
                  nodeEvents: e.nodeEvents)
    }
}

/// Lets one rollout hold whichever policy the spec names.
public struct AnyPolicy: Policy {
    public var base: any Policy
    public init(_ base: any Policy) { self.base = base }
    public mutating func choose(_ slot: ChoiceSlot, transcript: Transcript, rng: inout SeededRNG) -> Decision {
        base.choose(slot, transcript: transcript, rng: &rng)
    }
    public mutating func observe(_ step: Step) { base.observe(step) }
}
