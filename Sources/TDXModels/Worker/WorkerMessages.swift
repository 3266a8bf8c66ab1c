/// Header types of tdx worker protocol v1 (PROTOCOL.md next to this file). Each request and response is
/// one JSON object; float arrays travel in the binary payload after it and are referenced by `PayloadRef`.
public enum WorkerProtocol {
    public static let version = 1
}

/// Where one float32 array lies in a message's payload: byte offset (a multiple of 4) and float count.
public struct PayloadRef: Sendable, Codable, Equatable {
    public var offset: Int
    public var count: Int
    public init(offset: Int, count: Int) { self.offset = offset; self.count = count }
}

/// A request header. `id` is assigned by `WorkerProcess` when the request is sent.
public protocol WorkerRequestHeader: Codable, Sendable {
    static var opName: String { get }
    var id: Int { get set }
}

// MARK: requests

public struct WorkerHelloRequest: WorkerRequestHeader, Equatable {
    public static let opName = "hello"
    public var id = 0
    public var op = "hello"
    public var protocolVersion = WorkerProtocol.version
    public init() {}
    enum CodingKeys: String, CodingKey { case id, op, protocolVersion = "protocol" }
}

public struct WorkerLoadRequest: WorkerRequestHeader, Equatable {
    public static let opName = "load"
    public var id = 0
    public var op = "load"
    /// A local path or a hub id.
    public var model: String
    /// Empty: the default revision.
    public var revision: String
    /// "float32", "float16", "bfloat16" or "auto".
    public var dtype: String
    /// Run on a remote service (NDIF) instead of locally.
    public var remote: Bool
    public init(model: String, revision: String = "", dtype: String = "auto", remote: Bool = false) {
        self.model = model; self.revision = revision; self.dtype = dtype; self.remote = remote
    }
    enum CodingKeys: String, CodingKey { case id, op, model, revision, dtype, remote }
}

public struct WorkerTokenizeRequest: WorkerRequestHeader, Equatable {
    public static let opName = "tokenize"
    public var id = 0
    public var op = "tokenize"
    public var text: String
    public var addSpecial: Bool
    public init(text: String, addSpecial: Bool) { self.text = text; self.addSpecial = addSpecial }
    enum CodingKeys: String, CodingKey { case id, op, text, addSpecial = "add_special" }
}

/// Registers an SAE dictionary under `handle`; the arrays are in the payload.
public struct WorkerSAERequest: WorkerRequestHeader, Equatable {
    public static let opName = "sae"
    public var id = 0
    public var op = "sae"
    public var handle: String
    public var dIn: Int
    public var width: Int
    public var inputScale: Float
    public var subtractDecoderBias: Bool
    /// "relu" or "topk:K".
    public var activation: String
    public var encoder: PayloadRef        // [d_in × width]
    public var encoderBias: PayloadRef    // [width]
    public var decoder: PayloadRef        // [width × d_in]
    public var decoderBias: PayloadRef    // [d_in]
    public var inputShift: PayloadRef?    // [d_in]; absent: no shift
    public var payloadBytes: Int
    enum CodingKeys: String, CodingKey {
        case id, op, handle, dIn = "d_in", width, inputScale = "input_scale", subtractDecoderBias = "subtract_decoder_bias"
        case activation, encoder, encoderBias = "encoder_bias", decoder, decoderBias = "decoder_bias"
        case inputShift = "input_shift", payloadBytes = "payload_bytes"
    }

    /// The header and payload registering `sae` under `handle`.
    public static func make(handle: String, sae: SAEDictionary) -> (WorkerSAERequest, WorkerPayload) {
        var p = WorkerPayload()
        let enc = p.append(sae.encoder), encB = p.append(sae.encoderBias)
        let dec = p.append(sae.decoder), decB = p.append(sae.decoderBias)
        let shift = sae.inputShift.map { p.append($0) }
        let activation: String
        switch sae.activation {
        case .relu: activation = "relu"
        case .topK(let k): activation = "topk:\(k)"
        }
        let r = WorkerSAERequest(handle: handle, dIn: sae.inputDim, width: sae.latentCount, inputScale: sae.inputScale,
                                 subtractDecoderBias: sae.subtractDecoderBias, activation: activation,
                                 encoder: enc, encoderBias: encB, decoder: dec, decoderBias: decB, inputShift: shift,
                                 payloadBytes: p.byteCount)
        return (r, p)
    }
}

/// One latent change of an `sae_latents` edit: action "zero", "scale" (value = factor) or "clamp" (value = new activation).
public struct WorkerLatentEdit: Sendable, Codable, Equatable {
    public var latent: Int
    public var action: String
    public var value: Float?
    public init(latent: Int, action: String, value: Float? = nil) { self.latent = latent; self.action = action; self.value = value }

    public init(_ e: LatentEdit) {
        switch e.action {
        case .zero: self.init(latent: e.latent, action: "zero")
        case .scale(let k): self.init(latent: e.latent, action: "scale", value: k)
        case .clamp(let v): self.init(latent: e.latent, action: "clamp", value: v)
        }
    }
}

/// A residual-stream edit as it travels: `sequences` is always written (null = every sequence).
public struct WorkerEdit: Sendable, Codable, Equatable {
    public enum Operation: Sendable, Equatable {
        case add(PayloadRef)
        case saeReconstruct(handle: String)
        case saeLatents(handle: String, [WorkerLatentEdit])
    }
    public var block: Int
    public var sequences: [Int]?
    public var positions: [Int]
    public var operation: Operation

    public init(block: Int, sequences: [Int]?, positions: [Int], operation: Operation) {
        self.block = block; self.sequences = sequences; self.positions = positions; self.operation = operation
    }

    enum CodingKeys: String, CodingKey { case block, sequences, positions, op, vector, sae, latents }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        block = try c.decode(Int.self, forKey: .block)
        sequences = try c.decodeIfPresent([Int].self, forKey: .sequences)
        positions = try c.decode([Int].self, forKey: .positions)
        let op = try c.decode(String.self, forKey: .op)
        switch op {
        case "add": operation = .add(try c.decode(PayloadRef.self, forKey: .vector))
        case "sae_reconstruct": operation = .saeReconstruct(handle: try c.decode(String.self, forKey: .sae))
        case "sae_latents":
            operation = .saeLatents(handle: try c.decode(String.self, forKey: .sae),
                                    try c.decode([WorkerLatentEdit].self, forKey: .latents))
        default:
            throw DecodingError.dataCorruptedError(forKey: .op, in: c, debugDescription: "unknown edit op '\(op)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(block, forKey: .block)
        try c.encode(sequences, forKey: .sequences)   // explicit null
        try c.encode(positions, forKey: .positions)
        switch operation {
        case .add(let v):
            try c.encode("add", forKey: .op); try c.encode(v, forKey: .vector)
        case .saeReconstruct(let h):
            try c.encode("sae_reconstruct", forKey: .op); try c.encode(h, forKey: .sae)
        case .saeLatents(let h, let l):
            try c.encode("sae_latents", forKey: .op); try c.encode(h, forKey: .sae); try c.encode(l, forKey: .latents)
        }
    }
}

public struct WorkerForwardRequest: WorkerRequestHeader, Equatable {
    public static let opName = "forward"
    public var id = 0
    public var op = "forward"
    public var sequences: [[Int]]
    public var logitPositions: [[Int]]
    public var captureBlocks: [Int]
    public var capturePositions: [[Int]]
    public var edits: [WorkerEdit]
    /// Absent when no edit carries a vector.
    public var payloadBytes: Int?
    public init(sequences: [[Int]], logitPositions: [[Int]], captureBlocks: [Int], capturePositions: [[Int]],
                edits: [WorkerEdit], payloadBytes: Int?) {
        self.sequences = sequences; self.logitPositions = logitPositions; self.captureBlocks = captureBlocks
        self.capturePositions = capturePositions; self.edits = edits; self.payloadBytes = payloadBytes
    }
    enum CodingKeys: String, CodingKey {
        case id, op, sequences, logitPositions = "logit_positions", captureBlocks = "capture_blocks"
        case capturePositions = "capture_positions", edits, payloadBytes = "payload_bytes"
    }
}

public struct WorkerCloseRequest: WorkerRequestHeader, Equatable {
    public static let opName = "close"
    public var id = 0
    public var op = "close"
    public init() {}
    enum CodingKeys: String, CodingKey { case id, op }
}

// MARK: responses

/// The fields every response has; read first to check the id and whether it failed.
public struct WorkerEnvelope: Sendable, Codable, Equatable {
    public var id: Int
    public var ok: Bool
    public var error: WorkerFailure?
    public var payloadBytes: Int?
    enum CodingKeys: String, CodingKey { case id, ok, error, payloadBytes = "payload_bytes" }
}

/// The `error` object of an `ok: false` response.
public struct WorkerFailure: Sendable, Codable, Equatable {
    public var code: String
    public var message: String
    public var help: String?
    public init(code: String, message: String, help: String? = nil) { self.code = code; self.message = message; self.help = help }
}

public struct WorkerHelloResponse: Sendable, Codable, Equatable {
    public var protocolVersion: Int
    public var worker: String
    public var workerVersion: String?
    public var capabilities: [String]?
    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", worker, workerVersion = "worker_version", capabilities }
}

/// Architecture facts a worker reports after `load`. `blocks`, `d_model` and `vocab` (the width of the
/// logits) are required; the rest default as `LlamaConfig` needs.
public struct WorkerModelConfig: Sendable, Codable, Equatable {
    public var blocks: Int
    public var dModel: Int
    public var vocab: Int
    public var heads: Int?
    public var kvHeads: Int?
    public var ffn: Int?
    public var context: Int?
    enum CodingKeys: String, CodingKey { case blocks, dModel = "d_model", vocab, heads, kvHeads = "kv_heads", ffn, context }

    /// A `LlamaConfig` with the reported sizes; fields no worker reports (norm epsilon, RoPE) take Llama defaults,
    /// which tdx uses only for display and parameter counts.
    public var llamaConfig: LlamaConfig {
        let h = max(heads ?? 1, 1)
        return LlamaConfig(blockCount: blocks, dModel: dModel, ffnDim: ffn ?? 4 * dModel, headCount: h,
                           kvHeadCount: kvHeads ?? h, headDim: dModel / h, vocabSize: vocab,
                           contextLength: context ?? 8192, tiedEmbeddings: false)
    }
}

public struct WorkerLoadResponse: Sendable, Codable, Equatable {
    public var modelID: String
    public var revision: String?
    public var dtype: String
    public var config: WorkerModelConfig
    public var bos: Int?
    public var addBOS: Bool?
    enum CodingKeys: String, CodingKey { case modelID = "model_id", revision, dtype, config, bos, addBOS = "add_bos" }
}

public struct WorkerTokenizeResponse: Sendable, Codable, Equatable {
    public var ids: [Int]
    /// UTF-8 bytes of the text each token covers (0 for an added special token).
    public var lengths: [Int]
}

public struct WorkerForwardResponse: Sendable, Codable, Equatable {
    /// Per sequence: [logit_positions[s].count × vocab].
    public var logits: [PayloadRef]
    /// Per sequence: [capture_blocks.count × capture_positions[s].count × d_model].
    public var residuals: [PayloadRef]
    public var payloadBytes: Int?
    enum CodingKeys: String, CodingKey { case logits, residuals, payloadBytes = "payload_bytes" }
}
