/// Which correlates count as strongest (SCIENCE.md §9.7: a latent can carry −δ): the largest |r| (either
/// sign), the largest positive r, or the most negative r. Every max-over-features statistic (best latent,
/// permutation null, bootstrap, held-out selection) maximises the same score.
public enum CorrelationSign: String, Sendable, Codable, CaseIterable {
    case absolute = "abs"
    case positive
    case negative

    /// The score maximised: |r|, r or −r.
    @inline(__always) public func score(_ r: Float) -> Float {
        switch self {
        case .absolute: abs(r)
        case .positive: r
        case .negative: -r
        }
    }

    @inline(__always) public func score(_ r: Double) -> Double {
        switch self {
        case .absolute: abs(r)
        case .positive: r
        case .negative: -r
        }
    }

    /// How the score reads in a table or an axis label.
    public var label: String {
        switch self {
        case .absolute: "|r|"
        case .positive: "r"
        case .negative: "−r"
        }
    }
}
