import Foundation
import TDXCore
import TDXLang
import TDXModels
import TDXTasks

extension StageContext {
    /// The model identity the `model` stage recorded (path or model id, SHA-256 or backend identity, shape).
    func modelInfo() throws -> ModelInfoRecord {
        try JSONDecoder().decode(ModelInfoRecord.self, from: try inputData("model", "model"))
    }

    /// The language model, loaded once per process and shared by every stage that needs it.
    func languageModel() throws -> ModelRunner {
        let info = try modelInfo()
        return try ModelRunner.shared(modelParams, info: info, specPath: specPath, services: services) { path in
            // The model stage hashed the file; one changed since (damaged, replaced) must not go on under the
            // key of the one it checked. The digest is memoised by size and modification time.
            let now = try store.fileDigest(path: path, compute: Engine.fileSHA256)
            let was = info.sha256
            guard now != was else { return }
            throw UsageError("\(path) changed since the model stage checked it: its SHA-256 is now \(now.prefix(16))…, was \(was.prefix(16))…",
                             help: "restore the file (`tdx model fetch` for a built-in model), or check the new one with `--force model`")
        }
    }

    /// The spec's model block as parameters (`model.weights`, `model.backend`, …), with the values of this
    /// stage's variant when the model block is swept (the planner gave its `model` stage those values).
    var modelParams: Params {
        var values = ModelRunner.params(spec).values
        if let id = inputID("model"), let own = paramsByID[id] {
            for (k, v) in own where k.hasPrefix("model.") { values[k] = v }
        }
        return Params(values, prefix: "model")
    }
}

/// What the `model` stage stores.
struct ModelInfoRecord: Codable, Sendable {
    /// The weights file (local), or the model id the worker loaded.
    var path: String
    /// The file's SHA-256 (local), or the SHA-256 of the backend's identity string.
    var sha256: String
    var blocks: Int
    var dModel: Int
    var vocab: Int
    /// External backends: worker name, model id, revision and dtype, as the worker declared them.
    var backend: String?
}

/// The language model as the stages use it, whichever backend serves it: the in-process engine, which
/// keeps a KV cache per sequence, or a worker process (DESIGN §7), which is sent whole sequences.
final class ModelRunner: @unchecked Sendable {
    let backend: any LanguageModelBackend
    /// The in-process engine, when it is the backend (its tokenizer is used directly).
    let local: LanguageModel?

    init(local: LanguageModel) { backend = local; self.local = local }
    init(worker: WorkerBackend) { backend = worker; local = nil }

    var config: LlamaConfig { backend.config }
    /// Whether a pass can continue an earlier one from its KV cache (else whole sequences are sent).
    var keepsCaches: Bool { local != nil }

    /// Token ids of an answer or a name (no special tokens).
    func encode(_ text: String) throws -> [Int] {
        if let local { return local.tokenizer.encode(text, addSpecial: false, parseSpecial: false) }
        return try backend.tokenize(text, addSpecial: false)
    }

    /// Token ids of a piece of transcript with the bytes each covers (0 for an added special token).
    func tokens(_ piece: String, addSpecial: Bool) throws -> [(id: Int, bytes: Int)] {
        if let tk = local?.tokenizer {
            let ids = tk.encode(piece, addSpecial: addSpecial, parseSpecial: false)
            return ids.enumerated().map { i, id in
                (id, i == 0 && addSpecial && tk.addBOS && id == tk.bos ? 0 : tk.bytes(of: id).count)
            }
        }
        let r = try backend.tokenizeWithLengths(piece, addSpecial: addSpecial)
        return Array(zip(r.ids, r.lengths)).map { ($0, $1) }
    }

    func forward(_ request: ForwardRequest, caches: [KVCache?]?) throws -> ForwardResult {
        try backend.forward(request, caches: keepsCaches ? caches : nil)
    }

    /// A fresh KV cache for one sequence (nil for workers).
    func makeCache() -> KVCache? { local.map { KVCache(config: $0.config) } }

    static func params(_ spec: ResolvedSpec) -> Params {
        Params(Dictionary((spec.model?.params ?? []).map { ("model.\($0.name)", $0.value) }) { a, _ in a }, prefix: "model")
    }

    /// The process-wide runner for the spec's model block.
    /// `verify` checks a local weights file once per process, before it is loaded.
    static func shared(_ model: Params, info: ModelInfoRecord?, specPath: String, services: EngineServices,
                       verify: (String) throws -> Void = { _ in }) throws -> ModelRunner {
        switch model.symbol("backend", "local") {
        case "local":
            guard let path = info?.path else { throw UsageError("the model stage has not run") }
            return try services.get("llm:\(path)") {
                try verify(path)
                return ModelRunner(local: try LanguageModel.load(path: path))
            }
        default:
            let w = try WorkerLaunch(model, specPath: specPath)
            return try services.get("llm:\(w.key)") { ModelRunner(worker: try w.start()) }
        }
    }
}

/// How to start the worker of a `backend = "worker" | "nnsight"` model block.
struct WorkerLaunch {
    var command: [String]
    var weights: String
    var revision: String
    var dtype: String
    var remote: Bool

    init(_ p: Params, specPath: String) throws {
        weights = p.string("weights")
        revision = p.string("revision")
        dtype = ["f32": "float32", "f16": "float16", "bf16": "bfloat16"][p.symbol("dtype", "f32")] ?? "auto"
        remote = p.bool("remote", false)
        let given = (p["command"]?.listValue ?? []).compactMap(\.stringValue)
        switch p.symbol("backend") {
        case "nnsight":
            command = given.isEmpty ? ["python3", try Self.shippedWorker("nnsight/tdx_nnsight_worker.py")] : given
        default:
            guard !given.isEmpty else { throw WorkerSpecError.noCommand }
            command = given
        }
        // A weights path that exists relative to the spec is passed to the worker as an absolute path.
        if !weights.hasPrefix("/") {
            let beside = URL(fileURLWithPath: specPath).deletingLastPathComponent().appendingPathComponent(weights).path
            if FileManager.default.fileExists(atPath: beside) { weights = beside }
        }
    }

    /// One worker per command, model, revision, dtype and place.
    var key: String { (command + [weights, revision, dtype, remote ? "remote" : "local"]).joined(separator: "\u{1f}") }

    /// Ctrl-C or SIGTERM stops a worker that is still answering (loading a model can take minutes).
    func start() throws -> WorkerBackend {
        try WorkerBackend(command: command, model: weights, revision: revision, dtype: dtype, remote: remote,
                          cancelled: { Interrupt.requested })
    }

    /// A worker shipped in the project's `workers/` folder: TDX_WORKERS, else beside the build that runs
    /// (`.build/<config>/tdx` → `workers/`), else `workers/` in the current directory.
    static func shippedWorker(_ relative: String) throws -> String {
        var roots: [String] = []
        if let env = ProcessInfo.processInfo.environment["TDX_WORKERS"] { roots.append(env) }
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        roots.append(exe.appendingPathComponent("../../workers").standardized.path)
        roots.append(exe.appendingPathComponent("../../../workers").standardized.path)
        roots.append(FileManager.default.currentDirectoryPath + "/workers")
        for r in roots where FileManager.default.fileExists(atPath: r + "/" + relative) { return r + "/" + relative }
        throw WorkerSpecError.workerNotFound(relative, searched: roots)
    }
}

enum WorkerSpecError: UserError {
    case noCommand
    case workerNotFound(String, searched: [String])

    var message: String {
        switch self {
        case .noCommand: "`backend = \"worker\"` needs the worker's command line"
        case .workerNotFound(let w, let roots): "cannot find the shipped worker \(w) (looked in \(roots.joined(separator: ", ")))"
        }
    }
    var help: String? {
        switch self {
        case .noCommand: "add `command = [\"python3\", \"path/to/worker.py\"]` to the model block (see workers/README.md)"
        case .workerNotFound: "set TDX_WORKERS to the project's workers/ folder, or give `command = [...]` in the model block"
        }
    }
}

/// Token ids of a transcript fed to the model piece by piece, with the byte offset where each token
/// ends, so transcript events (byte spans) map to token positions.
struct TokenTrack: Codable, Sendable {
    var ids: [Int] = []
    /// Byte offset in the transcript text at which each token ends.
    var ends: [Int] = []
    /// Bytes of the transcript already tokenized.
    var bytes = 0

    /// Appends the tokens of `text[bytes...]`; returns how many were added.
    @discardableResult
    mutating func extend(to text: String, model: ModelRunner) throws -> Int {
        let all = Array(text.utf8)
        guard all.count > bytes else { return 0 }
        let piece = String(decoding: all[bytes...], as: UTF8.self)
        let new = try model.tokens(piece, addSpecial: ids.isEmpty)
        var at = bytes
        for t in new {
            at += t.bytes
            ids.append(t.id); ends.append(at)
        }
        bytes = all.count
        return new.count
    }

    /// The token covering the last (or first) byte of a span.
    func position(of span: TextSpan, last: Bool = true) -> Int? {
        let target = last ? span.end - 1 : span.start
        // First token whose end is past the target byte.
        var lo = 0, hi = ends.count
        while lo < hi { let mid = (lo + hi) / 2; if ends[mid] > target { hi = mid } else { lo = mid + 1 } }
        return lo < ends.count ? lo : nil
    }

    /// The last token that ends at or before byte `offset` (the position whose logits predict what follows).
    func position(before offset: Int) -> Int? {
        var lo = 0, hi = ends.count
        while lo < hi { let mid = (lo + hi) / 2; if ends[mid] > offset { hi = mid } else { lo = mid + 1 } }
        return lo > 0 ? lo - 1 : nil
    }
}
