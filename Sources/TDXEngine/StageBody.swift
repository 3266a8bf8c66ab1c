import Foundation
import TDXCore
import TDXLang
import TDXPlan
import TDXStore

/// What a stage produces: named blobs, held in memory until the store commits them in one transaction.
public struct StageOutput: Sendable {
    public enum Blob: Sendable {
        case floats([Float], shape: [Int])
        case text(String)
        case json(String)
        case data(Data)
    }
    public var blobs: [(name: String, blob: Blob)] = []
    public init() {}

    public mutating func floats(_ name: String, _ values: [Float], shape: [Int]? = nil) {
        blobs.append((name, .floats(values, shape: shape ?? [values.count])))
    }
    public mutating func json(_ name: String, _ text: String) { blobs.append((name, .json(text))) }
    public mutating func text(_ name: String, _ text: String) { blobs.append((name, .text(text))) }
    public mutating func data(_ name: String, _ data: Data) { blobs.append((name, .data(data))) }

    /// Puts every blob into an artifact being written.
    func write(to w: ArtifactWriter) throws {
        for (name, blob) in blobs {
            switch blob {
            case .floats(let v, let shape): try w.putFloats(name, v, shape: shape)
            case .text(let t): try w.putString(name, t)
            case .json(let t): try w.putString(name, t, format: .json)
            case .data(let d): try w.putData(name, d)
            }
        }
    }
}

/// Everything a stage body may use: its own parameters (only those), its inputs' outputs, a seed
/// derived from the spec seed and its key, progress and cancellation.
public final class StageContext: @unchecked Sendable {
    public let stage: Stage
    public let spec: ResolvedSpec
    public let specPath: String
    /// Reads an input stage's blob; inputs are addressed by stage id.
    let store: Store
    let keysByID: [String: String]
    /// Every planned stage's parameters by id: a stage reads its model's (under a `weights` sweep, its variant's).
    let paramsByID: [String: [String: Value]]
    public let progress: ProgressSink
    let cancelled: @Sendable () -> Bool
    /// Process-wide services shared between stages (e.g. a loaded model).
    public let services: EngineServices

    init(stage: Stage, spec: ResolvedSpec, specPath: String, store: Store, keysByID: [String: String],
         paramsByID: [String: [String: Value]] = [:],
         progress: ProgressSink, cancelled: @escaping @Sendable () -> Bool, services: EngineServices) {
        self.stage = stage; self.spec = spec; self.specPath = specPath; self.store = store
        self.keysByID = keysByID; self.paramsByID = paramsByID
        self.progress = progress; self.cancelled = cancelled; self.services = services
    }

    public var isCancelled: Bool { cancelled() }
    public func checkCancelled() throws { if cancelled() { throw ExecutorError.interrupted } }

    /// A seed unique to this stage and spec seed: same spec, same result.
    public var seed: UInt64 { seed(stream: stage.key) }

    /// A seed fixed by the spec seed and one input's key: a stage that only presents that input (the
    /// report's bootstrap over experiments) draws the same numbers when its own key moves (a title, a code
    /// version).
    public func seed(of input: String) throws -> UInt64 { seed(stream: try inputKey(input)) }

    private func seed(stream: String) -> UInt64 {
        var rng = SeededRNG(seed: UInt64(truncatingIfNeeded: variantSeed), stream: stream)
        return rng.next()
    }

    /// The spec seed of this stage's variant: under `seed in [...]` a stage's own `seed` parameter, or else
    /// its inputs' (a report's rollout), differs from the spec's first seed. The key carries that seed, so
    /// the numbers drawn must follow it: a spec with `seed = 2026` and a sweep's 2026 variant share keys.
    var variantSeed: Int {
        if let s = stage.params["seed"]?.intValue { return s }
        for id in stage.inputs { if let s = paramsByID[id]?["seed"]?.intValue { return s } }
        return spec.seed
    }

    public func param(_ name: String) -> Value? { stage.params[name] }

    /// The id of this stage's input named `id`. Under a sweep an input carries its variant's tag
    /// (`rollout{seed=2}`), and a body names it without one (`rollout`).
    func inputID(_ id: String) -> String? {
        if stage.inputs.contains(id) { return id }
        return stage.inputs.first { $0.hasPrefix(id + "{") }
    }

    /// Whether the planner gave this stage an input named `id` (tagged or not).
    public func hasInput(_ id: String) -> Bool { inputID(id) != nil }

    public func inputKey(_ id: String) throws -> String {
        // Only the stage's own inputs: another variant's stage of that name is not one.
        guard let i = inputID(id), let k = keysByID[i] else { throw ExecutorError.missingInput(stage: stage.id, input: id) }
        return k
    }
    public func inputFloats(_ id: String, _ blob: String) throws -> [Float] { try store.readFloats(key: try inputKey(id), blob: blob) }
    public func inputString(_ id: String, _ blob: String) throws -> String { try store.readString(key: try inputKey(id), blob: blob) }
    public func inputData(_ id: String, _ blob: String) throws -> Data { try store.readData(key: try inputKey(id), blob: blob) }
    /// The names of an input's blobs (a report's files).
    public func inputBlobNames(_ id: String) throws -> [String] { try store.blobNames(key: try inputKey(id)) }
    /// Input ids of a kind (`sae`), in the order the planner listed them.
    public func inputs(of kind: StageKind) -> [String] {
        stage.inputs.filter { id in id == kind.rawValue || id.hasPrefix(kind.rawValue + "[") || id.hasPrefix(kind.rawValue + "{") }
    }
}

/// The body of one stage kind. `run` receives a group of stages computed together (one element
/// unless the planner grouped them, as it does for `activations[L]`) and returns one output each.
public protocol StageBody: Sendable {
    var kind: StageKind { get }
    var codeVersion: Int { get }
    func run(_ group: [StageContext]) throws -> [StageOutput]
}

/// Shared, lazily built services (a loaded model, …) keyed by name.
public final class EngineServices: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String: Any] = [:]
    public init() {}
    public func get<T>(_ name: String, make: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        if let v = items[name] as? T { return v }
        let v = try make()
        items[name] = v
        return v
    }
}

/// The set of stage bodies the executor runs, by kind.
public struct StageRegistry: Sendable {
    public var bodies: [StageKind: any StageBody]
    public init(_ bodies: [any StageBody]) { self.bodies = Dictionary(bodies.map { ($0.kind, $0) }) { $1 } }
    public var codeVersions: [StageKind: Int] {
        var v = StageKind.defaultCodeVersions
        for (k, b) in bodies { v[k] = b.codeVersion }
        return v
    }
}
