import TDXCore
import TDXNumerics

/// The four trainable tensors of an SAE (also used for their gradients). Layout as SAELens stores them:
/// `wEnc` d_in × d_sae, `bEnc` d_sae, `wDec` d_sae × d_in (row k is latent k's decoder direction), `bDec` d_in.
public struct SAEParameters: Sendable, Equatable {
    public var wEnc: [Float]
    public var bEnc: [Float]
    public var wDec: [Float]
    public var bDec: [Float]

    public init(dIn: Int, dSAE: Int) {
        wEnc = .init(repeating: 0, count: dIn * dSAE); bEnc = .init(repeating: 0, count: dSAE)
        wDec = .init(repeating: 0, count: dSAE * dIn); bDec = .init(repeating: 0, count: dIn)
    }

    public init(wEnc: [Float], bEnc: [Float], wDec: [Float], bDec: [Float]) {
        self.wEnc = wEnc; self.bEnc = bEnc; self.wDec = wDec; self.bDec = bDec
    }
}

/// Loss terms of one batch, each a mean over samples.
public struct SAELoss: Sendable, Equatable {
    /// mean ‖x̃ − x̂‖².
    public var mse: Double
    /// mean ‖h‖₁.
    public var l1: Double
    /// mse + β · l1.
    public var total: Double
}

/// A sparse autoencoder: x̃ = normalise(x), h = act(x̃ W_enc + b_enc), x̂ = h W_dec + b_dec (SCIENCE.md §5).
public struct SparseAutoencoder: Sendable {
    public var config: SAEConfig
    public var normaliser: SAENormaliser
    public var params: SAEParameters

    public var dIn: Int { config.dIn }
    public var dSAE: Int { config.dSAE }

    public init(config: SAEConfig, normaliser: SAENormaliser, params: SAEParameters) {
        precondition(normaliser.mean.count == config.dIn)
        precondition(params.wEnc.count == config.dIn * config.dSAE && params.wDec.count == config.dIn * config.dSAE)
        self.config = config; self.normaliser = normaliser; self.params = params
    }

    /// Fresh weights: unit-norm random decoder rows; the encoder is their transpose or drawn independently.
    public init(config: SAEConfig, normaliser: SAENormaliser, rng: inout SeededRNG) {
        let (d, s) = (config.dIn, config.dSAE)
        var p = SAEParameters(dIn: d, dSAE: s)
        p.wDec = Tensor.randomNormal(shape: [s, d], std: 1, rng: &rng).data
        p.wDec.withUnsafeMutableBufferPointer { Kernels.normaliseRows($0.baseAddress!, rows: s, cols: d) }
        if config.initDecoderFromEncoder {
            p.wEnc = Tensor(shape: [s, d], data: p.wDec).transposed().data
        } else {
            // Kaiming-uniform, as torch's default Linear init.
            let bound = 1 / Float(d).squareRoot()
            p.wEnc = Tensor.randomUniform(shape: [d, s], lo: -bound, hi: bound, rng: &rng).data
        }
        self.init(config: config, normaliser: normaliser, params: p)
    }

    // MARK: inference API (also used by interventions)

    /// Latent activations h (rows × d_sae) of raw activations x (rows × d_in).
    public func encode(_ x: [Float], rows: Int) -> [Float] {
        var xn = x
        xn.withUnsafeMutableBufferPointer { normaliser.apply($0.baseAddress!, rows: rows) }
        return encode(normalised: xn, rows: rows)
    }

    /// Latent activations of already-normalised inputs.
    public func encode(normalised x: [Float], rows: Int) -> [Float] {
        precondition(x.count == rows * dIn)
        var h = [Float](repeating: 0, count: rows * dSAE)
        x.withUnsafeBufferPointer { xp in h.withUnsafeMutableBufferPointer { hp in
            _ = encodeInto(xp.baseAddress!, rows: rows, h: hp.baseAddress!)
        } }
        return h
    }

    /// x̂ in normalised space from latents h (rows × d_sae).
    public func decode(_ h: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * dIn)
        BLAS.sgemm(.none, .none, m: rows, n: dIn, k: dSAE, a: h, b: params.wDec, c: &out)
        params.bDec.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer {
            Kernels.addBias($0.baseAddress!, rows: rows, cols: dIn, bias: b.baseAddress!)
        } }
        return out
    }

    /// Full reconstruction of raw activations, mapped back to activation space.
    public func reconstruct(_ x: [Float], rows: Int) -> [Float] {
        var out = decode(encode(x, rows: rows), rows: rows)
        normaliser.invert(&out, rows: rows)
        return out
    }

    /// What latent k at activation `value` adds to the reconstruction, in raw activation space:
    /// value · W_dec[k, :] ⊙ scale. Editing latent k from h to h′ changes x by contribution(h′) − contribution(h).
    public func decoderContribution(latent k: Int, activation value: Float) -> [Float] {
        (0..<dIn).map { j in value * params.wDec[k * dIn + j] * normaliser.scale[j] }
    }

    /// h = act(x̃ W_enc + b_enc) written to `h`; returns Σ h.
    @discardableResult
    func encodeInto(_ x: ConstFloatPtr, rows: Int, h: FloatPtr) -> Double {
        params.wEnc.withUnsafeBufferPointer { w in
            BLAS.sgemm(.none, .none, m: rows, n: dSAE, k: dIn, a: x, lda: dIn, b: w.baseAddress!, ldb: dSAE,
                       c: h, ldc: dSAE)
        }
        var l1 = params.bEnc.withUnsafeBufferPointer { Kernels.addBiasReLU(h, rows: rows, cols: dSAE, bias: $0.baseAddress!) }
        if case let .topK(k) = config.activation {
            Kernels.topKRows(h, rows: rows, cols: dSAE, k: k)
            l1 = 0
            for i in 0..<(rows * dSAE) { l1 += Double(h[i]) }
        }
        return l1
    }
}
