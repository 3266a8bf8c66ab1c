import Foundation
import TDXAnalysis
import TDXCore
import TDXLang
import TDXModels
import TDXPlan
import TDXStore

/// What an `sae[L]` artifact records about training (blob `metrics`): per-epoch history, the final
/// held-out evaluation, and which experiments were trained on and held out (correlate's held-out r uses them).
public struct SAEMetrics: Codable, Sendable, Equatable {
    public struct Epoch: Codable, Sendable, Equatable {
        public var epoch: Int
        public var trainLoss: Double
        /// Held-out evaluation after this epoch (nil when nothing was held out).
        public var test: SAEEvaluation?
        /// Dead latents resampled after this epoch.
        public var resampled: Int
    }
    public var layer: Int
    public var dIn: Int
    public var dSAE: Int
    public var normalisation: String
    public var epochs: [Epoch]
    /// Final evaluation on the held-out experiments (nil when there was only one experiment).
    public var test: SAEEvaluation?
    /// Final evaluation on the training rows.
    public var train: SAEEvaluation
    public var trainExperiments: [Int]
    public var testExperiments: [Int]
    public var trainRows: Int
    public var testRows: Int

    public func encoded() throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
    public static func decode(_ text: String) throws -> SAEMetrics { try JSONDecoder().decode(SAEMetrics.self, from: Data(text.utf8)) }
}

/// `sae[L]`: trains one sparse autoencoder on the layer's activations (SCIENCE.md §5), split by experiment.
/// Blobs: `W_enc` [d_in × d_sae], `b_enc` [d_sae], `W_dec` [d_sae × d_in], `b_dec` [d_in] (SAELens layout, acting
/// on normalised inputs), `norm_mean` / `norm_scale` [d_in] (x̃ = (x − mean) / scale), `config` (SAEConfig JSON)
/// and `metrics` (SAEMetrics JSON).
struct SAEStage: StageBody {
    let kind = StageKind.sae
    let codeVersion = 1

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map(train)
    }

    /// The analysis library's configuration from the stage's `sae.*` parameters.
    static func config(_ p: Params, dIn: Int, layer: Int, seed: UInt64) -> SAEConfig {
        let width = p.int("width", 0)
        let normalisation: SAENormalisation = switch p.symbol("normalise", "rms") {
        case "none": .none
        case "standardise": .perDimension
        default: .scalarRMS
        }
        let activation: SAEActivation = p["activation"]?.head == "topk"
            ? .topK(p["activation"]?.arguments.first?.intValue ?? 32) : .relu
        return SAEConfig(dIn: dIn, width: width > 0 ? .latents(width) : .expansion(p.double("expansion", 4)),
                         normalisation: normalisation, activation: activation,
                         l1Coefficient: Float(p.double("beta", 1e-5)), learningRate: Float(p.double("lr", 1e-4)),
                         batchSize: p.int("batch", 256), epochs: p.int("epochs", 30),
                         initDecoderFromEncoder: p.symbol("decoder_init", "transpose") == "transpose",
                         resampleDeadLatents: p.bool("resample_dead"), testFraction: p.double("test_fraction", 0.2),
                         seed: seed, hookName: "blocks.\(layer).hook_resid_post")
    }

    func train(_ ctx: StageContext) throws -> StageOutput {
        let layer = ctx.stage.layer ?? 0
        guard let input = ctx.inputs(of: .activations).first else {
            throw ExecutorError.missingInput(stage: ctx.stage.id, input: "activations[\(layer)]")
        }
        let act = try ctx.activations(input)
        guard act.rows.count > 0, act.d > 0 else {
            throw ExecutorError.stageFailed(stage: ctx.stage.id, message: "\(input) recorded no rows to train an SAE on")
        }
        let config = Self.config(Params(ctx.stage.params, prefix: "sae"), dIn: act.d, layer: layer, seed: ctx.seed)
        let trainer = SAETrainer(config: config, data: act.x, experimentIDs: act.rows.experiment)
        let split = trainer.split
        var epochs: [SAEMetrics.Epoch] = []
        ctx.progress.update(0, of: config.epochs)
        for e in 0..<config.epochs {
            try ctx.checkCancelled()
            let m = trainer.trainEpoch()
            let test = split.test.isEmpty ? nil : trainer.evaluate(rows: split.test)
            epochs.append(.init(epoch: e + 1, trainLoss: m.trainLoss, test: test, resampled: m.resampled))
            ctx.progress.update(e + 1, of: config.epochs)
        }
        let heldOut = Set(split.testExperiments)
        let metrics = SAEMetrics(
            layer: layer, dIn: config.dIn, dSAE: config.dSAE, normalisation: config.normalisation.rawValue, epochs: epochs,
            test: epochs.last?.test ?? (split.test.isEmpty ? nil : trainer.evaluate(rows: split.test)),
            train: trainer.evaluate(rows: split.train),
            trainExperiments: Array(Set(act.rows.experiment).subtracting(heldOut)).sorted(),
            testExperiments: split.testExperiments, trainRows: split.train.count, testRows: split.test.count)
        return try Self.output(trainer.sae, metrics: metrics)
    }

    static func output(_ sae: SparseAutoencoder, metrics: SAEMetrics) throws -> StageOutput {
        let (d, s) = (sae.dIn, sae.dSAE)
        var out = StageOutput()
        out.floats("W_enc", sae.params.wEnc, shape: [d, s])
        out.floats("b_enc", sae.params.bEnc, shape: [s])
        out.floats("W_dec", sae.params.wDec, shape: [s, d])
        out.floats("b_dec", sae.params.bDec, shape: [d])
        out.floats("norm_mean", sae.normaliser.mean, shape: [d])
        out.floats("norm_scale", sae.normaliser.scale, shape: [d])
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        out.json("config", String(decoding: try e.encode(sae.config), as: UTF8.self))
        out.json("metrics", try metrics.encoded())
        return out
    }
}

extension StageContext {
    /// The SAE stored by an input `sae[L]` stage.
    public func sae(_ id: String) throws -> SparseAutoencoder {
        try StoredSAE.load(store: store, key: try inputKey(id), stage: id)
    }

    /// The training metrics stored by an input `sae[L]` stage.
    public func saeMetrics(_ id: String) throws -> SAEMetrics { try SAEMetrics.decode(try inputString(id, "metrics")) }
}

extension SparseAutoencoder {
    /// The SAE in the form the language model's forward pass edits with. The normalisation is folded in:
    /// a scalar scale becomes `inputScale`; per-dimension scales go into the encoder rows (W_enc[j, :] / σ_j)
    /// and the decoder (W_dec[:, j] · σ_j, b_dec · σ), so encodings and reconstructions are unchanged.
    public var dictionary: SAEDictionary {
        let (d, s) = (dIn, dSAE)
        let act: SAEDictionary.Activation = switch config.activation {
        case .relu: .relu
        case .topK(let k): .topK(k)
        }
        switch normaliser.kind {
        case .none:
            return SAEDictionary(inputDim: d, latentCount: s, encoder: params.wEnc, encoderBias: params.bEnc,
                                 decoder: params.wDec, decoderBias: params.bDec, activation: act)
        case .scalarRMS:
            return SAEDictionary(inputDim: d, latentCount: s, encoder: params.wEnc, encoderBias: params.bEnc,
                                 decoder: params.wDec, decoderBias: params.bDec, inputShift: normaliser.mean,
                                 inputScale: 1 / normaliser.scale[0], activation: act)
        case .perDimension:
            let sigma = normaliser.scale
            var enc = params.wEnc, dec = params.wDec
            for j in 0..<d { for k in 0..<s { enc[j * s + k] /= sigma[j] } }
            for k in 0..<s { for j in 0..<d { dec[k * d + j] *= sigma[j] } }
            return SAEDictionary(inputDim: d, latentCount: s, encoder: enc, encoderBias: params.bEnc, decoder: dec,
                                 decoderBias: zip(params.bDec, sigma).map { $0 * $1 }, inputShift: normaliser.mean,
                                 inputScale: 1, activation: act)
        }
    }
}

public enum StoredSAE {
    /// Rebuilds the SAE a `sae[L]` artifact stores (for the intervention, geometry and `tdx export`).
    public static func load(store: Store, key: String, stage: String) throws -> SparseAutoencoder {
        let config = try JSONDecoder().decode(SAEConfig.self, from: try store.readData(key: key, blob: "config"))
        let (d, s) = (config.dIn, config.dSAE)
        let params = SAEParameters(wEnc: try store.readFloats(key: key, blob: "W_enc"), bEnc: try store.readFloats(key: key, blob: "b_enc"),
                                   wDec: try store.readFloats(key: key, blob: "W_dec"), bDec: try store.readFloats(key: key, blob: "b_dec"))
        let mean = try store.readFloats(key: key, blob: "norm_mean"), scale = try store.readFloats(key: key, blob: "norm_scale")
        guard params.wEnc.count == d * s, params.wDec.count == s * d, params.bEnc.count == s, params.bDec.count == d,
              mean.count == d, scale.count == d else {
            throw ExecutorError.stageFailed(stage: stage, message: "the stored SAE's tensors do not match its config")
        }
        return SparseAutoencoder(config: config, normaliser: SAENormaliser(kind: config.normalisation, mean: mean, scale: scale),
                                 params: params)
    }
}
