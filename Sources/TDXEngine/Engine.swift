import Foundation
import TDXCore
import TDXLang
import TDXModels
import TDXPlan
import TDXStore

/// The front door for the CLI: plan a checked spec against its cache, and run the plan.
public struct Engine {
    public var registry: StageRegistry
    public var services: EngineServices

    public init(registry: StageRegistry, services: EngineServices = EngineServices()) {
        self.registry = registry; self.services = services
    }

    /// The cache file: `--cache`, else `TDX_CACHE`, else `.tdx/cache.sqlite` beside the spec.
    public static func storePath(specPath: String, option: String?, environment: [String: String]) -> String {
        if let option { return option }
        return Store.defaultPath(specPath: specPath, environment: environment)
    }

    /// The model's identity for keys: built-in models by their pinned SHA-256; files by their SHA-256
    /// (memoised in the cache by path, size and modification time) and the shape in their header.
    /// External backends: the worker is started (and kept in `services` for the run) and its declared
    /// identity — worker, model id, revision, dtype, plus the file's SHA-256 when the weights are a local
    /// file — is hashed. `m` is the model block of one variant: a `weights` sweep names several models.
    static func modelIdentity(_ m: Params, specPath: String, store: Store?, services: EngineServices) throws -> ModelIdentity {
        let weights = m["weights"]?.stringValue ?? ""
        let backend = m["backend"]?.symbolValue ?? "local"
        if backend != "local" {
            let w = try workerIdentity(m, specPath: specPath, store: store, services: services)
            return ModelIdentity(digest: w.digest, blocks: w.runner.config.blockCount, dModel: w.runner.config.dModel)
        }
        if let b = Schema.builtinModels.first(where: { $0.name == weights }) {
            return ModelIdentity(digest: b.sha256, blocks: b.blocks, dModel: b.dModel)
        }
        let dir = URL(fileURLWithPath: specPath).deletingLastPathComponent().path
        let path = try ModelStore(environment: ProcessInfo.processInfo.environment, currentDirectory: dir).resolve(weights)
        let digest = try store?.fileDigest(path: path, compute: fileSHA256) ?? fileSHA256(path)
        let pinned = (m["sha256"]?.stringValue ?? "").lowercased()
        if !pinned.isEmpty && pinned != digest { throw ModelStageError.digestMismatch(path: path, expected: pinned, found: digest) }
        let shape = try ModelShape.read(path: path)
        return ModelIdentity(digest: digest, blocks: shape.blocks, dModel: shape.dModel)
    }

    /// The running worker of an external backend and its identity (a sentence) and digest (for keys).
    static func workerIdentity(_ model: Params, specPath: String, store: Store?,
                               services: EngineServices) throws -> (runner: ModelRunner, identity: String, digest: String) {
        let launch = try WorkerLaunch(model, specPath: specPath)
        let runner = try ModelRunner.shared(model, info: nil, specPath: specPath, services: services)
        guard let worker = runner.backend as? WorkerBackend else { throw UsageError("backend `\(model.symbol("backend"))` is not a worker") }
        var identity = worker.identity + (launch.remote ? " remote" : "")
        if FileManager.default.fileExists(atPath: launch.weights) {
            identity += " sha256=" + (try store?.fileDigest(path: launch.weights, compute: fileSHA256) ?? fileSHA256(launch.weights))
        }
        return (runner, identity, SHA256.hex(Array(identity.utf8)))
    }

    /// SHA-256 of a file (or of every file of a model directory, in name order), streamed.
    static func fileSHA256(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        let files = isDir.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
            : [path]
        var h = SHA256()
        for f in files {
            guard FileManager.default.isReadableFile(atPath: f) else { throw ModelStageError.unreadable(f) }
            try h.update(fileAt: f)
        }
        return h.hexDigest()
    }

    public func plan(_ spec: ResolvedSpec, specPath: String, store: Store, options: Plan.Options = Plan.Options()) throws -> Plan {
        guard spec.model != nil else { throw UsageError("the spec has no model block") }
        // One identity per distinct model a sweep names (each file hashed once).
        var identities: [String: ModelIdentity] = [:]
        let graph = try Planner(codeVersions: registry.codeVersions).plan(spec) { values in
            let name = values.keys.sorted().map { "\($0)=\(values[$0]!.canonical)" }.joined(separator: ",")
            if let known = identities[name] { return known }
            let id = try Engine.modelIdentity(Params(values, prefix: "model"), specPath: specPath, store: store, services: services)
            identities[name] = id
            return id
        }
        return try Plan(graph: graph, cache: try StoreCacheView(store: store, graph: graph), specPath: specPath, options: options)
    }

    public func run(_ plan: Plan, spec: ResolvedSpec, specPath: String, storePath: String,
                    options: Executor.Options, io: CommandIO) throws -> Executor.Summary {
        if let missing = plan.toRun.first(where: { registry.bodies[$0.stage.kind] == nil }) {
            throw NotImplementedYet("stage kind `\(missing.stage.kind.rawValue)` (needed by \(missing.stage.id))")
        }
        return try Executor(storePath: storePath, registry: registry, services: services, options: options, io: io)
            .run(plan: plan, spec: spec, specPath: specPath)
    }
}
