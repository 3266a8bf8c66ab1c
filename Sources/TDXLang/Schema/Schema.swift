// The typed schema of the .tdx language: every block kind and every parameter with its type, range,
// default and one-line doc. The checker, `check --resolved`, `fmt`, help text and the tables in
// Grammar/README.md are all derived from this one description.

public struct Param: Sendable {
    /// Canonical (ASCII) name, used in the resolved spec and in cache keys.
    public var name: String
    /// Other spellings that mean the same parameter (`γ` for `gamma`).
    public var aliases: [String]
    public var type: ParamType
    public var defaultValue: Value
    public var doc: String
    /// Sub-kinds (task or agent kinds) this parameter applies to; nil means all.
    public var kinds: [String]?
    public var sweepable: Bool
    /// Defaults that differ for some sub-kinds (`readout`: argmax where the model predicts).
    public var kindDefaults: [String: Value]
    /// Left out of the resolved form (so of spec digests and stage keys) while it holds its default. Every
    /// parameter added after specs and caches existed is elided, so adding one changes no existing
    /// experiment's identity; readers fall back to the default (`ResolvedBlock` and the engine's `Params`).
    public var elided: Bool

    public init(_ name: String, _ type: ParamType, _ defaultValue: Value, _ doc: String,
                aliases: [String] = [], kinds: [String]? = nil, sweepable: Bool = true, kindDefaults: [String: Value] = [:],
                elided: Bool = false) {
        self.name = name; self.type = type; self.defaultValue = defaultValue; self.doc = doc
        self.aliases = aliases; self.kinds = kinds; self.sweepable = sweepable; self.kindDefaults = kindDefaults
        self.elided = elided
    }

    public func defaultValue(forKind kind: String?) -> Value { kind.flatMap { kindDefaults[$0] } ?? defaultValue }

    public func applies(toKind kind: String?) -> Bool {
        guard let kinds, let kind else { return true }
        return kinds.contains(kind)
    }
}

public struct SubKind: Sendable {
    public var name: String
    public var doc: String
    public init(_ name: String, _ doc: String) { self.name = name; self.doc = doc }
}

public struct BlockSchema: Sendable {
    public var name: String
    public var doc: String
    /// Kinds of `task` / `agent`: the block's `kind` parameter, defaulting to its label.
    public var subKinds: [SubKind]
    /// More than one block of this kind may appear (each needs a distinct label).
    public var multiple: Bool
    /// The block is created with every default when the spec omits it but a later block needs it.
    public var implicit: Bool
    public var params: [Param]

    public func param(named key: String) -> Param? {
        params.first { $0.name == key || $0.aliases.contains(key) }
    }

    public var hasKinds: Bool { !subKinds.isEmpty }
}

public enum Schema {
    public static func block(named name: String) -> BlockSchema? { blocks.first { $0.name == name } }

    /// The default of an elided parameter of a block kind ("" for top-level settings); nil for others.
    public static func elidedDefault(block kind: String, subKind: String? = nil, _ name: String) -> Value? {
        guard let p = (kind.isEmpty ? topLevel : block(named: kind))?.param(named: name), p.elided, p.applies(toKind: subKind)
        else { return nil }
        return p.defaultValue(forKind: subKind)
    }
    public static var blockKindNames: [String] { blocks.map(\.name) }
    public static var variableNames: [String] { variables.map(\.name) }

    /// Variables RL models provide, and which agent kinds provide them.
    public struct Variable: Sendable {
        public var name: String
        public var doc: String
        public var providedBy: [String]
    }

    /// The default model: a built-in name resolves to a known file and depth.
    public struct BuiltinModel: Sendable {
        public var name: String
        public var sha256: String
        public var blocks: Int
        public var dModel: Int
    }

    public static let builtinModels: [BuiltinModel] = [
        BuiltinModel(name: "smollm2-135m",
                     sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                     blocks: 30, dModel: 576),
    ]
}
