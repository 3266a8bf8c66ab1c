/// How clearly a distance matrix separates labelled groups (SCIENCE.md §6.2), e.g. graph communities.
public struct CommunityScore: Sendable, Equatable, Codable {
    /// Mean within-group distance over pairs i < j.
    public var meanWithin: Double
    /// Mean between-group distance over pairs i < j.
    public var meanBetween: Double
    /// meanWithin / meanBetween: below 1 means groups are tighter than the space between them.
    public var ratio: Double { meanBetween > 0 ? meanWithin / meanBetween : .nan }
    /// Mean silhouette, as `sklearn.metrics.silhouette_score(D, labels, metric="precomputed")`
    /// (points alone in their group score 0).
    public var silhouette: Double

    /// `distance` is n × n, symmetric, row-major; `labels` has n entries.
    public init(distance: [Double], labels: [Int]) {
        let n = labels.count
        precondition(distance.count == n * n)
        var within = 0.0, between = 0.0, nw = 0, nb = 0
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) {
            if labels[i] == labels[j] { within += distance[i * n + j]; nw += 1 } else { between += distance[i * n + j]; nb += 1 }
        } }
        meanWithin = nw > 0 ? within / Double(nw) : 0
        meanBetween = nb > 0 ? between / Double(nb) : 0
        let groups = Array(Set(labels)).sorted()
        let size = Dictionary(grouping: labels, by: { $0 }).mapValues(\.count)
        var total = 0.0
        for i in 0..<n {
            guard size[labels[i]]! > 1 else { continue }
            var sums = [Int: Double]()
            for j in 0..<n where j != i { sums[labels[j], default: 0] += distance[i * n + j] }
            let a = sums[labels[i], default: 0] / Double(size[labels[i]]! - 1)
            let b = groups.filter { $0 != labels[i] }.map { sums[$0, default: 0] / Double(size[$0]!) }.min() ?? 0
            let m = max(a, b)
            total += m > 0 ? (b - a) / m : 0
        }
        silhouette = n > 0 ? total / Double(n) : 0
    }
}
