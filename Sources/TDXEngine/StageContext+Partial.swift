import Foundation
import TDXStore

/// Partial results: finished pieces of a long stage (a batch of experiments of a rollout), each committed
/// on its own, so a run that is interrupted resumes inside the stage instead of at its start. They are
/// keyed by the stage's key, so a changed parameter never reuses them; the executor deletes them once the
/// stage's result commits, and `tdx gc` keeps those of the stages the specs it is given reach.
extension StageContext {
    public static func partialPrefix(stageKey: String) -> String { "partial:\(stageKey):" }

    private func partialKey(_ name: String) -> String { Self.partialPrefix(stageKey: stage.key) + name }

    /// Commits one finished piece (atomically, like a stage result).
    func savePartial(_ name: String, _ output: StageOutput) throws {
        let meta = ArtifactMeta(key: partialKey(name), kind: "partial", paramsJSON: "{}", inputKeys: [stage.key],
                                producerVersion: 0)
        try store.writeArtifact(meta) { try output.write(to: $0) }
    }

    /// A piece saved by an earlier, interrupted run of this very stage, if any.
    func partial(_ name: String) throws -> PartialResult? {
        let key = partialKey(name)
        return try store.hasArtifact(key) ? PartialResult(store: store, key: key) : nil
    }
}

/// Reads the blobs of one saved piece.
struct PartialResult {
    let store: Store
    let key: String
    func string(_ blob: String) throws -> String { try store.readString(key: key, blob: blob) }
    func floats(_ blob: String) throws -> [Float] { try store.readFloats(key: key, blob: blob) }
}
