import TDXLang

/// One planned stage: what it computes, exactly which parameters it reads, what it consumes, and
/// the key that names its result in the cache.
public struct Stage: Sendable, Equatable, Identifiable {
    /// Human-readable identity, stable across edits: `sae[12]`, `intervene[td_lesion]`, `sae[12]{beta=1e-5}`.
    public var id: String
    public var kind: StageKind
    /// The block (layer) for per-layer stages.
    public var layer: Int?
    /// The block name for per-block stages (intervene).
    public var name: String?
    /// Only the parameters this stage reads, by qualified name (`sae.epochs`), sorted.
    public var params: [String: Value]
    /// Ids of the stages whose outputs it reads.
    public var inputs: [String]
    public var codeVersion: Int
    /// Stages computed together in one pass share a group (all `activations[L]` of one rollout).
    public var group: String?
    /// SHA-256 over the canonical encoding (see `StageKey`).
    public var key: String = ""
}

/// The model's identity, as the planner needs it: a digest of the weights (or the external backend's
/// declared model id, revision and dtype) and its depth.
public struct ModelIdentity: Sendable, Equatable {
    public var digest: String
    public var blocks: Int
    public var dModel: Int
    public init(digest: String, blocks: Int, dModel: Int) { self.digest = digest; self.blocks = blocks; self.dModel = dModel }
}

/// The stage graph of one spec, in dependency order.
public struct StageGraph: Sendable, Equatable {
    public var specDigest: String
    public var stages: [Stage]

    public subscript(id id: String) -> Stage? { stages.first { $0.id == id } }

    /// The stage and everything that (transitively) reads it.
    public func descendants(of id: String) -> Set<String> {
        var out: Set<String> = [id]
        for s in stages where s.inputs.contains(where: out.contains) { out.insert(s.id) }
        return out
    }

    /// The stage and everything it (transitively) reads.
    public func ancestors(of id: String) -> Set<String> {
        var out: Set<String> = [id]
        for s in stages.reversed() where out.contains(s.id) { out.formUnion(s.inputs) }
        return out
    }
}
