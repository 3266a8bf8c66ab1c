import Foundation
import TDXCore

/// A language model run by an external worker process (DESIGN §7; PROTOCOL.md): the NumPy reference worker,
/// nnsight on a local GPU, or nnsight on NDIF. Says hello and loads the model on init; `forward` returns
/// results in the same layouts as the in-process engine.
///
/// Protocol v1 keeps no KV state between requests, so `forward` takes only `caches == nil` (or all nil);
/// a worker may reuse shared prefixes internally. SAE dictionaries used by edits are registered once per
/// backend (keyed by content) and then named by handle.
public final class WorkerBackend: LanguageModelBackend, @unchecked Sendable {
    public let process: WorkerProcess
    public let config: LlamaConfig
    /// The canonical model id the worker reported.
    public let source: String
    public let modelID: String
    /// The resolved revision ("" when the worker does not know one).
    public let revision: String
    public let dtype: String
    public let workerName: String
    public let workerVersion: String
    public let capabilities: [String]
    public let bos: Int?
    /// Whether `tokenize(_, addSpecial: true)` prepends `bos`.
    public let addBOS: Bool

    private let lock = NSLock()
    private var registered: [(sae: SAEDictionary, digest: String, handle: String)] = []

    /// Starts `command`, checks the protocol version and loads `model` (a path or hub id) at `revision`
    /// ("" = default) in `dtype` ("float32", "float16", "bfloat16", "auto"), remotely when `remote`.
    public init(command: [String], model: String, revision: String = "", dtype: String = "auto", remote: Bool = false,
                environment: [String: String]? = nil, timeouts: WorkerProcess.Timeouts = .standard(),
                cancelled: @escaping @Sendable () -> Bool = { false }) throws(WorkerError) {
        let p = try WorkerProcess(argv: command, environment: environment, timeouts: timeouts, cancelled: cancelled)
        do throws(WorkerError) {
            let hello = try p.decode(WorkerHelloResponse.self, from: p.send(WorkerHelloRequest()))
            let load = try p.decode(WorkerLoadResponse.self, from: p.send(
                WorkerLoadRequest(model: model, revision: revision, dtype: dtype, remote: remote)))
            let c = load.config
            guard c.blocks > 0, c.dModel > 0, c.vocab > 0 else {
                throw p.malformed("the model config has a non-positive size (blocks \(c.blocks), d_model \(c.dModel), vocab \(c.vocab))", op: "load")
            }
            process = p
            config = c.llamaConfig
            modelID = load.modelID
            source = load.modelID
            self.revision = load.revision ?? ""
            self.dtype = load.dtype
            workerName = hello.worker
            workerVersion = hello.workerVersion ?? ""
            capabilities = hello.capabilities ?? []
            bos = load.bos
            addBOS = load.addBOS ?? false
        } catch {
            p.close()
            throw error
        }
    }

    deinit { process.close() }

    /// Ends the worker (also done on deinit).
    public func close() { process.close() }

    /// What determines this backend's numbers, as one stable string for cache keys: worker name, model id,
    /// revision and dtype.
    public var identity: String {
        "worker=\(workerName) model=\(modelID) revision=\(revision.isEmpty ? "-" : revision) dtype=\(dtype)"
    }

    public func tokenize(_ text: String, addSpecial: Bool) throws -> [Int] {
        try tokenizeWithLengths(text, addSpecial: addSpecial).ids
    }

    public func tokenizeWithLengths(_ text: String, addSpecial: Bool) throws -> (ids: [Int], lengths: [Int]) {
        lock.lock(); defer { lock.unlock() }
        let op = WorkerTokenizeRequest.opName
        let r = try process.decode(WorkerTokenizeResponse.self,
                                   from: process.send(WorkerTokenizeRequest(text: text, addSpecial: addSpecial)))
        guard r.lengths.count == r.ids.count else {
            throw process.malformed("\(r.ids.count) ids but \(r.lengths.count) lengths", op: op)
        }
        let bytes = text.utf8.count
        guard r.lengths.allSatisfy({ $0 >= 0 }), r.lengths.reduce(0, +) == bytes else {
            throw process.malformed("the token lengths sum to \(r.lengths.reduce(0, +)), not the text's \(bytes) bytes", op: op)
        }
        if let bad = r.ids.first(where: { !(0..<config.vocabSize).contains($0) }) {
            throw process.malformed("token id \(bad) is outside the vocabulary of \(config.vocabSize)", op: op)
        }
        return (r.ids, r.lengths)
    }

    /// Protocol v1 has no detokenize request.
    public func detokenize(_ ids: [Int]) throws -> String {
        throw WorkerError(.unsupported("worker protocol v1 has no detokenize request"), command: process.commandLine, op: "detokenize")
    }

    public func forward(_ request: ForwardRequest, caches: [KVCache?]?) throws -> ForwardResult {
        lock.lock(); defer { lock.unlock() }
        let op = WorkerForwardRequest.opName
        func bad(_ d: String) -> WorkerError { WorkerError(.badRequest(d), command: process.commandLine, op: op) }
        if let caches, caches.contains(where: { $0 != nil }) {
            throw WorkerError(.unsupported("worker protocol v1 keeps no KV cache; pass caches nil and whole sequences"),
                              command: process.commandLine, op: op)
        }
        if request.resume != nil || request.stopAfter != nil {
            throw WorkerError(.unsupported("worker protocol v1 runs every block of every sequence; resume and stopAfter are the in-process engine's"),
                              command: process.commandLine, op: op)
        }
        let n = request.sequences.count
        guard request.logitPositions.count == n, request.capturePositions.count == n else {
            throw bad("per-sequence position lists must have one entry per sequence (\(n))")
        }
        var payload = WorkerPayload()
        var edits: [WorkerEdit] = []
        for e in request.edits {
            let wire: WorkerEdit.Operation
            switch e.operation {
            case .add(let v):
                guard v.count == config.dModel else { throw bad("add vector has \(v.count) dims, the model \(config.dModel)") }
                wire = .add(payload.append(v))
            case .saeReconstruct(let sae):
                wire = .saeReconstruct(handle: try handle(for: sae))
            case .saeLatents(let sae, let latents):
                wire = .saeLatents(handle: try handle(for: sae), latents.map(WorkerLatentEdit.init))
            }
            edits.append(WorkerEdit(block: e.block, sequences: e.sequences, positions: e.positions, operation: wire))
        }
        let header = WorkerForwardRequest(sequences: request.sequences, logitPositions: request.logitPositions,
                                          captureBlocks: request.captureBlocks, capturePositions: request.capturePositions,
                                          edits: edits, payloadBytes: payload.byteCount > 0 ? payload.byteCount : nil)
        let reply = try process.send(header, payload: payload)
        let r = try process.decode(WorkerForwardResponse.self, from: reply)
        guard r.logits.count == n, r.residuals.count == n else {
            throw process.malformed("\(r.logits.count) logit and \(r.residuals.count) residual arrays for \(n) sequences", op: op)
        }
        let V = config.vocabSize, d = config.dModel, B = request.captureBlocks.count
        var result = ForwardResult(logits: [], residuals: [])
        for s in 0..<n {
            let wantL = request.logitPositions[s].count * V, wantR = B * request.capturePositions[s].count * d
            guard r.logits[s].count == wantL, r.residuals[s].count == wantR else {
                throw process.malformed("sequence \(s) has \(r.logits[s].count) logits and \(r.residuals[s].count) residual floats; "
                                        + "expected \(wantL) and \(wantR)", op: op)
            }
            do throws(WorkerFrame.Problem) {
                result.logits.append(try reply.payload.floats(at: r.logits[s]))
                result.residuals.append(try reply.payload.floats(at: r.residuals[s]))
            } catch {
                throw process.malformed(error.description, op: op)
            }
        }
        return result
    }

    /// The handle `sae` is registered under, registering it first if this backend has not seen its content.
    private func handle(for sae: SAEDictionary) throws(WorkerError) -> String {
        // Same storage (the common case: one dictionary reused) is checked before hashing ~MBs of weights.
        if let r = registered.first(where: { Self.sameStorage($0.sae, sae) }) { return r.handle }
        let digest = Self.digest(sae)
        if let r = registered.first(where: { $0.digest == digest }) { return r.handle }
        guard sae.inputDim == config.dModel else {
            throw WorkerError(.badRequest("SAE input has \(sae.inputDim) dims, the model \(config.dModel)"),
                              command: process.commandLine, op: WorkerSAERequest.opName)
        }
        let handle = "s\(registered.count + 1)"
        let (header, payload) = WorkerSAERequest.make(handle: handle, sae: sae)
        _ = try process.send(header, payload: payload)
        registered.append((sae, digest, handle))
        return handle
    }

    static func sameStorage(_ a: SAEDictionary, _ b: SAEDictionary) -> Bool {
        func same(_ x: [Float], _ y: [Float]) -> Bool {
            x.withUnsafeBufferPointer { p in y.withUnsafeBufferPointer { q in p.baseAddress == q.baseAddress && p.count == q.count } }
        }
        let shifts: Bool
        switch (a.inputShift, b.inputShift) {
        case (nil, nil): shifts = true
        case (let x?, let y?): shifts = same(x, y)
        default: shifts = false
        }
        return a.inputDim == b.inputDim && a.latentCount == b.latentCount && a.inputScale.bitPattern == b.inputScale.bitPattern
            && a.subtractDecoderBias == b.subtractDecoderBias && a.activation == b.activation && shifts
            && same(a.encoder, b.encoder) && same(a.encoderBias, b.encoderBias)
            && same(a.decoder, b.decoder) && same(a.decoderBias, b.decoderBias)
    }

    /// SHA-256 of everything the worker is sent about `sae`.
    static func digest(_ sae: SAEDictionary) -> String {
        var h = SHA256()
        let activation: String
        switch sae.activation {
        case .relu: activation = "relu"
        case .topK(let k): activation = "topk:\(k)"
        }
        h.update("\(sae.inputDim) \(sae.latentCount) \(sae.inputScale.bitPattern) \(sae.subtractDecoderBias) \(activation) \(sae.inputShift != nil)\n")
        h.update(floats: sae.encoder); h.update(floats: sae.encoderBias)
        h.update(floats: sae.decoder); h.update(floats: sae.decoderBias)
        if let s = sae.inputShift { h.update(floats: s) }
        return h.hexDigest()
    }
}
