import Foundation
import TDXCore
import TDXEngine
import TDXLang
import TDXPlan
import TDXStore

/// What the engine-facing commands share: the cache path, the stage registry, loading and planning.
enum EngineSupport {
    static let cacheOptions = ["--cache"]

    /// The registry of stage bodies. `TDX_TEST_STAGES=1` selects the stand-in family used by tests.
    static func registry(_ io: CommandIO) -> StageRegistry {
        if io.environment["TDX_TEST_STAGES"] == "1" {
            return TestStage.registry(milliseconds: Int(io.environment["TDX_TEST_STAGE_MS"] ?? "0") ?? 0)
        }
        return StandardStages.registry
    }

    static func storePath(spec: String?, args: Arguments, io: CommandIO) -> String {
        if let c = args.value("--cache") { return (c as NSString).expandingTildeInPath }
        if let spec { return Engine.storePath(specPath: spec, option: nil, environment: io.environment) }
        if let env = Store.environmentPath(io.environment) { return env }
        return io.currentDirectory + "/.tdx/cache.sqlite"
    }

    static func absolute(_ path: String, io: CommandIO) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: io.currentDirectory).appendingPathComponent(path).standardizedFileURL.path
    }

    static func planOptions(_ args: Arguments) -> Plan.Options {
        Plan.Options(only: args.values("--only"), until: args.values("--until"), force: args.values("--force"))
    }

    /// The cache of a command that only reads or prunes it: one that does not exist is an error, not a new
    /// empty file (a mistyped --cache would otherwise look like an empty cache).
    static func existingStore(_ path: String) throws -> Store {
        try requireCache(path)
        return try Store(path: path)
    }

    static func requireCache(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw noCache(path) }
    }

    static func noCache(_ path: String) -> UsageError {
        UsageError("there is no cache at \(path)", help: "run `tdx run SPEC` first, or point --cache (or TDX_CACHE) at a cache")
    }

    /// What planning does with a cache that does not exist yet.
    enum MissingCache {
        /// Creates it (a run fills it).
        case create
        /// Plans against an empty in-memory stand-in, so everything runs and no file is made (plan, status).
        case standIn
        /// Fails: there is nothing to read (export).
        case refuse
    }

    /// Loads the spec, opens its cache and plans it.
    static func plan(_ specArg: String, args: Arguments, io: CommandIO, missing: MissingCache = .create) throws -> (ResolvedSpec, String, Store, Plan, Engine) {
        let specPath = absolute(specArg, io: io)
        let path = storePath(spec: specPath, args: args, io: io)
        let exists = FileManager.default.fileExists(atPath: path)
        if missing == .refuse && !exists { throw noCache(path) }
        let (spec, _) = try SpecLoading.load(specPath, io: io, json: args.has("--json"))
        let store = try missing == .standIn && !exists ? Store.emptyStandIn(for: path) : Store(path: path)
        let engine = Engine(registry: registry(io))
        let plan = try engine.plan(spec, specPath: specPath, store: store, options: planOptions(args))
        return (spec, specPath, store, plan, engine)
    }
}
