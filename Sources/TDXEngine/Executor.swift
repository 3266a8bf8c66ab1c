import Foundation
import TDXCore
import TDXLang
import TDXNumerics
import TDXPlan
import TDXStore

/// Runs a plan: stages in dependency order, independent ones concurrently (`jobs` workers, each with
/// its own SQLite connection), grouped stages in one call, every result committed atomically, a lock
/// per stage key so two `tdx run`s never compute the same stage at once.
public final class Executor: @unchecked Sendable {
    public struct Options: Sendable {
        public var jobs: Int
        public var lockPolicy: LockPolicy
        public var command: String
        public init(jobs: Int = 1, lockPolicy: LockPolicy = LockPolicy(), command: String = "run") {
            self.jobs = max(1, jobs); self.lockPolicy = lockPolicy; self.command = command
        }
    }

    public struct Summary: Sendable {
        public var runID: Int64
        public var computed: [String] = []
        public var reused: [String] = []
        public var failed: [String] = []
        public var interrupted = false
        public var seconds = 0.0
    }

    let storePath: String
    let registry: StageRegistry
    let services: EngineServices
    let options: Options
    let io: CommandIO
    let cancelled: @Sendable () -> Bool

    public init(storePath: String, registry: StageRegistry, services: EngineServices = EngineServices(),
                options: Options = Options(), io: CommandIO,
                cancelled: @escaping @Sendable () -> Bool = { Interrupt.requested }) {
        self.storePath = storePath; self.registry = registry; self.services = services
        self.options = options; self.io = io; self.cancelled = cancelled
    }

    /// The parameters JSON stored with each artifact: enough for `tdx show` and for plan reasons.
    static func paramsJSON(_ s: Stage, keys: [String: String]) -> String {
        let params = s.params.keys.sorted().map { "\(JSONText.string($0)):\(JSONText.string(s.params[$0]!.canonical))" }
        let inputs = s.inputs.sorted().map { "\(JSONText.string($0)):\(JSONText.string(keys[$0] ?? ""))" }
        return "{\"stage\":\(JSONText.string(s.id)),\"code\":\(s.codeVersion),\"params\":{\(params.joined(separator: ","))},"
            + "\"inputs\":{\(inputs.joined(separator: ","))}}"
    }

    public func run(plan: Plan, spec: ResolvedSpec, specPath: String) throws -> Summary {
        let store = try Store(path: storePath)
        let runID = try store.beginRun(command: options.command, spec: specPath, machine: Machine.current)
        var summary = Summary(runID: runID)
        let t0 = Date()
        let keys = Dictionary(uniqueKeysWithValues: plan.graph.stages.map { ($0.id, $0.key) })
        let params = Dictionary(uniqueKeysWithValues: plan.graph.stages.map { ($0.id, $0.params) })
        let display = ProgressDisplay(io: io, total: plan.toRun.count)

        // Stages already cached: recorded as reused so history and reasons stay exact.
        let cached = plan.stages.filter { $0.status == .cached }.map(\.stage)
        try store.record(cached.map { StageRecord(stage: $0.id, kind: $0.kind.rawValue, key: $0.key, status: .cached,
                                                     cacheHit: true, reason: "cached") }, run: runID)
        try store.markUsed(cached.map(\.key))

        let scheduler = Scheduler(stages: plan.toRun.map(\.stage),
                                  done: Set(plan.stages.filter { $0.status != .run }.map(\.stage.id)), cancelled: cancelled)
        let reasons = Dictionary(uniqueKeysWithValues: plan.toRun.map { ($0.stage.id, $0.reason) })
        let forced = Set(plan.toRun.filter(\.forced).map(\.stage.id))
        let workers = min(options.jobs, max(1, plan.toRun.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                let conn: Store
                do { conn = try Store(path: storePath) } catch { scheduler.finish(Outcome(error: error)); return }
                while let batch = scheduler.next() {
                    scheduler.finish(execute(batch, store: conn, spec: spec, specPath: specPath, keys: keys, params: params, runID: runID,
                                             reasons: reasons, forced: forced, display: display))
                }
            }
        }
        group.wait()
        display.close()
        summary.seconds = Date().timeIntervalSince(t0)
        let (failure, pending, done) = scheduler.state
        summary.computed = scheduler.computed
        summary.reused = scheduler.reused
        summary.failed = scheduler.failed
        if let failure {
            try? store.finishRun(runID, status: cancelled() ? .interrupted : .failed)
            if cancelled() || (failure as? ExecutorError) == .interrupted { summary.interrupted = true; throw ExecutorError.interrupted }
            throw failure
        }
        if cancelled() {
            try? store.finishRun(runID, status: .interrupted)
            summary.interrupted = true
            throw ExecutorError.interrupted
        }
        if !pending.isEmpty {
            try store.finishRun(runID, status: .failed)
            throw ExecutorError.missingInput(stage: pending[0].id, input: pending[0].inputs.first { !done.contains($0) } ?? "?")
        }
        try store.finishRun(runID, status: .ok)
        return summary
    }

    struct Outcome: @unchecked Sendable { var computed: [String] = []; var reused: [String] = []; var failed: [String] = []; var error: Error? }

    /// Locks, computes and commits one batch (a single stage, or a group computed in one pass).
    func execute(_ batch: [Stage], store: Store, spec: ResolvedSpec, specPath: String, keys: [String: String],
                 params: [String: [String: Value]], runID: Int64, reasons: [String: String], forced: Set<String>, display: ProgressDisplay) -> Outcome {
        var out = Outcome()
        var locked: [(Stage, StageLock)] = []
        do {
            for s in batch {
                let outcome = try store.acquireStageLock(key: s.key, policy: options.lockPolicy, recompute: forced.contains(s.id),
                                                         shouldStop: cancelled,
                                                         onWait: { h in display.message("\(s.id): waiting for pid \(h.pid) on \(h.host), which is computing it") })
                switch outcome {
                case .cached:
                    out.reused.append(s.id)
                    try store.record(StageRecord(stage: s.id, kind: s.kind.rawValue, key: s.key, status: .cached, cacheHit: true,
                                                 reason: "computed by another run"), run: runID)
                case .acquired(let lock): locked.append((s, lock))
                case .stopped: throw ExecutorError.interrupted
                }
            }
            guard !locked.isEmpty else { return out }
            guard let body = registry.bodies[locked[0].0.kind] else { throw ExecutorError.noBody(kind: locked[0].0.kind.rawValue) }
            let started = Date()
            for (s, _) in locked { display.started(s.id) }
            let contexts = locked.map { s, _ in
                StageContext(stage: s, spec: spec, specPath: specPath, store: store, keysByID: keys, paramsByID: params,
                             progress: display.sink(for: s.id), cancelled: cancelled, services: services)
            }
            let outputs: [StageOutput]
            do { outputs = try body.run(contexts) } catch let e as ExecutorError { throw e } catch let e as UserError {
                throw ExecutorError.stageFailed(stage: locked.map(\.0.id).joined(separator: ", "), message: e.description)
            }
            precondition(outputs.count == locked.count, "stage body returned \(outputs.count) outputs for \(locked.count) stages")
            let seconds = Date().timeIntervalSince(started) / Double(locked.count)
            // A group's members share its pass evenly, and each adds its own write: their logged spans are laid
            // end to end from the group's start, so `tdx log` adds up to the group's time (with every member
            // spanning from the start, 30 recorded layers summed to 15.5 passes).
            var from = started
            for ((s, lock), output) in zip(locked, outputs) {
                let meta = ArtifactMeta(key: s.key, kind: s.kind.rawValue, paramsJSON: Executor.paramsJSON(s, keys: keys),
                                        inputKeys: s.inputs.compactMap { keys[$0] }, producerVersion: s.codeVersion,
                                        computeSeconds: seconds)
                let writing = Date()
                try store.writeArtifact(meta, releasing: lock, replacing: forced.contains(s.id)) { try output.write(to: $0) }
                try? store.remove(keys: store.keys(withPrefix: StageContext.partialPrefix(stageKey: s.key)))
                let to = from.addingTimeInterval(seconds + Date().timeIntervalSince(writing))
                try store.record(StageRecord(stage: s.id, kind: s.kind.rawValue, key: s.key, status: .ok, cacheHit: false,
                                             reason: reasons[s.id], started: from, finished: to), run: runID)
                from = to
                out.computed.append(s.id)
                display.finished(s.id, status: "done", seconds: seconds)
            }
            locked = []
        } catch {
            for (s, lock) in locked {
                try? store.releaseStageLock(lock)
                let interrupted = (error as? ExecutorError) == .interrupted
                try? store.record(StageRecord(stage: s.id, kind: s.kind.rawValue, key: s.key, status: interrupted ? .interrupted : .failed,
                                              cacheHit: false, reason: reasons[s.id], started: nil, finished: Date(),
                                              error: "\(error)"), run: runID)
                out.failed.append(s.id)
                display.finished(s.id, status: interrupted ? "stop" : "FAILED", seconds: 0)
            }
            out.error = error
        }
        return out
    }
}

/// Hands out ready stages (grouped ones together) and collects outcomes; all state under one lock.
final class Scheduler: @unchecked Sendable {
    private let cond = NSCondition()
    private var pending: [Stage]
    private var done: Set<String>
    private var active = 0
    private var failure: Error?
    private let cancelled: @Sendable () -> Bool
    private(set) var computed: [String] = []
    private(set) var reused: [String] = []
    private(set) var failed: [String] = []

    init(stages: [Stage], done: Set<String>, cancelled: @escaping @Sendable () -> Bool) {
        self.pending = stages; self.done = done; self.cancelled = cancelled
    }

    var state: (Error?, [Stage], Set<String>) { cond.lock(); defer { cond.unlock() }; return (failure, pending, done) }

    /// The next batch whose inputs are all available; nil when there is nothing more for this worker.
    func next() -> [Stage]? {
        cond.lock(); defer { cond.unlock() }
        while true {
            if failure != nil || cancelled() || pending.isEmpty { return nil }
            if let i = pending.firstIndex(where: { $0.inputs.allSatisfy(done.contains) }) {
                let s = pending.remove(at: i)
                var batch = [s]
                if let g = s.group {
                    // Only stages of one variant (same inputs): a group member reads the first's rollout and model.
                    let ready = pending.filter { $0.group == g && Set($0.inputs) == Set(s.inputs) && $0.inputs.allSatisfy(done.contains) }
                    batch += ready
                    pending.removeAll { t in ready.contains { $0.id == t.id } }
                }
                active += 1
                return batch
            }
            if active == 0 { return nil }  // nothing runnable and nobody working: an input is missing
            cond.wait()
        }
    }

    func finish(_ o: Executor.Outcome) {
        cond.lock(); defer { cond.unlock() }
        active = max(0, active - 1)
        done.formUnion(o.computed + o.reused)
        computed += o.computed; reused += o.reused; failed += o.failed
        if let e = o.error, failure == nil { failure = e }
        cond.broadcast()
    }
}
