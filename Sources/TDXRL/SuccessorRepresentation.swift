import Foundation
import TDXTasks

/// Successor representation learned by TD along a walk (SCIENCE.md §6.1):
///   δ_t = e(s_t) + γ·M(s_{t+1}, ·) − M(s_t, ·)      M(s_t, ·) ← M(s_t, ·) + α·δ_t
/// and a transition-matrix learner T̂ with surprise −log T̂(s_t, s_{t+1}).
public struct SRConfig: Codable, Sendable, Hashable {
    /// SR learning rate α ∈ (0, 1].
    public var alpha = 0.1
    /// SR discount γ ∈ [0, 1).
    public var gamma = 0.9
    /// M before the walk: the identity or zeros.
    public var initial = SRInitial.identity
    /// How T̂ is learned: row-normalised counts with a prior, or a delta rule.
    public var transitions = TransitionLearning.counts
    /// Counts: pseudo-count added to every cell of T̂'s count matrix (> 0, so −log T̂ stays finite).
    public var prior = 1.0
    /// Delta rule: T̂(s, ·) ← T̂(s, ·) + α_T·(e(s') − T̂(s, ·)), starting uniform. α_T ∈ (0, 1].
    public var transitionAlpha = 0.1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case alpha, gamma, initial, transitions, prior, transitionAlpha = "transition_alpha"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SRConfig()
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? d.alpha
        gamma = try c.decodeIfPresent(Double.self, forKey: .gamma) ?? d.gamma
        initial = try c.decodeIfPresent(SRInitial.self, forKey: .initial) ?? d.initial
        transitions = try c.decodeIfPresent(TransitionLearning.self, forKey: .transitions) ?? d.transitions
        prior = try c.decodeIfPresent(Double.self, forKey: .prior) ?? d.prior
        transitionAlpha = try c.decodeIfPresent(Double.self, forKey: .transitionAlpha) ?? d.transitionAlpha
    }

    public func validate() -> [String] {
        var out: [String] = []
        if !(alpha > 0 && alpha <= 1) { out.append("sr alpha = \(alpha) must lie in (0, 1]") }
        if !(gamma >= 0 && gamma < 1) { out.append("sr gamma = \(gamma) must lie in [0, 1)") }
        if !(prior > 0 && prior.isFinite) { out.append("prior = \(prior) must be > 0") }
        if !(transitionAlpha > 0 && transitionAlpha <= 1) { out.append("transition_alpha = \(transitionAlpha) must lie in (0, 1]") }
        return out
    }
}

public enum SRInitial: String, Codable, Sendable, Hashable, CaseIterable { case identity, zero }
public enum TransitionLearning: String, Codable, Sendable, Hashable, CaseIterable { case counts, delta }

/// Walk variables of one experiment plus the final matrices.
public struct SRResult: Codable, Sendable {
    /// One row per transition t (s_t → s_{t+1}): `sr_td` = δ_t[s_{t+1}], `sr_td_norm` = ‖δ_t‖₂,
    /// `sr_td_sum` = Σ δ_t, `sr_value` = M(s_t, s_{t+1}) and `transition_prob` = T̂(s_t, s_{t+1}) before the
    /// update, `surprise` = −log T̂(s_t, s_{t+1}) before the update. All anchored at the node s_{t+1} (`to`).
    public var table: VariableTable
    /// M after the walk, row-major n × n.
    public var sr: [Double]
    /// T̂ after the walk, row-major n × n.
    public var transitions: [Double]
    public var nodeCount: Int
}

public enum SuccessorRepresentation {
    /// Runs the SR and transition learners along `walk` (node indices < `nodeCount`). `nodeEvents[i]` is the
    /// event of walk position i (as `GraphExperiment.nodeEvents`).
    public static func run(_ config: SRConfig, walk: [Int], nodeCount n: Int, nodeEvents: [Int],
                           experiment: Int = 0) -> SRResult {
        var m = Array(repeating: 0.0, count: n * n)           // [n, n]
        if config.initial == .identity { for i in 0..<n { m[i * n + i] = 1 } }
        var counts = Array(repeating: config.prior, count: n * n)
        var rowTotals = Array(repeating: config.prior * Double(n), count: n)
        var t = Array(repeating: 1 / Double(n), count: n * n)   // delta-rule estimate
        var cols: [String: [Double]] = [:]
        for k in ["sr_td", "sr_td_norm", "sr_td_sum", "sr_value", "transition_prob", "surprise"] { cols[k] = [] }
        var delta = Array(repeating: 0.0, count: n)
        for i in 0..<max(walk.count - 1, 0) {
            let s = walk[i], s2 = walk[i + 1]
            for j in 0..<n { delta[j] = (j == s ? 1 : 0) + config.gamma * m[s2 * n + j] - m[s * n + j] }
            cols["sr_value"]!.append(m[s * n + s2])
            for j in 0..<n { m[s * n + j] += config.alpha * delta[j] }
            cols["sr_td"]!.append(delta[s2])
            cols["sr_td_norm"]!.append(delta.reduce(0) { $0 + $1 * $1 }.squareRoot())
            cols["sr_td_sum"]!.append(delta.reduce(0, +))
            let p: Double
            switch config.transitions {
            case .counts:
                p = counts[s * n + s2] / rowTotals[s]
                counts[s * n + s2] += 1; rowTotals[s] += 1
            case .delta:
                p = t[s * n + s2]
                for j in 0..<n { t[s * n + j] += config.transitionAlpha * ((j == s2 ? 1 : 0) - t[s * n + j]) }
            }
            cols["transition_prob"]!.append(p)
            cols["surprise"]!.append(-log(p))
        }
        if config.transitions == .counts { for s in 0..<n { for j in 0..<n { t[s * n + j] = counts[s * n + j] / rowTotals[s] } } }
        let steps = max(walk.count - 1, 0)
        let table = VariableTable(experiment: experiment, fromEvents: Array(nodeEvents.prefix(steps)),
                                  toEvents: Array(nodeEvents.dropFirst().prefix(steps)), columns: cols,
                                  anchors: cols.mapValues { _ in .to })
        return SRResult(table: table, sr: m, transitions: t, nodeCount: n)
    }
}
