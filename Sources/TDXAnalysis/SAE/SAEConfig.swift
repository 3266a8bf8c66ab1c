/// How activations are normalised before the SAE sees them (SCIENCE.md §5). Constants are fitted on the
/// training split and stored with the SAE.
public enum SAENormalisation: String, Codable, Sendable, CaseIterable {
    /// x̃ = x.
    case none
    /// x̃ = (x − μ) / s with μ the per-dimension mean and s one scalar: the RMS of the centred entries.
    case scalarRMS = "scalar_rms"
    /// x̃ = (x − μ) / σ per dimension.
    case perDimension = "per_dim_standardise"
}

/// Latent non-linearity.
public enum SAEActivation: Codable, Equatable, Sendable {
    /// h = ReLU(W_e x̃ + b_e), the paper's architecture.
    case relu
    /// ReLU, then keep only the k largest latents per sample.
    case topK(Int)
}

/// Dictionary size, given directly or as a multiple of the input width.
public enum SAEWidth: Equatable, Sendable {
    case latents(Int)
    case expansion(Double)

    public func resolve(dIn: Int) -> Int {
        switch self {
        case let .latents(n): return n
        case let .expansion(f): return max(1, Int((Double(dIn) * f).rounded()))
        }
    }
}

/// Everything that defines an SAE and its training (defaults: SCIENCE.md §5).
public struct SAEConfig: Codable, Equatable, Sendable {
    public var dIn: Int
    public var dSAE: Int
    public var normalisation: SAENormalisation
    public var activation: SAEActivation
    /// β, the L1 coefficient.
    public var l1Coefficient: Float
    public var learningRate: Float
    public var batchSize: Int
    public var epochs: Int
    /// W_e starts as the transpose of the (unit-column) decoder; otherwise both are drawn independently.
    public var initDecoderFromEncoder: Bool
    /// After each epoch, latents that never fired during it are re-initialised towards badly reconstructed inputs.
    public var resampleDeadLatents: Bool
    /// Fraction of experiments held out for evaluation.
    public var testFraction: Double
    public var seed: UInt64
    /// Where the activations come from, e.g. "blocks.34.hook_resid_post"; exported to cfg.json.
    public var hookName: String

    public init(dIn: Int, width: SAEWidth, normalisation: SAENormalisation = .scalarRMS, activation: SAEActivation = .relu,
                l1Coefficient: Float = 1e-5, learningRate: Float = 1e-4, batchSize: Int = 256, epochs: Int = 30,
                initDecoderFromEncoder: Bool = true, resampleDeadLatents: Bool = false, testFraction: Double = 0.2,
                seed: UInt64 = 0, hookName: String = "") {
        self.dIn = dIn
        self.dSAE = width.resolve(dIn: dIn)
        self.normalisation = normalisation
        self.activation = activation
        self.l1Coefficient = l1Coefficient
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.epochs = epochs
        self.initDecoderFromEncoder = initDecoderFromEncoder
        self.resampleDeadLatents = resampleDeadLatents
        self.testFraction = testFraction
        self.seed = seed
        self.hookName = hookName
    }
}
