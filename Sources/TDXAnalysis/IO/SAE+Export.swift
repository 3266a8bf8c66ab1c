import Foundation
import TDXCore

/// SAELens-compatible files: `sae_weights.safetensors` (W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_in], b_dec)
/// and `cfg.json`. The weights act on normalised activations; when normalisation is not `none` its constants go
/// to `normalisation.safetensors` (mean, scale: x̃ = (x − mean) / scale) and cfg.json names the file.
extension SparseAutoencoder {
    public static let weightsFile = "sae_weights.safetensors"
    public static let configFile = "cfg.json"
    public static let normalisationFile = "normalisation.safetensors"

    public func export(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (d, s) = (dIn, dSAE)
        try Self.write([
            ("W_enc", .init(shape: [d, s], values: params.wEnc)),
            ("b_enc", .init(shape: [s], values: params.bEnc)),
            ("W_dec", .init(shape: [s, d], values: params.wDec)),
            ("b_dec", .init(shape: [d], values: params.bDec)),
        ], metadata: ["format": "pt"], to: directory.appendingPathComponent(Self.weightsFile))

        var cfg: [String: Any] = [
            "d_in": d, "d_sae": s, "dtype": "float32", "device": "cpu",
            "hook_name": config.hookName, "apply_b_dec_to_input": false,
            // SAELens applies no normalisation itself; tdx's own is described below and stored separately.
            "normalize_activations": "none",
            "normalisation": normaliser.kind.rawValue,
        ]
        switch config.activation {
        case .relu:
            cfg["architecture"] = "standard"; cfg["activation_fn"] = "relu"; cfg["activation_fn_kwargs"] = [String: Any]()
        case let .topK(k):
            cfg["architecture"] = "topk"; cfg["activation_fn"] = "topk"; cfg["activation_fn_kwargs"] = ["k": k]; cfg["k"] = k
        }
        if normaliser.kind != .none {
            cfg["normalisation_file"] = Self.normalisationFile
            try Self.write([("mean", .init(shape: [d], values: normaliser.mean)),
                            ("scale", .init(shape: [d], values: normaliser.scale))],
                           to: directory.appendingPathComponent(Self.normalisationFile))
        }
        let tdx = try JSONEncoder().encode(config)
        cfg["tdx_config"] = try JSONSerialization.jsonObject(with: tdx)
        let json = try JSONSerialization.data(withJSONObject: cfg, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: directory.appendingPathComponent(Self.configFile), options: .atomic)
    }

    /// Loads a directory written by `export` (or an SAELens float32 standard/topk SAE without tdx fields).
    public static func load(from directory: URL) throws -> SparseAutoencoder {
        let cfgURL = directory.appendingPathComponent(configFile)
        let cfgData: Data
        do { cfgData = try Data(contentsOf: cfgURL) } catch {
            throw AnalysisFileError.unreadable(path: cfgURL.path, reason: error.localizedDescription)
        }
        guard let cfg = try? JSONSerialization.jsonObject(with: cfgData) as? [String: Any],
              let d = (cfg["d_in"] as? NSNumber)?.intValue, let s = (cfg["d_sae"] as? NSNumber)?.intValue else {
            throw AnalysisFileError.malformed(path: cfgURL.path, reason: "needs integer d_in and d_sae")
        }
        var config: SAEConfig
        if let tdx = cfg["tdx_config"], let data = try? JSONSerialization.data(withJSONObject: tdx),
           let decoded = try? JSONDecoder().decode(SAEConfig.self, from: data) {
            config = decoded
        } else {
            config = SAEConfig(dIn: d, width: .latents(s), normalisation: .none, hookName: cfg["hook_name"] as? String ?? "")
            if let k = ((cfg["activation_fn_kwargs"] as? [String: Any])?["k"] as? NSNumber)?.intValue ?? (cfg["k"] as? NSNumber)?.intValue {
                config.activation = .topK(k)
            }
        }
        guard config.dIn == d, config.dSAE == s else {
            throw AnalysisFileError.malformed(path: cfgURL.path, reason: "tdx_config disagrees with d_in/d_sae")
        }
        let wURL = directory.appendingPathComponent(weightsFile)
        let t = try read(wURL)
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let x = t[name] else { throw AnalysisFileError.missingTensor(path: wURL.path, name: name) }
            guard x.shape == shape else {
                throw AnalysisFileError.shapeMismatch(path: wURL.path, tensor: name, expected: shape, found: x.shape)
            }
            return x.values
        }
        let params = SAEParameters(wEnc: try tensor("W_enc", [d, s]), bEnc: try tensor("b_enc", [s]),
                                   wDec: try tensor("W_dec", [s, d]), bDec: try tensor("b_dec", [d]))
        var normaliser = SAENormaliser.identity(dIn: d)
        let kindName = cfg["normalisation"] as? String ?? "none"
        guard let kind = SAENormalisation(rawValue: kindName) else {
            throw AnalysisFileError.malformed(path: cfgURL.path, reason: "unknown normalisation \(kindName)")
        }
        if kind != .none {
            let nURL = directory.appendingPathComponent(cfg["normalisation_file"] as? String ?? normalisationFile)
            let nt = try read(nURL)
            guard let mean = nt["mean"], let scale = nt["scale"], mean.values.count == d, scale.values.count == d else {
                throw AnalysisFileError.malformed(path: nURL.path, reason: "needs mean and scale of length \(d)")
            }
            normaliser = SAENormaliser(kind: kind, mean: mean.values, scale: scale.values)
        }
        config.normalisation = kind
        return SparseAutoencoder(config: config, normaliser: normaliser, params: params)
    }

    private static func write(_ tensors: [(name: String, tensor: Safetensors.Tensor)], metadata: [String: String] = [:],
                              to url: URL) throws {
        do { try Safetensors.write(tensors, metadata: metadata, to: url) } catch let e as SafetensorsError {
            throw AnalysisFileError.unreadable(path: url.path, reason: e.reason)
        }
    }

    private static func read(_ url: URL) throws -> [String: Safetensors.Tensor] {
        do { return try Safetensors.read(url) } catch let e as SafetensorsError {
            switch e {
            case let .unreadable(reason): throw AnalysisFileError.unreadable(path: url.path, reason: reason)
            case let .unsupportedDType(tensor, dtype): throw AnalysisFileError.unsupportedDType(path: url.path, tensor: tensor, dtype: dtype)
            default: throw AnalysisFileError.malformed(path: url.path, reason: e.reason)
            }
        }
    }
}
