import Foundation
import TDXCore

/// What a `ProcessMemo` holds: anything that can say how much memory it keeps.
protocol MemoEntry { var memoBytes: Int { get } }

/// Deterministic results kept for the rest of the process, for stages that ask for the same one: the intact
/// replay every replayed intervention starts with (two_step_replay.tdx has three), the intact lower blocks
/// every closed-loop condition shares. Past `budget` bytes the oldest are dropped; the newest is always kept.
final class ProcessMemo<Entry: MemoEntry>: @unchecked Sendable {
    let budget: Int
    private let lock = NSCondition()
    private var entries: [String: Entry] = [:]
    private var order: [String] = []   // oldest first
    /// Keys a thread is computing now: another stage asking for one waits for it (engine jobs > 1).
    private var computing: Set<String> = []
    private var served = 0
    /// How many were served from memory (tests read it).
    var hits: Int { lock.withLock { served } }
    /// How many are held now (tests read it).
    var count: Int { lock.withLock { entries.count } }

    init(budget: Int = 1 << 30) { self.budget = budget }

    /// The stored entry, or `compute`'s (computed outside the lock: a model pass takes minutes). A caller
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
            var total = order.reduce(0) { $0 + entries[$1]!.memoBytes }
            while total > budget, order.count > 1 {
                total -= entries.removeValue(forKey: order.removeFirst())!.memoBytes
            }
        }
        return e
    }
}

/// The unedited replay of a run's transcripts: every replayed intervention on the same experiments and
/// blocks starts with this same pass, so the second and third read it from memory.
struct IntactReplay: MemoEntry {
    var data: RolloutData
    var captured: CapturedActivations?

    /// The recorded streams (two_step_replay's are about 150 MB), the transcripts and their token ids.
    var memoBytes: Int {
        (captured?.x.reduce(0) { $0 + $1.count } ?? 0) * MemoryLayout<Float>.size
            + data.experiments.reduce(0) { $0 + $1.transcript.text.utf8.count + ($1.tokens?.ids.count ?? 0) * MemoryLayout<Int>.size }
    }
}

typealias IntactReplayMemo = ProcessMemo<IntactReplay>

extension ProcessMemo where Entry == IntactReplay {
    static func shared(_ services: EngineServices) -> IntactReplayMemo { services.get("intact-replay-memo") { IntactReplayMemo() } }

    /// What the replay depends on: the model, the intact run, the task (prompts, read-out), the seed, the
    /// experiments and the blocks it records.
    static func key(_ ctx: StageContext, seed: UInt64, experiments: [Int], capture: RolloutCapture?) throws -> String {
        try intactKey(ctx, seed: seed, experiments: experiments, extra: "blocks=\(capture?.blocks ?? [])")
    }
}

extension ProcessMemo {
    /// The model, the intact run, the task's parameters, the seed, the experiments and `extra`, hashed.
    static func intactKey(_ ctx: StageContext, seed: UInt64, experiments: [Int], extra: String) throws -> String {
        let task = ctx.stage.params.keys.filter { $0.hasPrefix("task.") }.sorted().map { "\($0)=\(ctx.stage.params[$0]!.canonical)" }
        return SHA256.hex(([try ctx.inputKey("model"), try ctx.inputKey("rollout"), "seed=\(seed)",
                            "experiments=\(experiments)", extra] + task).joined(separator: "\n"))
    }
}

extension IntactReplay {
    var pair: (RolloutData, CapturedActivations?) { (data, captured) }
}
