import TDXCore

/// Renders one graph experiment: intro, the first node, then for each later node `separator` ⟨slot⟩ where the
/// answer written is always the true next node. Every node's span is a `node` event; each slot's span is
/// also a `choice` event (same span) listing all node names as answers.
public struct GraphWalkEnvironment: Environment {
    public let graph: Graph
    /// Name of each node.
    public let names: [String]
    public let walk: [Int]
    public let config: GraphConfig
    public private(set) var transcript = Transcript()
    /// Index in `transcript.events` of each walk position's node event.
    public private(set) var nodeEvents: [Int] = []
    private var next = 1

    public init(config: GraphConfig, graph: Graph, names: [String], walk: [Int]) {
        self.config = config; self.graph = graph; self.names = names; self.walk = walk
        config.intro.render(into: &transcript, values: [:], episode: 0, step: 0)
        nodeEvents.append(transcript.appendEvent(config.answerPrefix + names[walk[0]], kind: .node, episode: 0,
                                                 step: 0, state: walk[0]))
    }

    public mutating func nextSlot() -> ChoiceSlot? {
        guard next < walk.count else { return nil }
        transcript.append(config.separator)
        return ChoiceSlot(mode: .predict, episode: 0, step: next - 1, state: walk[next - 1],
                          answers: names.map { config.answerPrefix + $0 }, optimal: graph.neighbours[walk[next - 1]],
                          forcedRandom: false, event: transcript.events.count)
    }

    public mutating func submit(_ decision: Decision, forcedRandom: Bool) -> Step {
        let s = walk[next - 1], s2 = walk[next]
        let answers = names.map { config.answerPrefix + $0 }
        let choice = transcript.appendEvent(answers[s2], kind: .choice, episode: 0, step: next - 1, state: s,
                                            answers: answers)
        transcript.recordChoice(event: choice, written: s2, chosen: decision.index,
                                probabilities: decision.probabilities, forcedRandom: false)
        nodeEvents.append(transcript.addEvent(over: transcript.events[choice].span, shown: answers[s2], kind: .node, episode: 0,
                                              step: next - 1, state: s2))
        // As a decision process: the "action" is the next node, the state the current one.
        let step = Step(episode: 0, stage: next - 1, state: s, actionCount: names.count, action: s2, reward: 0,
                        nextState: s2, choiceEvent: choice, outcomeEvent: nodeEvents.last!)
        next += 1
        return step
    }
}

/// A rendered graph experiment.
public struct GraphExperiment: Codable, Sendable {
    public var experiment: Int
    public var names: [String]
    public var walk: [Int]
    public var transcript: Transcript
    /// Node event index of each walk position.
    public var nodeEvents: [Int]
    /// One per transition: the policy's prediction (event `chosen`) against the true node (`written`).
    public var steps: [Step]

    public var accuracy: Double {
        let hits = steps.filter { transcript.events[$0.choiceEvent].chosen == $0.action }.count
        return Double(hits) / Double(max(steps.count, 1))
    }
}

public enum GraphWalk {
    /// A uniform random walk of `length` nodes from a uniformly random start.
    public static func walk(_ graph: Graph, length: Int, rng: inout SeededRNG) -> [Int] {
        var w = [rng.int(below: graph.nodeCount)]
        while w.count < length {
            let nb = graph.neighbours[w.last!]
            w.append(nb[rng.int(below: nb.count)])
        }
        return w
    }

    /// Node names for one experiment: `graph.nodeCount` distinct names drawn from the pool, in random order.
    public static func names(_ config: GraphConfig, count: Int, rng: inout SeededRNG) -> [String] {
        var pool = Array(Set(config.namePool)).sorted()
        for i in 0..<count {
            pool.swapAt(i, i + rng.int(below: pool.count - i))
        }
        return Array(pool.prefix(count))
    }

    public static func play<P: Policy>(_ config: GraphConfig, experiment: Int, seed: UInt64,
                                       policy: inout P) -> GraphExperiment {
        let graph = config.resolvedGraph
        var task = SeededRNG(seed: seed, stream: "graph/task/\(experiment)")
        let names = names(config, count: graph.nodeCount, rng: &task)
        let walk = walk(graph, length: config.walkLength, rng: &task)
        var env = GraphWalkEnvironment(config: config, graph: graph, names: names, walk: walk)
        var rng = SeededRNG(seed: seed, stream: "graph/policy/\(experiment)")
        let steps = Rollout.run(&env, policy: &policy, rng: &rng)
        return GraphExperiment(experiment: experiment, names: names, walk: walk, transcript: env.transcript,
                               nodeEvents: env.nodeEvents, steps: steps)
    }

    /// Plays all `config.experiments` experiments, a fresh policy from `makePolicy` for each.
    public static func playAll<P: Policy>(_ config: GraphConfig, seed: UInt64,
                                          makePolicy: (Int) -> P) -> [GraphExperiment] {
        (0..<config.experiments).map { e in
            var p = makePolicy(e)
            return play(config, experiment: e, seed: seed, policy: &p)
        }
    }
}
