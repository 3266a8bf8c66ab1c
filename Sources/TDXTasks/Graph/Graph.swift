/// An undirected graph on nodes 0..<nodeCount, stored as sorted adjacency lists.
public struct Graph: Codable, Sendable, Hashable {
    public var nodeCount: Int
    public var neighbours: [[Int]]

    /// Builds from an undirected edge list; duplicate edges count once. Use `problems(edges:nodeCount:)` first.
    public init(nodeCount: Int, edges: [[Int]]) {
        self.nodeCount = nodeCount
        var adj = Array(repeating: Set<Int>(), count: nodeCount)
        for e in edges where e.count == 2 && e[0] != e[1] && e.allSatisfy({ (0..<nodeCount).contains($0) }) {
            adj[e[0]].insert(e[1]); adj[e[1]].insert(e[0])
        }
        neighbours = adj.map { $0.sorted() }
    }

    /// Schapiro et al. (2013): 15 nodes in 3 communities {5k, …, 5k+4}; inside a community every pair is joined
    /// except its first and last node; the last node of community k joins the first of community k+1 (mod 3).
    /// 30 edges, every node of degree 4 (SCIENCE.md §3.3).
    public static let schapiro: Graph = {
        var edges: [[Int]] = []
        for k in 0..<3 {
            let first = 5 * k, last = 5 * k + 4
            for i in first..<last {
                for j in (i + 1)...last where !(i == first && j == last) { edges.append([i, j]) }
            }
            edges.append([last, (5 * (k + 1)) % 15])
        }
        return Graph(nodeCount: 15, edges: edges)
    }()

    /// Community of each Schapiro node (0, 1, 2).
    public static func schapiroCommunity(_ node: Int) -> Int { node / 5 }

    public var edgeCount: Int { neighbours.reduce(0) { $0 + $1.count } / 2 }
    public func degree(_ node: Int) -> Int { neighbours[node].count }

    /// Problems with an edge list (for `validate()`): endpoints out of range, self-loops, nodes without edges.
    public static func problems(edges: [[Int]], nodeCount: Int) -> [String] {
        var out: [String] = []
        if nodeCount < 2 { out.append("graph needs at least 2 nodes, got \(nodeCount)") }
        var touched = Set<Int>()
        for (i, e) in edges.enumerated() {
            if e.count != 2 { out.append("edge \(i) = \(e) must have 2 endpoints"); continue }
            if e.contains(where: { $0 < 0 || $0 >= nodeCount }) {
                out.append("edge \(i) = \(e) names a node outside 0…\(nodeCount - 1)"); continue
            }
            if e[0] == e[1] { out.append("edge \(i) = \(e) is a self-loop"); continue }
            touched.formUnion(e)
        }
        let isolated = (0..<max(nodeCount, 0)).filter { !touched.contains($0) }
        if !isolated.isEmpty && nodeCount >= 2 {
            out.append("isolated node(s) \(isolated.map(String.init).joined(separator: ", ")): a random walk cannot leave or reach them")
        }
        return out
    }

    /// The best possible next-node accuracy of a walk: the mean over its transitions of max_j P(j | s_t),
    /// which for a uniform walk is 1/degree(s_t) (0.25 on the Schapiro graph).
    public func nextNodeCeiling(walk: [Int]) -> Double {
        guard walk.count > 1 else { return 0 }
        return walk.dropLast().reduce(0) { $0 + 1 / Double(degree($1)) } / Double(walk.count - 1)
    }
}
