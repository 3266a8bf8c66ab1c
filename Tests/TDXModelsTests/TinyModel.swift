import Foundation
import XCTest
import TDXCore
@testable import TDXModels

/// Writes GGUF files (any metadata, F32 / Q8_0 / Q4_1 / Q4_K tensors) for tests.
struct GGUFWriter {
    enum Meta { case u8(UInt8), i8(Int8), u16(UInt16), i16(Int16), u32(UInt32), i32(Int32), f32(Float), bool(Bool)
        case str(String), arr([Meta]), u64(UInt64), i64(Int64), f64(Double) }
    struct Tensor { var name: String; var dims: [Int]; var type: Int; var data: [UInt8] }

    var meta: [(String, Meta)] = []
    var tensors: [Tensor] = []
    var alignment = 32
    var magic = Array("GGUF".utf8)

    func bytes() -> [UInt8] {
        var b = magic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func str(_ s: String) { put(UInt64(s.utf8.count)); b += Array(s.utf8) }
        func typeID(_ m: Meta) -> UInt32 {
            switch m { case .u8: 0; case .i8: 1; case .u16: 2; case .i16: 3; case .u32: 4; case .i32: 5; case .f32: 6
            case .bool: 7; case .str: 8; case .arr: 9; case .u64: 10; case .i64: 11; case .f64: 12 }
        }
        func value(_ m: Meta) {
            switch m {
            case .u8(let v): put(v); case .i8(let v): put(v); case .u16(let v): put(v); case .i16(let v): put(v)
            case .u32(let v): put(v); case .i32(let v): put(v); case .f32(let v): put(v.bitPattern)
            case .bool(let v): put(UInt8(v ? 1 : 0)); case .str(let s): str(s)
            case .arr(let a): put(typeID(a.first ?? .u8(0))); put(UInt64(a.count)); a.forEach(value)
            case .u64(let v): put(v); case .i64(let v): put(v); case .f64(let v): put(v.bitPattern)
            }
        }
        put(UInt32(3)); put(UInt64(tensors.count)); put(UInt64(meta.count))
        for (k, m) in meta { str(k); put(typeID(m)); value(m) }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset = (offset + t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, off) in zip(tensors, offsets) {
            str(t.name); put(UInt32(t.dims.count)); t.dims.forEach { put(UInt64($0)) }; put(UInt32(t.type)); put(UInt64(off))
        }
        while b.count % alignment != 0 { b.append(0) }
        let start = b.count
        for (t, off) in zip(tensors, offsets) {
            while b.count < start + off { b.append(0) }
            b += t.data
        }
        return b
    }

    // MARK: quantisers (simple round-to-nearest; the tests compare against the dequantised values)

    static func f16(_ x: Float) -> [UInt8] { withUnsafeBytes(of: Float16(x).bitPattern.littleEndian) { Array($0) } }

    static func encode(_ w: [Float], as type: GGMLType) -> [UInt8] {
        var out: [UInt8] = []
        switch type {
        case .f32: for v in w { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        case .q8_0:
            for b in stride(from: 0, to: w.count, by: 32) {
                let blk = w[b..<(b + 32)], amax = blk.map(abs).max()!
                let d = Float(Float16(amax / 127)), inv: Float = d == 0 ? 0 : 1 / d
                out += f16(d)
                for v in blk { out.append(UInt8(bitPattern: Int8(max(-127, min(127, (v * inv).rounded()))))) }
            }
        case .q4_1:
            for b in stride(from: 0, to: w.count, by: 32) {
                let blk = Array(w[b..<(b + 32)]), mn = blk.min()!, mx = blk.max()!
                let d = Float(Float16((mx - mn) / 15)), m = Float(Float16(mn)), inv: Float = d == 0 ? 0 : 1 / d
                out += f16(d) + f16(m)
                let q = blk.map { UInt8(max(0, min(15, (($0 - m) * inv).rounded()))) }
                for j in 0..<16 { out.append(q[j] | q[j + 16] << 4) }
            }
        case .q4_K:
            for b in stride(from: 0, to: w.count, by: 256) {
                let sb = Array(w[b..<(b + 256)])
                var scale = [Float](repeating: 0, count: 8), minv = scale
                for j in 0..<8 {
                    let s = sb[(j * 32)..<(j * 32 + 32)]
                    let lo = min(0, s.min()!), hi = s.max()!
                    scale[j] = (hi - lo) / 15; minv[j] = -lo
                }
                let d = Float(Float16(scale.max()! / 63)), dmin = Float(Float16(minv.max()! / 63))
                let sc = scale.map { UInt8(d == 0 ? 0 : max(0, min(63, ($0 / d).rounded()))) }
                let mq = minv.map { UInt8(dmin == 0 ? 0 : max(0, min(63, ($0 / dmin).rounded()))) }
                var scales = [UInt8](repeating: 0, count: 12)
                for j in 0..<4 {
                    scales[j] = sc[j] & 63 | (sc[j + 4] >> 4) << 6
                    scales[j + 4] = mq[j] & 63 | (mq[j + 4] >> 4) << 6
                    scales[j + 8] = sc[j + 4] & 15 | (mq[j + 4] & 15) << 4
                }
                var q = [UInt8](repeating: 0, count: 256)
                for j in 0..<8 {
                    let dd = d * Float(sc[j]), mm = dmin * Float(mq[j])
                    for l in 0..<32 {
                        q[j * 32 + l] = dd == 0 ? 0 : UInt8(max(0, min(15, ((sb[j * 32 + l] + mm) / dd).rounded())))
                    }
                }
                out += f16(d) + f16(dmin) + scales
                for c in 0..<4 { for l in 0..<32 { out.append(q[2 * c * 32 + l] | q[(2 * c + 1) * 32 + l] << 4) } }
            }
        default: fatalError("no test encoder for \(type)")
        }
        return out
    }

    static func decoded(_ w: [Float], as type: GGMLType) -> [Float] {
        let raw = encode(w, as: type)
        var out = [Float](repeating: 0, count: w.count)
        raw.withUnsafeBytes { r in out.withUnsafeMutableBufferPointer { Dequantize.run(type, r, into: $0.baseAddress!, count: w.count) } }
        return out
    }
}

/// A tiny random-weight Llama (2 blocks, d 256, GQA 8/2 heads of 32, FFN 256, vocab 300) written in
/// several formats with identical effective f32 weights.
struct TinyModel {
    static let config = LlamaConfig(blockCount: 2, dModel: 256, ffnDim: 256, headCount: 8, kvHeadCount: 2, headDim: 32,
                                    vocabSize: 300, contextLength: 512, rmsEps: 1e-5, ropeBase: 10000, tiedEmbeddings: false)

    /// GGUF-layout tensors: name → (ggml dims, row-major values).
    var tensors: [(name: String, dims: [Int], values: [Float])] = []
    /// Pre-quantisation values, re-encoded when the file is written in `quantType` itself.
    var originals: [String: [Float]] = [:]
    let quantType: GGMLType
    var tokens: [String] = []
    var merges: [String] = []

    init(seed: UInt64, quantizedAs type: GGMLType) {
        quantType = type
        var rng = SeededRNG(seed: seed)
        let c = Self.config
        func mat(_ ne0: Int, _ ne1: Int, _ std: Float) -> [Float] {
            (0..<(ne0 * ne1)).map { _ in Float(rng.normal()) * std }
        }
        func norm(_ n: Int) -> [Float] { (0..<n).map { _ in 1 + 0.1 * Float(rng.normal()) } }
        let d = c.dModel, hd = c.headDim
        func add(_ name: String, _ dims: [Int], _ v: [Float], quantize: Bool = true) {
            tensors.append((name, dims, quantize ? GGUFWriter.decoded(v, as: type) : v))
            originals[name] = v
        }
        add("token_embd.weight", [d, c.vocabSize], mat(d, c.vocabSize, 1))
        for i in 0..<c.blockCount {
            let b = "blk.\(i)."
            add(b + "attn_norm.weight", [d], norm(d), quantize: false)
            add(b + "attn_q.weight", [d, c.headCount * hd], mat(d, c.headCount * hd, 0.08))
            add(b + "attn_k.weight", [d, c.kvHeadCount * hd], mat(d, c.kvHeadCount * hd, 0.08))
            add(b + "attn_v.weight", [d, c.kvHeadCount * hd], mat(d, c.kvHeadCount * hd, 0.08))
            add(b + "attn_output.weight", [c.headCount * hd, d], mat(c.headCount * hd, d, 0.05))
            add(b + "ffn_norm.weight", [d], norm(d), quantize: false)
            add(b + "ffn_gate.weight", [d, c.ffnDim], mat(d, c.ffnDim, 0.08))
            add(b + "ffn_up.weight", [d, c.ffnDim], mat(d, c.ffnDim, 0.08))
            add(b + "ffn_down.weight", [c.ffnDim, d], mat(c.ffnDim, d, 0.05))
        }
        add("output_norm.weight", [d], norm(d), quantize: false)
        add("output.weight", [d, c.vocabSize], mat(d, c.vocabSize, 0.08))
        // Byte-level vocabulary: 256 byte tokens, a few merges, two control tokens.
        tokens = Tokenizer.byteChar.map { String($0) }
        for pair in ["Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "Ġ s", "e n", "a t"] {
            merges.append(pair); tokens.append(pair.replacingOccurrences(of: " ", with: ""))
        }
        while tokens.count < c.vocabSize - 2 { tokens.append("<unused\(tokens.count)>") }
        tokens += ["<s>", "</s>"]
    }

    func value(_ name: String) -> [Float] { tensors.first { $0.name == name }!.values }

    /// A GGUF with matrices stored as `type` (norms F32). `drop` / `override` build broken files.
    func gguf(_ type: GGMLType, architecture: String = "llama", drop: String? = nil,
              dims override: [String: [Int]] = [:], tensorType: [String: Int] = [:]) -> [UInt8] {
        let c = Self.config
        var w = GGUFWriter()
        w.alignment = 64
        w.meta = [("general.architecture", .str(architecture)), ("general.alignment", .u32(64)),
                  ("llama.block_count", .u32(UInt32(c.blockCount))), ("llama.embedding_length", .u32(UInt32(c.dModel))),
                  ("llama.feed_forward_length", .u32(UInt32(c.ffnDim))), ("llama.attention.head_count", .u32(UInt32(c.headCount))),
                  ("llama.attention.head_count_kv", .u32(UInt32(c.kvHeadCount))), ("llama.context_length", .u32(512)),
                  ("llama.attention.layer_norm_rms_epsilon", .f32(c.rmsEps)), ("llama.rope.freq_base", .f32(10000)),
                  ("tokenizer.ggml.model", .str("gpt2")), ("tokenizer.ggml.pre", .str("gpt-2")),
                  ("tokenizer.ggml.tokens", .arr(tokens.map { .str($0) })),
                  ("tokenizer.ggml.token_type", .arr(tokens.indices.map { .i32($0 >= tokens.count - 2 ? 3 : 1) })),
                  ("tokenizer.ggml.merges", .arr(merges.map { .str($0) })),
                  ("tokenizer.ggml.bos_token_id", .u32(UInt32(tokens.count - 2))),
                  ("tokenizer.ggml.eos_token_id", .u32(UInt32(tokens.count - 1)))]
        for t in tensors where t.name != drop {
            let ty: GGMLType = t.dims.count == 1 ? .f32 : type
            w.tensors.append(.init(name: t.name, dims: override[t.name] ?? t.dims, type: tensorType[t.name] ?? ty.rawValue,
                                   data: GGUFWriter.encode(ty == quantType ? originals[t.name]! : t.values, as: ty)))
        }
        return w.bytes()
    }

    /// A Hugging Face directory: config.json, tokenizer.json, model.safetensors (Q/K rows in HF halves layout).
    func writeSafetensors(to dir: URL, hiddenSize: Int? = nil) throws {
        let c = Self.config
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func pairsToHalves(_ w: [Float], heads: Int) -> [Float] {
            var out = w
            let hd = c.headDim, d = c.dModel
            for h in 0..<heads { for i in 0..<(hd / 2) { for half in 0..<2 {
                let hf = (h * hd + half * hd / 2 + i) * d, gg = (h * hd + 2 * i + half) * d
                for j in 0..<d { out[hf + j] = w[gg + j] }
            } } }
            return out
        }
        var entries: [(String, [Int], [Float])] = [
            ("model.embed_tokens.weight", [c.vocabSize, c.dModel], value("token_embd.weight")),
            ("model.norm.weight", [c.dModel], value("output_norm.weight")),
            ("lm_head.weight", [c.vocabSize, c.dModel], value("output.weight")),
        ]
        for i in 0..<c.blockCount {
            let g = "blk.\(i).", h = "model.layers.\(i)."
            entries += [
                (h + "input_layernorm.weight", [c.dModel], value(g + "attn_norm.weight")),
                (h + "self_attn.q_proj.weight", [c.headCount * c.headDim, c.dModel], pairsToHalves(value(g + "attn_q.weight"), heads: c.headCount)),
                (h + "self_attn.k_proj.weight", [c.kvHeadCount * c.headDim, c.dModel], pairsToHalves(value(g + "attn_k.weight"), heads: c.kvHeadCount)),
                (h + "self_attn.v_proj.weight", [c.kvHeadCount * c.headDim, c.dModel], value(g + "attn_v.weight")),
                (h + "self_attn.o_proj.weight", [c.dModel, c.headCount * c.headDim], value(g + "attn_output.weight")),
                (h + "post_attention_layernorm.weight", [c.dModel], value(g + "ffn_norm.weight")),
                (h + "mlp.gate_proj.weight", [c.ffnDim, c.dModel], value(g + "ffn_gate.weight")),
                (h + "mlp.up_proj.weight", [c.ffnDim, c.dModel], value(g + "ffn_up.weight")),
                (h + "mlp.down_proj.weight", [c.dModel, c.ffnDim], value(g + "ffn_down.weight")),
            ]
        }
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var data: [UInt8] = []
        for (name, shape, v) in entries {
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [data.count, data.count + v.count * 4]]
            for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { data += $0 } }
        }
        let h = try JSONSerialization.data(withJSONObject: header)
        var file: [UInt8] = []
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { file += $0 }
        file += h + data
        try Data(file).write(to: dir.appendingPathComponent("model.safetensors"))
        let cfg: [String: Any] = ["model_type": "llama", "hidden_size": hiddenSize ?? c.dModel, "intermediate_size": c.ffnDim,
                                  "num_attention_heads": c.headCount, "num_key_value_heads": c.kvHeadCount,
                                  "num_hidden_layers": c.blockCount, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                                  "vocab_size": c.vocabSize, "max_position_embeddings": 512, "tie_word_embeddings": false]
        try JSONSerialization.data(withJSONObject: cfg).write(to: dir.appendingPathComponent("config.json"))
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where i < tokens.count - 2 { vocab[t] = i }
        let tj: [String: Any] = [
            "model": ["type": "BPE", "vocab": vocab, "merges": merges],
            "added_tokens": [["id": tokens.count - 2, "content": "<s>", "special": true],
                             ["id": tokens.count - 1, "content": "</s>", "special": true]],
            "pre_tokenizer": ["type": "ByteLevel"],
        ]
        try JSONSerialization.data(withJSONObject: tj).write(to: dir.appendingPathComponent("tokenizer.json"))
    }
}

func temporaryDirectory() -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("tdx-models-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

extension XCTestCase {
    /// A fresh directory removed when the test ends.
    func scratchDirectory() -> URL {
        let u = temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: u) }
        return u
    }
}
