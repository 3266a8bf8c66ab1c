import Foundation
import TDXCore

/// A memory-mapped `.safetensors` file (format code in TDXCore's `Safetensors`); tensors decode straight
/// from the mapping.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let entries: [String: Safetensors.Entry]
    let file: MappedFile
    private let header: Safetensors.Header

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        do { header = try Safetensors.parseHeader(file.bytes) } catch let e as SafetensorsError {
            switch e {
            case let .unsupportedDType(tensor, _): throw ModelError.unknownTensorType(path, tensor: tensor, type: -1)
            case let .badEntry(name), let .sizeMismatch(name): throw ModelError.badMetadata(path, name)
            case .pastEnd, .tooShort: throw ModelError.truncated(path, detail: e.reason)
            default: throw ModelError.badMagic(path, found: e.reason)
            }
        }
        entries = header.entries
    }

    public func floats(_ name: String) throws -> [Float] {
        guard let e = entries[name] else { throw ModelError.missingTensor(path, name) }
        return Safetensors.floats(e, header: header, file: file.bytes)
    }
}

extension LanguageModel {
    /// Loads a Hugging Face Llama directory: config.json, tokenizer.json, one or more *.safetensors.
    static func loadSafetensors(path: String) throws -> LanguageModel {
        var dir = URL(fileURLWithPath: path)
        if !dir.hasDirectoryPath && (path.hasSuffix(".safetensors") || path.hasSuffix(".json")) { dir.deleteLastPathComponent() }
        let fm = FileManager.default
        let files = ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else { throw ModelError.fileNotFound("\(dir.path)/*.safetensors") }
        let cfgURL = dir.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: cfgURL) else { throw ModelError.fileNotFound(cfgURL.path) }
        guard let cfg = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.badMetadata(cfgURL.path, "config.json")
        }
        let st = try files.map { try SafetensorsFile(path: dir.appendingPathComponent($0).path) }
        let weights = try LlamaWeights(safetensors: st, config: cfg, source: dir.path)
        let tok = try Tokenizer(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"))
        return LanguageModel(weights: weights, tokenizer: tok, source: dir.path)
    }
}

extension LlamaWeights {
    init(safetensors files: [SafetensorsFile], config j: [String: Any], source p: String) throws {
        let arch = (j["model_type"] as? String) ?? ((j["architectures"] as? [String])?.first ?? "?")
        guard arch == "llama" || arch == "LlamaForCausalLM" else { throw ModelError.unknownArchitecture(p, arch) }
        func int(_ k: String) throws -> Int {
            guard let v = j[k] as? Int else { throw ModelError.missingMetadata(p + "/config.json", k) }
            return v
        }
        let d = try int("hidden_size"), heads = try int("num_attention_heads")
        let kvHeads = (j["num_key_value_heads"] as? Int) ?? heads
        let hd = (j["head_dim"] as? Int) ?? d / heads
        let base = (j["rope_theta"] as? Double) ?? 10000
        var factors: [Float]?
        if let rs = j["rope_scaling"] as? [String: Any], (rs["rope_type"] ?? rs["type"]) as? String == "llama3" {
            factors = LlamaConfig.llama3FreqFactors(
                headDim: hd, base: base, factor: rs["factor"] as? Double ?? 8,
                lowFreqFactor: rs["low_freq_factor"] as? Double ?? 1, highFreqFactor: rs["high_freq_factor"] as? Double ?? 4,
                originalContext: Double(rs["original_max_position_embeddings"] as? Int ?? 8192))
        }
        var index: [String: SafetensorsFile] = [:]
        for f in files { for k in f.entries.keys { index[k] = f } }
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let f = index[name] else { throw ModelError.missingTensor(p, name) }
            let found = f.entries[name]!.shape
            guard found == shape else {
                throw ModelError.configMismatch(p, "tensor '\(name)' has shape \(found), config.json implies \(shape)")
            }
            return try f.floats(name)
        }
        let vocab = try int("vocab_size")
        let tied = (j["tie_word_embeddings"] as? Bool ?? false) || index["lm_head.weight"] == nil
        let ffn = try int("intermediate_size")
        let cfg = LlamaConfig(blockCount: try int("num_hidden_layers"), dModel: d, ffnDim: ffn, headCount: heads,
                              kvHeadCount: kvHeads, headDim: hd, vocabSize: vocab,
                              contextLength: (j["max_position_embeddings"] as? Int) ?? 8192,
                              rmsEps: Float((j["rms_norm_eps"] as? Double) ?? 1e-5), ropeBase: base,
                              ropeFreqFactors: factors, tiedEmbeddings: tied)
        var blocks: [BlockWeights] = []
        for i in 0..<cfg.blockCount {
            let b = "model.layers.\(i)."
            let q = Self.halvesToPairs(try tensor(b + "self_attn.q_proj.weight", [heads * hd, d]), heads: heads, headDim: hd, inDim: d)
            let k = Self.halvesToPairs(try tensor(b + "self_attn.k_proj.weight", [kvHeads * hd, d]), heads: kvHeads, headDim: hd, inDim: d)
            let v = try tensor(b + "self_attn.v_proj.weight", [kvHeads * hd, d])
            blocks.append(BlockWeights(
                attnNorm: try tensor(b + "input_layernorm.weight", [d]),
                wqkv: q + k + v,
                wo: try tensor(b + "self_attn.o_proj.weight", [d, heads * hd]),
                ffnNorm: try tensor(b + "post_attention_layernorm.weight", [d]),
                wGateUp: try tensor(b + "mlp.gate_proj.weight", [ffn, d]) + tensor(b + "mlp.up_proj.weight", [ffn, d]),
                wDown: try tensor(b + "mlp.down_proj.weight", [d, ffn]), config: cfg))
        }
        self.init(config: cfg, embedding: try tensor("model.embed_tokens.weight", [vocab, d]), blocks: blocks,
                  outputNorm: try tensor("model.norm.weight", [d]),
                  output: tied ? nil : try tensor("lm_head.weight", [vocab, d]))
        try validate(source: p)
    }

    /// Reorders the rows of each head from HF's rotate-halves layout (i, i + hd/2) to GGUF's adjacent
    /// pairs (2i, 2i+1), as llama.cpp's converter does, so one RoPE kernel serves both formats.
    static func halvesToPairs(_ w: [Float], heads: Int, headDim hd: Int, inDim d: Int) -> [Float] {
        var out = w
        for h in 0..<heads { for i in 0..<(hd / 2) { for half in 0..<2 {
            let src = (h * hd + half * hd / 2 + i) * d, dst = (h * hd + 2 * i + half) * d
            for j in 0..<d { out[dst + j] = w[src + j] }
        } } }
        return out
    }
}
