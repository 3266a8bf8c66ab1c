// The kinds of stages the planner derives from a spec (DESIGN.md §4). Each has a code version:
// bump it when the kind's algorithm changes, and every cached result of that kind becomes stale.

public enum StageKind: String, Sendable, CaseIterable, Codable {
    case model, rollout, activations, behaviour, rlVariables = "rl_variables", sae, correlate, intervene, geometry, report, compare

    /// Code versions of the built-in stage bodies. The executor's registry may override them
    /// (tests do, to check that a bump re-runs that kind).
    public static let defaultCodeVersions: [StageKind: Int] = Dictionary(uniqueKeysWithValues: allCases.map { ($0, 1) })
}
