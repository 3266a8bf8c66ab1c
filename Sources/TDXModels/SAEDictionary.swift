/// A sparse autoencoder over the residual stream, in the form the forward pass needs for edits.
/// TDXAnalysis's trained SAEs convert to this; TDXModels does not depend on TDXAnalysis.
///
/// x̂ = (x − shift)·scale;  f = act((x̂ − b_dec·[subtractDecoderBias])·W_enc + b_enc);
/// x̂′ = f·W_dec + b_dec;  reconstruction x′ = x̂′/scale + shift;  error e = x − x′.
public struct SAEDictionary: Sendable, Codable {
    public enum Activation: Sendable, Equatable, Codable { case relu, topK(Int) }

    public var inputDim: Int
    public var latentCount: Int
    public var encoder: [Float]       // [inputDim × latentCount]
    public var encoderBias: [Float]   // [latentCount]
    public var decoder: [Float]       // [latentCount × inputDim]
    public var decoderBias: [Float]   // [inputDim]
    public var inputShift: [Float]?   // [inputDim]
    public var inputScale: Float
    public var subtractDecoderBias: Bool
    public var activation: Activation

    public init(inputDim: Int, latentCount: Int, encoder: [Float], encoderBias: [Float], decoder: [Float],
                decoderBias: [Float], inputShift: [Float]? = nil, inputScale: Float = 1,
                subtractDecoderBias: Bool = false, activation: Activation = .relu) {
        precondition(encoder.count == inputDim * latentCount && decoder.count == inputDim * latentCount)
        precondition(encoderBias.count == latentCount && decoderBias.count == inputDim)
        self.inputDim = inputDim; self.latentCount = latentCount
        self.encoder = encoder; self.encoderBias = encoderBias; self.decoder = decoder; self.decoderBias = decoderBias
        self.inputShift = inputShift; self.inputScale = inputScale
        self.subtractDecoderBias = subtractDecoderBias; self.activation = activation
    }

    /// Latent activations of one vector x [inputDim] → [latentCount].
    public func encode(_ x: UnsafePointer<Float>) -> [Float] {
        var xn = [Float](repeating: 0, count: inputDim)
        for i in 0..<inputDim {
            var v = x[i] - (inputShift?[i] ?? 0)
            v *= inputScale
            if subtractDecoderBias { v -= decoderBias[i] }
            xn[i] = v
        }
        var f = encoderBias
        for i in 0..<inputDim where xn[i] != 0 {
            let xi = xn[i]
            encoder.withUnsafeBufferPointer { w in
                let row = w.baseAddress! + i * latentCount
                for j in 0..<latentCount { f[j] += xi * row[j] }
            }
        }
        switch activation {
        case .relu:
            for j in 0..<latentCount where f[j] < 0 { f[j] = 0 }
        case .topK(let k):
            let keep = Set(f.indices.sorted { f[$0] > f[$1] }.prefix(k))
            for j in 0..<latentCount where !keep.contains(j) || f[j] < 0 { f[j] = 0 }
        }
        return f
    }

    /// Reconstruction x′ [inputDim] of latents f, in input (un-normalised) space.
    public func decode(_ f: [Float]) -> [Float] {
        var y = decoderBias
        for j in 0..<latentCount where f[j] != 0 { addDecoderRow(j, times: f[j], to: &y) }
        for i in 0..<inputDim { y[i] = y[i] / inputScale + (inputShift?[i] ?? 0) }
        return y
    }

    /// y += c·W_dec[j] (normalised space).
    func addDecoderRow(_ j: Int, times c: Float, to y: inout [Float]) {
        decoder.withUnsafeBufferPointer { w in
            let row = w.baseAddress! + j * inputDim
            for i in 0..<inputDim { y[i] += c * row[i] }
        }
    }
}

/// How one latent is changed by an SAE edit.
public struct LatentEdit: Sendable, Equatable, Codable {
    public enum Action: Sendable, Equatable, Codable {
        case zero
        case scale(Float)
        /// Sets the latent's activation to this value (steering "clamp").
        case clamp(Float)
    }
    public var latent: Int
    public var action: Action
    public init(latent: Int, action: Action) { self.latent = latent; self.action = action }
}
