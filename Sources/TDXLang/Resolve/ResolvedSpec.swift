// The checked, fully explicit spec: every block, every parameter (defaults filled in), imports
// inlined, `let`s substituted, aliases replaced by canonical names. Pure data: the planner reads it.

public struct ResolvedParam: Sendable, Equatable {
    public var name: String
    /// The value, or the first value of a sweep.
    public var value: Value
    /// Non-nil for `name in [a, b, …]`.
    public var sweep: [Value]?
    /// Where the value was written; `.none` for defaults.
    public var range: SourceRange
    public var isDefault: Bool { range.isNone }

    public var values: [Value] { sweep ?? [value] }
}

public struct ResolvedBlock: Sendable, Equatable {
    /// Block kind (`task`, `sae`, …).
    public var kind: String
    /// The block's name: its label, or its kind for unlabelled singleton blocks.
    public var name: String
    /// Task or agent kind (`two_step`, `q_learning`), nil for blocks without kinds.
    public var subKind: String?
    public var params: [ResolvedParam]
    public var range: SourceRange
    /// Whether the block was written or implied.
    public var isImplicit: Bool { range.isNone }

    /// A parameter's value; an elided parameter missing from `params` holds its default.
    public subscript(_ name: String) -> Value? {
        params.first { $0.name == name }?.value ?? Schema.elidedDefault(block: kind, subKind: subKind, name)
    }
    public func param(_ name: String) -> ResolvedParam? { params.first { $0.name == name } }
}

public struct ResolvedSpec: Sendable, Equatable {
    public var version: Int
    public var settings: [ResolvedParam]
    public var blocks: [ResolvedBlock]

    public var seed: Int { settings.first { $0.name == "seed" }?.value.intValue ?? 0 }
    public func blocks(_ kind: String) -> [ResolvedBlock] { blocks.filter { $0.kind == kind } }
    public func block(_ kind: String) -> ResolvedBlock? { blocks.first { $0.kind == kind } }
    public var task: ResolvedBlock? { block("task") }
    public var model: ResolvedBlock? { block("model") }
}
