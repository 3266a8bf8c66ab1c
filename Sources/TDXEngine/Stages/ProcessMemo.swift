import Foundation
import TDXCore

/// The unedited replay of a run's transcripts, kept for the rest of the process: every replayed intervention
/// on the same experiments and blocks starts with this same pass (two_step_replay.tdx has three), and it
/// is deterministic, so the second and third read it from here instead of replaying it again.
final class IntactReplayMemo: @unchecked Sendable {
    typealias Entry = (data: RolloutData, captured: CapturedActivations?)
    /// Bytes kept (recorded streams are most of an entry: two_step_replay's are about 150 MB); past it
    /// the oldest replays are dropped, and the newest is always kept.
    let budget: Int
    private let lock = NSCondition()
    private var entries: [String: Entry] = [:]
    private var order: [String] = []   // oldest first
    /// Keys a thread is computing now: another stage asking for one waits for it (engine jobs > 1).
    private var computing: Set<String> = []
    private var served = 0
    /// How many replays were served from memory (tests read it).
    var hits: Int { lock.withLock { served } }
    /// How many replays are held now (tests read it).
    var count: Int { lock.withLock { entries.count } }

    init(budget: Int = 1 << 30) { self.budget = budget }

    static func shared(_ services: EngineServices) -> IntactReplayMemo { services.get("intact-replay-memo") { IntactReplayMemo() } }

    /// What the replay depends on: the model, the intact run, the task (prompts, read-out), the seed, the
    /// experiments and the blocks it records.
    static func key(_ ctx: StageContext, seed: UInt64, experiments: [Int], capture: RolloutCapture?) throws -> String {
        let task = ctx.stage.params.keys.filter { $0.hasPrefix("task.") }.sorted().map { "\($0)=\(ctx.stage.params[$0]!.canonical)" }
        return SHA256.hex(([try ctx.inputKey("model"), try ctx.inputKey("rollout"), "seed=\(seed)",
                            "experiments=\(experiments)", "blocks=\(capture?.blocks ?? [])"] + task).joined(separator: "\n"))
    }

    /// The recorded streams, the transcripts and their token ids.
    static func bytes(_ e: Entry) -> Int {
        (e.captured?.x.reduce(0) { $0 + $1.count } ?? 0) * MemoryLayout<Float>.size
            + e.data.experiments.reduce(0) { $0 + $1.transcript.text.utf8.count + ($1.tokens?.ids.count ?? 0) * MemoryLayout<Int>.size }
    }

    /// The stored replay, or `compute`'s (computed outside the lock: a model pass takes minutes). A caller
    /// that asks while another thread computes the same key waits for its result; if that computation
    /// fails, the waiter computes it itself.
    func value(_ key: String, _ compute: () throws -> Entry) rethrows -> Entry {
        let stored: Entry? = lock.withLock {
            while computing.contains(key) { lock.wait() }
            guard let e = entries[key] else { computing.insert(key); return nil }
            served += 1
            return e
        }
        if let stored { return stored }
        defer { lock.withLock { computing.remove(key); lock.broadcast() } }
        let e = try compute()
        lock.withLock {
            if entries.updateValue(e, forKey: key) == nil { order.append(key) }
            var total = order.reduce(0) { $0 + Self.bytes(entries[$1]!) }
            while total > budget, order.count > 1 {
                total -= Self.bytes(entries.removeValue(forKey: order.removeFirst())!)
            }
        }
        return e
    }
}
