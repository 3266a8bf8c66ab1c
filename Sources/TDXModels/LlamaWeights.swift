import Foundation

/// Dequantised f32 weights of one transformer block. Matrices are row-major [out × in].
public struct BlockWeights: Sendable {
    public var attnNorm: [Float]   // [d]
    public var wqkv: PackedMatrix     // [(H + 2·KV)·hd × d]: q rows, then k rows, then v rows
    public var wo: PackedMatrix       // [d × H·hd]
    public var ffnNorm: [Float]       // [d]
    public var wGateUp: PackedMatrix  // [2F × d]: gate rows, then up rows
    public var wDown: PackedMatrix    // [d × F]

    /// Matrices given row-major [out × in]; packed for the SIMD kernel when that is the faster path.
    public init(attnNorm: [Float], wqkv: [Float], wo: [Float], ffnNorm: [Float], wGateUp: [Float], wDown: [Float],
                config c: LlamaConfig) {
        self.attnNorm = attnNorm
        self.wqkv = PackedMatrix(rowMajor: wqkv, outDim: c.qkvDim, inDim: c.dModel)
        self.wo = PackedMatrix(rowMajor: wo, outDim: c.dModel, inDim: c.headCount * c.headDim)
        self.ffnNorm = ffnNorm
        self.wGateUp = PackedMatrix(rowMajor: wGateUp, outDim: 2 * c.ffnDim, inDim: c.dModel)
        self.wDown = PackedMatrix(rowMajor: wDown, outDim: c.dModel, inDim: c.ffnDim)
    }
}

/// All weights of a Llama-family model in f32. Q and K rows are in GGUF order (RoPE on adjacent pairs);
/// loaders of Hugging Face files permute them into that order.
public struct LlamaWeights: Sendable {
    public var config: LlamaConfig
    public var embedding: [Float]      // [V × d]
    public var blocks: [BlockWeights]
    public var outputNorm: [Float]     // [d]
    public var output: [Float]?        // [V × d]; nil when tied to the embedding

    /// Checks every buffer's length against the config.
    func validate(source: String) throws {
        let c = config
        func check(_ name: String, _ m: PackedMatrix, _ shape: [Int]) throws {
            guard [m.outDim, m.inDim] == shape else {
                throw ModelError.shapeMismatch(source, tensor: name, expected: shape, found: [m.outDim, m.inDim])
            }
        }
        func check(_ name: String, _ a: [Float], _ shape: [Int]) throws {
            guard a.count == shape.reduce(1, *) else {
                throw ModelError.shapeMismatch(source, tensor: name, expected: shape, found: [a.count])
            }
        }
        try check("token_embd", embedding, [c.vocabSize, c.dModel])
        try check("output_norm", outputNorm, [c.dModel])
        if let o = output { try check("output", o, [c.vocabSize, c.dModel]) }
        guard blocks.count == c.blockCount else { throw ModelError.missingTensor(source, "blk.\(blocks.count)") }
        for (i, b) in blocks.enumerated() {
            try check("blk.\(i).attn_norm", b.attnNorm, [c.dModel])
            try check("blk.\(i).attn_qkv", b.wqkv, [c.qkvDim, c.dModel])
            try check("blk.\(i).attn_output", b.wo, [c.dModel, c.headCount * c.headDim])
            try check("blk.\(i).ffn_norm", b.ffnNorm, [c.dModel])
            try check("blk.\(i).ffn_gate_up", b.wGateUp, [2 * c.ffnDim, c.dModel])
            try check("blk.\(i).ffn_down", b.wDown, [c.dModel, c.ffnDim])
        }
    }
}

extension LlamaWeights {
    /// Loads a Llama-architecture GGUF, dequantising every tensor to f32 once.
    public init(gguf g: GGUFFile) throws {
        let p = g.path
        guard let arch = g.string("general.architecture") else { throw ModelError.missingMetadata(p, "general.architecture") }
        guard arch == "llama" else { throw ModelError.unknownArchitecture(p, arch) }
        func int(_ k: String) throws -> Int {
            guard let v = g.int("\(arch).\(k)") else { throw ModelError.missingMetadata(p, "\(arch).\(k)") }
            return v
        }
        let d = try int("embedding_length"), heads = try int("attention.head_count")
        let kvHeads = g.int("\(arch).attention.head_count_kv") ?? heads
        let hd = g.int("\(arch).attention.key_length") ?? d / heads
        guard let emb = g.info("token_embd.weight") else { throw ModelError.missingTensor(p, "token_embd.weight") }
        guard emb.dims.count == 2, emb.dims[0] == d else {
            throw ModelError.shapeMismatch(p, tensor: "token_embd.weight", expected: [d, g.int("\(arch).vocab_size") ?? 0], found: emb.dims)
        }
        let vocab = emb.dims[1]
        if let rot = g.int("\(arch).rope.dimension_count"), rot != hd {
            throw ModelError.badMetadata(p, "\(arch).rope.dimension_count (partial rotary embeddings are not supported)")
        }
        let ffn = try int("feed_forward_length")
        let freqs: [Float]? = g.info("rope_freqs.weight") != nil ? try g.floats("rope_freqs.weight", dims: [hd / 2]) : nil
        let cfg = LlamaConfig(
            blockCount: try int("block_count"), dModel: d, ffnDim: ffn, headCount: heads, kvHeadCount: kvHeads,
            headDim: hd, vocabSize: vocab, contextLength: g.int("\(arch).context_length") ?? 8192,
            rmsEps: Float(g.double("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeBase: g.double("\(arch).rope.freq_base") ?? 10000, ropeFreqFactors: freqs,
            tiedEmbeddings: g.info("output.weight") == nil)
        var blocks: [BlockWeights] = []
        for i in 0..<cfg.blockCount {
            let b = "blk.\(i)."
            let q = try g.floats(b + "attn_q.weight", dims: [d, heads * hd])
            let k = try g.floats(b + "attn_k.weight", dims: [d, kvHeads * hd])
            let v = try g.floats(b + "attn_v.weight", dims: [d, kvHeads * hd])
            let gate = try g.floats(b + "ffn_gate.weight", dims: [d, ffn])
            let up = try g.floats(b + "ffn_up.weight", dims: [d, ffn])
            blocks.append(BlockWeights(
                attnNorm: try g.floats(b + "attn_norm.weight", dims: [d]),
                wqkv: q + k + v,
                wo: try g.floats(b + "attn_output.weight", dims: [heads * hd, d]),
                ffnNorm: try g.floats(b + "ffn_norm.weight", dims: [d]),
                wGateUp: gate + up,
                wDown: try g.floats(b + "ffn_down.weight", dims: [ffn, d]), config: cfg))
        }
        self.init(config: cfg, embedding: try g.floats("token_embd.weight"), blocks: blocks,
                  outputNorm: try g.floats("output_norm.weight", dims: [d]),
                  output: cfg.tiedEmbeddings ? nil : try g.floats("output.weight", dims: [d, vocab]))
        try validate(source: p)
    }
}
