import Foundation
import TDXCore

/// The unedited replay of a run's transcripts, kept for the rest of the process: every replayed intervention
/// on the same experiments and blocks starts with this same pass (two_step_replay.tdx has three), and it
/// is deterministic, so the second and third read it from here instead of replaying it again.
final class IntactReplayMemo: @unchecked Sendable {
    typealias Entry = (data: RolloutData, captured: CapturedActivations?)
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var served = 0
    /// How many replays were served from memory (tests read it).
    var hits: Int { lock.withLock { served } }

    static func shared(_ services: EngineServices) -> IntactReplayMemo { services.get("intact-replay-memo") { IntactReplayMemo() } }

    /// What the replay depends on: the model, the intact run, the task (prompts, read-out), the seed, the
    /// experiments and the blocks it records.
    static func key(_ ctx: StageContext, seed: UInt64, experiments: [Int], capture: RolloutCapture?) throws -> String {
        let task = ctx.stage.params.keys.filter { $0.hasPrefix("task.") }.sorted().map { "\($0)=\(ctx.stage.params[$0]!.canonical)" }
        return SHA256.hex(([try ctx.inputKey("model"), try ctx.inputKey("rollout"), "seed=\(seed)",
                            "experiments=\(experiments)", "blocks=\(capture?.blocks ?? [])"] + task).joined(separator: "\n"))
    }

    /// The stored replay, or `compute`'s (computed outside the lock: a model pass takes minutes).
    func value(_ key: String, _ compute: () throws -> Entry) rethrows -> Entry {
        let stored: Entry? = lock.withLock {
            guard let e = entries[key] else { return nil }
            served += 1
            return e
        }
        if let stored { return stored }
        let e = try compute()
        lock.withLock { entries[key] = e }
        return e
    }
}
