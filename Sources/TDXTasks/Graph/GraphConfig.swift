/// The graph-learning task (SCIENCE.md §3.3): a uniform random walk on a graph whose nodes carry object names;
/// a policy (later the language model) predicts each next node.
public struct GraphConfig: Codable, Sendable, Hashable {
    /// Independent experiments (seeds), each with its own names and walk. ≥ 1.
    public var experiments = 100
    /// Nodes in each walk (so walk_length − 1 predictions). ≥ 2.
    public var walkLength = 500
    /// The graph: "schapiro" or an edge list.
    public var graph = GraphSource.schapiro
    /// Node names to draw from; nil: the THINGS concepts (filtered by the two flags below). Must hold at least
    /// as many distinct names as the graph has nodes. Each experiment draws its own names and assignment.
    public var names: [String]? = nil
    /// THINGS names: drop multi-word names.
    public var singleWordNames = true
    /// THINGS names: drop words listed more than once (numbered senses such as bat1/bat2).
    public var unambiguousNames = true
    /// Written before each node except the first; a slot follows it.
    public var separator = ","
    /// Written before a name at a slot (the answer is `answer_prefix + name`), and before the first node.
    public var answerPrefix = " "
    /// Text before the walk.
    public var intro: Template = "Here is a sequence of objects:\n"

    public init() {}

    enum CodingKeys: String, CodingKey {
        case experiments, walkLength = "walk_length", graph, names, singleWordNames = "single_word_names"
        case unambiguousNames = "unambiguous_names", separator, answerPrefix = "answer_prefix", intro
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GraphConfig()
        experiments = try c.value(.experiments, or: d.experiments)
        walkLength = try c.value(.walkLength, or: d.walkLength)
        graph = try c.value(.graph, or: d.graph)
        names = try c.decodeIfPresent([String].self, forKey: .names)
        singleWordNames = try c.value(.singleWordNames, or: d.singleWordNames)
        unambiguousNames = try c.value(.unambiguousNames, or: d.unambiguousNames)
        separator = try c.value(.separator, or: d.separator)
        answerPrefix = try c.value(.answerPrefix, or: d.answerPrefix)
        intro = try c.value(.intro, or: d.intro)
    }

    /// The graph this config describes.
    public var resolvedGraph: Graph {
        switch graph {
        case .schapiro: Graph.schapiro
        case .edges(let n, let e): Graph(nodeCount: n, edges: e)
        }
    }

    /// The name pool.
    public var namePool: [String] {
        names ?? ThingsConcepts.pool(singleWord: singleWordNames, unambiguous: unambiguousNames)
    }

    public func validate() -> [String] {
        var out = Check.positive(experiments, "experiments")
        if walkLength < 2 { out.append("walk_length = \(walkLength) must be at least 2") }
        var nodes = 15
        if case .edges(let n, let e) = graph {
            nodes = n
            out += Graph.problems(edges: e, nodeCount: n)
        }
        let pool = namePool
        if Set(pool).count != pool.count { out.append("names must be distinct") }
        if pool.contains(where: { $0.isEmpty }) { out.append("names must not be empty") }
        if Set(pool).count < nodes {
            out.append("the graph has \(nodes) nodes but only \(Set(pool).count) distinct names are available")
        }
        out += intro.problems(allowed: [], name: "intro")
        return out
    }
}

/// Which graph the walk runs on. JSON: "schapiro" or {"nodes": 6, "edges": [[0, 1], [1, 2], …]}.
public enum GraphSource: Codable, Sendable, Hashable {
    case schapiro
    /// Node count and undirected edges [[i, j], …] over nodes 0..<nodes.
    case edges(nodes: Int, edges: [[Int]])

    private enum Key: String, CodingKey { case nodes, edges }

    public init(from decoder: any Decoder) throws {
        if let s = try? decoder.singleValueContainer().decode(String.self), s == "schapiro" {
            self = .schapiro; return
        }
        let c = try decoder.container(keyedBy: Key.self)
        let edges = try c.decode([[Int]].self, forKey: .edges)
        let nodes = try c.decodeIfPresent(Int.self, forKey: .nodes) ?? ((edges.flatMap { $0 }.max() ?? -1) + 1)
        self = .edges(nodes: nodes, edges: edges)
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .schapiro:
            var c = encoder.singleValueContainer(); try c.encode("schapiro")
        case .edges(let n, let e):
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(n, forKey: .nodes); try c.encode(e, forKey: .edges)
        }
    }
}
