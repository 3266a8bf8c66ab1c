import TDXCore

/// Problems with SAE files on disk that the user can fix.
public enum AnalysisFileError: UserError, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case missingTensor(path: String, name: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])

    public var message: String {
        switch self {
        case let .unreadable(p, r): return "cannot read \(p): \(r)"
        case let .malformed(p, r): return "\(p) is not a valid SAE file: \(r)"
        case let .unsupportedDType(p, t, d): return "tensor \(t) in \(p) has dtype \(d); tdx reads F32, F16 and BF16"
        case let .missingTensor(p, n): return "\(p) has no tensor named \(n)"
        case let .shapeMismatch(p, t, e, f): return "tensor \(t) in \(p) has shape \(f), expected \(e)"
        }
    }

    public var help: String? {
        switch self {
        case .unsupportedDType: return "convert the SAE to float32 (e.g. sae.to(torch.float32)) and save it again"
        default: return "point at a directory written by `tdx export` (sae_weights.safetensors + cfg.json)"
        }
    }
}
