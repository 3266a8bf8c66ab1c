/// Any task, tagged by `kind` ("two_step", "grid_world", "graph"). JSON: the task's own fields plus
/// `"kind"`, e.g. `{"kind": "two_step", "episodes": 30}`.
public enum TaskConfig: Codable, Sendable, Hashable {
    case twoStep(TwoStepConfig)
    case gridWorld(GridWorldConfig)
    case graph(GraphConfig)

    public var kind: String {
        switch self { case .twoStep: "two_step"; case .gridWorld: "grid_world"; case .graph: "graph" }
    }

    public var experiments: Int {
        switch self { case .twoStep(let c): c.experiments; case .gridWorld(let c): c.experiments; case .graph(let c): c.experiments }
    }

    public func validate() -> [String] {
        switch self { case .twoStep(let c): c.validate(); case .gridWorld(let c): c.validate(); case .graph(let c): c.validate() }
    }

    private enum Key: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: .kind)
        switch kind {
        case "two_step": self = .twoStep(try TwoStepConfig(from: decoder))
        case "grid_world": self = .gridWorld(try GridWorldConfig(from: decoder))
        case "graph": self = .graph(try GraphConfig(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: try decoder.container(keyedBy: Key.self),
                                                   debugDescription: "unknown task kind \(kind); expected two_step, grid_world or graph")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .twoStep(let c): try c.encode(to: encoder)
        case .gridWorld(let c): try c.encode(to: encoder)
        case .graph(let c): try c.encode(to: encoder)
        }
        var k = encoder.container(keyedBy: Key.self)
        try k.encode(kind, forKey: .kind)
    }
}

/// The built-in non-learning policies, by spec name.
public enum BaselinePolicy: String, Codable, Sendable, CaseIterable {
    case random
    case oracle
    case maxEpisodeCopier = "max_episode_copier"

    public func make() -> any Policy {
        switch self {
        case .random: RandomPolicy()
        case .oracle: OraclePolicy()
        case .maxEpisodeCopier: MaxEpisodeCopier()
        }
    }
}
