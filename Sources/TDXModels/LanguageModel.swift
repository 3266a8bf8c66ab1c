import Foundation

/// A loaded Llama-family model with its tokenizer: the in-process engine.
public final class LanguageModel: @unchecked Sendable {
    public let weights: LlamaWeights
    public let tokenizer: Tokenizer
    public let source: String
    public var config: LlamaConfig { weights.config }

    public init(weights: LlamaWeights, tokenizer: Tokenizer, source: String = "memory") {
        self.weights = weights; self.tokenizer = tokenizer; self.source = source
    }

    /// Loads a GGUF file or a Hugging Face safetensors directory (config.json + tokenizer.json).
    public static func load(path: String) throws -> LanguageModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw ModelError.fileNotFound(path) }
        if isDir.boolValue || path.hasSuffix(".safetensors") || path.hasSuffix("config.json") {
            return try loadSafetensors(path: path)
        }
        let g = try GGUFFile(path: path)
        let w = try LlamaWeights(gguf: g)
        let t = try Tokenizer(gguf: g)
        guard t.vocabSize <= w.config.vocabSize else {
            throw ModelError.tokenizer("\(path) has \(t.vocabSize) tokens but an embedding of \(w.config.vocabSize) rows")
        }
        return LanguageModel(weights: w, tokenizer: t, source: path)
    }

    /// Resolves a name or path through the model store and loads it.
    public static func load(_ nameOrPath: String, store: ModelStore) throws -> LanguageModel {
        try load(path: store.resolve(nameOrPath))
    }

    /// Checks a request against the model and the caches before any work is done.
    func validate(_ r: ForwardRequest, caches: [KVCache?]) throws {
        let c = config
        let n = r.sequences.count
        guard r.logitPositions.count == n, r.capturePositions.count == n, caches.count == n else {
            throw ModelError.badRequest("per-sequence lists must have one entry per sequence (\(n))")
        }
        for b in r.captureBlocks where !(0..<c.blockCount).contains(b) {
            throw ModelError.badRequest("capture block \(b) is outside 0..<\(c.blockCount)")
        }
        for (s, seq) in r.sequences.enumerated() {
            guard !seq.isEmpty else { throw ModelError.badRequest("sequence \(s) is empty") }
            for t in seq where !(0..<c.vocabSize).contains(t) { throw ModelError.badRequest("token id \(t) is outside the vocabulary") }
            let start = caches[s]?.count ?? 0
            let range = start..<(start + seq.count)
            guard range.upperBound <= c.contextLength else {
                throw ModelError.badRequest("sequence \(s) needs \(range.upperBound) positions; the context is \(c.contextLength)")
            }
            for p in r.logitPositions[s] + r.capturePositions[s] where !range.contains(p) {
                throw ModelError.badRequest("position \(p) of sequence \(s) is not computed in this pass (\(range))")
            }
        }
        for e in r.edits {
            guard (0..<c.blockCount).contains(e.block) else { throw ModelError.badRequest("edit block \(e.block) is outside 0..<\(c.blockCount)") }
            for s in e.sequences ?? Array(0..<n) {
                guard (0..<n).contains(s) else { throw ModelError.badRequest("edit names sequence \(s)") }
                let start = caches[s]?.count ?? 0
                for p in e.positions where !(start..<(start + r.sequences[s].count)).contains(p) {
                    throw ModelError.badRequest("edit position \(p) of sequence \(s) is not computed in this pass")
                }
            }
            switch e.operation {
            case .add(let v):
                guard v.count == c.dModel else { throw ModelError.badRequest("add vector has \(v.count) dims, the model \(c.dModel)") }
            case .saeReconstruct(let sae), .saeLatents(let sae, _):
                guard sae.inputDim == c.dModel else { throw ModelError.badRequest("SAE input has \(sae.inputDim) dims, the model \(c.dModel)") }
                if case .saeLatents(_, let edits) = e.operation, let bad = edits.first(where: { !(0..<sae.latentCount).contains($0.latent) }) {
                    throw ModelError.badRequest("latent \(bad.latent) is outside 0..<\(sae.latentCount)")
                }
            }
        }
        try validateBlocks(r, caches: caches)
    }

    /// `stopAfter` and `resume`, and whether every cache holds each block the pass extends.
    private func validateBlocks(_ r: ForwardRequest, caches: [KVCache?]) throws {
        let c = config, n = r.sequences.count
        func bad(_ m: String) -> ModelError { .badRequest(m) }
        if let stop = r.stopAfter {
            guard (0..<c.blockCount).contains(stop) else { throw bad("stopAfter block \(stop) is outside 0..<\(c.blockCount)") }
            guard r.logitPositions.allSatisfy(\.isEmpty) else { throw bad("a pass that stops after block \(stop) has no logits to return") }
            if let b = (r.captureBlocks + r.edits.map(\.block)).first(where: { $0 > stop }) {
                throw bad("block \(b) is captured or edited but the pass stops after block \(stop)")
            }
        }
        var resumed = Set<Int>()
        if let res = r.resume {
            guard (0..<c.blockCount).contains(res.after) else { throw bad("resume block \(res.after) is outside 0..<\(c.blockCount)") }
            guard res.streams.count == n else { throw bad("resume has \(res.streams.count) streams for \(n) sequences") }
            guard r.stopAfter == nil else { throw bad("a pass cannot both resume sequences and stop early") }
            for (s, stream) in res.streams.enumerated() {
                guard let stream else { continue }
                guard stream.count == r.sequences[s].count * c.dModel else {
                    throw bad("the resumed stream of sequence \(s) has \(stream.count) values; \(r.sequences[s].count) tokens × \(c.dModel) needed")
                }
                resumed.insert(s)
            }
            for e in r.edits where e.block < res.after {
                if let s = (e.sequences ?? Array(0..<n)).first(where: resumed.contains) {
                    throw bad("an edit at block \(e.block) names sequence \(s), which resumes after block \(res.after)")
                }
            }
            for b in r.captureBlocks where b < res.after {
                if let s = resumed.sorted().first(where: { !r.capturePositions[$0].isEmpty }) {
                    throw bad("block \(b) is captured for sequence \(s), which resumes after block \(res.after)")
                }
            }
        }
        let last = r.stopAfter ?? c.blockCount - 1
        for (s, cache) in caches.enumerated() {
            guard let cache else { continue }
            let first = resumed.contains(s) ? r.resume!.after + 1 : 0
            if first <= last, let l = (first...last).first(where: { !cache.holds(block: $0) }) {
                throw bad("the cache of sequence \(s) lacks block \(l)'s positions (a resumed sequence must adopt the blocks it skipped)")
            }
        }
    }
}

extension LanguageModel {
    /// Worker threads for the row-parallel and SIMD kernels (BLAS has its own): TDX_THREADS, else one per core.
    /// Set it once at start-up, before any forward pass.
    public nonisolated(unsafe) static var threads: Int = {
        if let s = ProcessInfo.processInfo.environment["TDX_THREADS"], let n = Int(s), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }()
}
