import Foundation
import TDXCore
import TDXEngine
import TDXLang
import TDXPlan
import TDXStore

enum StatusCommand: Subcommand {
    static let name = "status"
    static let summary = "What is cached for a spec and what is stale"
    static let help = """
    Usage: tdx status FILE [--cache PATH]

    Counts the spec's stages that are cached and lists those that would run, with the reason.

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: [], options: ["--cache"])
        guard args.positionals.count == 1 else { throw UsageError("tdx status takes one spec file") }
        let (spec, _, store, plan, _) = try EngineSupport.plan(args.positionals[0], args: args, io: io, missing: .standIn)
        let exists = FileManager.default.fileExists(atPath: store.path)
        io.out("spec \(args.positionals[0])  digest \(spec.digest.prefix(16))…\ncache \(store.path)\(exists ? "" : " (none yet)")\n")
        io.out("\(plan.cachedCount) of \(plan.stages.count) stages cached\n")
        for p in plan.toRun { io.out("  stale  \(p.stage.id)  \(p.reason)\n") }
        return 0
    }
}

enum LogCommand: Subcommand {
    static let name = "log"
    static let summary = "Past runs, and where the time of one run went"
    static let help = """
    Usage: tdx log [FILE] [--run N] [--limit N] [--cache PATH]

    Lists past runs (newest first). With --run N, lists that run's stages with their status,
    reason and time, slowest first, and the machine it computed on (CPU, OpenBLAS kernels, tdx
    version: float results differ in their last digits between CPUs).

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: [], options: ["--run", "--limit", "--cache"])
        let specPath = args.positionals.first.map { EngineSupport.absolute($0, io: io) }
        let store = try EngineSupport.existingStore(EngineSupport.storePath(spec: specPath, args: args, io: io))
        if let r = args.value("--run") {
            guard let id = Int64(r) else { throw UsageError("--run needs a run number") }
            let records = try store.stageRecords(run: id)
            guard !records.isEmpty else { throw UsageError("run \(id) has no stage records in \(store.path)") }
            let total = records.compactMap(\.seconds).reduce(0, +)
            io.out(String(format: "run %lld: %d stages, %.2f s computing\n", id, records.count, total))
            if let machine = try store.run(id)?.machine { io.out("  on \(machine)\n") }
            for rec in records.sorted(by: { ($0.seconds ?? 0) > ($1.seconds ?? 0) }) {
                let secs = rec.seconds.map { String(format: "%8.2f s", $0) } ?? "        -"
                io.out("  \(secs)  \(rec.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(rec.stage)  \(rec.error ?? rec.reason ?? "")\n")
            }
            return 0
        }
        let runs = try store.runs(limit: Int(args.value("--limit") ?? "20") ?? 20)
        if runs.isEmpty { io.out("no runs recorded in \(store.path)\n"); return 0 }
        for run in runs where specPath == nil || run.spec == specPath {
            let secs = run.finished.map { String(format: "%.2f s", $0.timeIntervalSince(run.started)) } ?? "-"
            let records = try store.stageRecords(run: run.id)
            let computed = records.filter { $0.status == .ok }.count
            io.out("run \(run.id)  \(run.started)  \(run.status.rawValue)  \(secs)  \(computed) computed, \(records.count - computed) other  \(run.spec ?? "")\n")
        }
        return 0
    }
}

enum ShowCommand: Subcommand {
    static let name = "show"
    static let summary = "Params, inputs, provenance, size and timings of a stage or key"
    static let help = """
    Usage: tdx show STAGE --spec FILE [--cache PATH]
           tdx show KEY [--cache PATH]

    STAGE is a stage id of the spec (`sae[12]`); KEY a stage key or a unique prefix of one.

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: ["--json"], options: ["--spec", "--cache"])
        guard let what = args.positionals.first else { throw UsageError("tdx show needs a stage id or key") }
        let specPath = args.value("--spec").map { EngineSupport.absolute($0, io: io) }
        let store = try EngineSupport.existingStore(EngineSupport.storePath(spec: specPath, args: args, io: io))
        var key = what
        if let specPath {
            let (_, _, _, plan, _) = try EngineSupport.plan(specPath, args: args, io: io)
            guard let s = plan.graph[id: what] else {
                throw UsageError("no stage `\(what)` in \(specPath)",
                                 help: Suggest.closest(to: what, in: plan.graph.stages.map(\.id)).map { "did you mean `\($0)`?" })
            }
            key = s.key
        } else {
            let matches = try store.keys(withPrefix: what)
            guard matches.count == 1 else {
                throw UsageError(matches.isEmpty ? "no cached artifact with key \(what)" : "key prefix \(what) is ambiguous",
                                 help: "give a longer key prefix, or a stage id with --spec FILE")
            }
            key = matches[0]
        }
        guard let a = try store.artifact(key) else {
            io.out("\(what): key \(key) is not cached\n")
            return 0
        }
        io.out("key       \(a.key)\nkind      \(a.kind)\nsize      \(a.size) bytes\noutput    \(a.outputDigest)\n")
        io.out("producer  code version \(a.meta.producerVersion)\ncreated   \(a.created)\nlast used \(a.lastUsed)\n")
        if let s = a.meta.computeSeconds { io.out(String(format: "computed  %.3f s\n", s)) }
        io.out("params    \(a.meta.paramsJSON)\n")
        for b in a.blobs { io.out("blob      \(b.name)  \(b.format)  \(b.size) bytes  \(b.digest.prefix(16))…\n") }
        for r in try store.stageRecords(key: key).prefix(5) {
            let on = r.status == .ok ? try r.runID.flatMap { try store.run($0)?.machine }.map { "  on \($0)" } ?? "" : ""
            io.out("history   run \(r.runID ?? 0)  \(r.status.rawValue)  \(r.reason ?? "")\(on)\n")
        }
        return 0
    }
}

enum ExportCommand: Subcommand {
    static let name = "export"
    static let summary = "Export a stage's outputs (JSON/CSV tables, .npy arrays, SAEs as safetensors)"
    static let help = """
    Usage: tdx export FILE --stage STAGE --to DIR [--cache PATH]

    Writes each output blob of the stage's cached result into DIR: JSON and CSV as they are,
    float arrays as NumPy .npy files. An SAE stage is also written as sae_weights.safetensors +
    cfg.json in the layout SAELens loads. STAGE may be a kind (`sae`): each stage gets DIR/<id>/.

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: [], options: ["--stage", "--to", "--cache"])
        guard args.positionals.count == 1, let stage = args.value("--stage"), let dir = args.value("--to") else {
            throw UsageError("tdx export needs a spec, --stage and --to", help: "tdx export specs/quick.tdx --stage behaviour --to out/")
        }
        let (_, _, store, plan, _) = try EngineSupport.plan(args.positionals[0], args: args, io: io, missing: .refuse)
        let ids = Plan.match(stage, in: plan.graph)
        guard !ids.isEmpty else {
            throw UsageError("no stage `\(stage)` in this spec",
                             help: Suggest.closest(to: stage, in: plan.graph.stages.map(\.id)).map { "did you mean `\($0)`?" })
        }
        for id in ids {
            guard let s = plan.graph[id: id], try store.hasArtifact(s.key) else {
                throw UsageError("stage \(id) is not cached", help: "run `tdx run \(args.positionals[0]) --until \(id)` first")
            }
            let target = EngineSupport.absolute(ids.count == 1 ? dir : dir + "/" + id, io: io)
            for f in try store.exportAll(key: s.key, to: target) { io.out("\(f)\n") }
            if s.kind == .sae {
                // Also in the layout SAELens loads: sae_weights.safetensors + cfg.json.
                try StoredSAE.load(store: store, key: s.key, stage: id).export(to: URL(fileURLWithPath: target))
                io.out("\(target)/sae_weights.safetensors\n\(target)/cfg.json\n")
            }
        }
        return 0
    }
}

enum GCCommand: Subcommand {
    static let name = "gc"
    static let summary = "Remove cached artifacts no given spec reaches, or unused since a date"
    static let help = """
    Usage: tdx gc [FILE...] [--older-than YYYY-MM-DD] [--dry-run] [--cache PATH]

    With spec files, removes every artifact none of them reaches. With --older-than, removes what
    was last used before that date. --dry-run lists what would go.

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: ["--dry-run"], options: ["--older-than", "--cache"])
        var reachable: Set<String>?
        var storePath = EngineSupport.storePath(spec: args.positionals.first.map { EngineSupport.absolute($0, io: io) }, args: args, io: io)
        try EngineSupport.requireCache(storePath)
        if !args.positionals.isEmpty {
            var keys = Set<String>()
            for p in args.positionals {
                let (_, _, store, plan, _) = try EngineSupport.plan(p, args: args, io: io)
                keys.formUnion(plan.graph.stages.map(\.key))
                // A reached stage's saved progress (an interrupted rollout's finished batches) stays too.
                for k in plan.graph.stages.map(\.key) { keys.formUnion(try store.keys(withPrefix: StageContext.partialPrefix(stageKey: k))) }
                storePath = store.path
            }
            reachable = keys
        }
        var before: Date?
        if let d = args.value("--older-than") {
            let f = DateFormatter(); f.dateFormat = "yyyy-MM-dd"; f.timeZone = TimeZone(identifier: "UTC")
            guard let date = f.date(from: d) else { throw UsageError("--older-than expects YYYY-MM-DD, got `\(d)`") }
            before = date
        }
        guard reachable != nil || before != nil else {
            throw UsageError("tdx gc needs spec files or --older-than", help: "tdx gc specs/*.tdx --dry-run")
        }
        let store = try Store(path: storePath)
        // A run in progress may be reading what gc would remove, or writing what no listed spec reaches.
        if let busy = try store.runs(limit: 50).first(where: { $0.status == .running }) {
            throw UsageError("run \(busy.id) (pid \(busy.pid) on \(busy.host)) is still using \(store.path)",
                             help: "run `tdx gc` when it has finished")
        }
        let report = try store.gc(reachable: reachable, usedBefore: before, dryRun: args.has("--dry-run"))
        for a in report.removed { io.out("\(args.has("--dry-run") ? "would remove" : "removed") \(a.kind) \(a.key.prefix(16))… \(a.size) bytes\n") }
        io.out("\(report.removed.count) artifacts, \(report.bytesFreed) bytes \(args.has("--dry-run") ? "would be freed" : "freed")\n")
        return 0
    }
}

enum VerifyCommand: Subcommand {
    static let name = "verify"
    static let summary = "Re-hash every cached blob; evict corrupt artifacts so they recompute"
    static let help = """
    Usage: tdx verify [FILE] [--cache PATH]

    Re-hashes every blob. A corrupt artifact is reported and evicted, with every result computed from
    it; the next run recomputes them.

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: [], options: ["--cache"])
        let store = try EngineSupport.existingStore(EngineSupport.storePath(spec: args.positionals.first.map { EngineSupport.absolute($0, io: io) }, args: args, io: io))
        let r = try store.verify(evict: true)
        io.out("checked \(r.artifactsChecked) artifacts, \(r.blobsChecked) blobs, \(r.bytesChecked) bytes\n")
        for c in r.corrupt { io.out("corrupt \(c.kind) \(c.key.prefix(16))… \(c.blob ?? "") \(c.detail) (evicted)\n") }
        for c in r.dependants { io.out("stale   \(c.kind) \(c.key.prefix(16))… \(c.detail) (evicted)\n") }
        for p in r.structuralProblems { io.out("problem \(p)\n") }
        return r.isClean ? 0 : 1
    }
}
