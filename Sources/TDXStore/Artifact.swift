import Foundation

/// What a stage's output is, as the planner describes it. The store never interprets `paramsJSON`.
public struct ArtifactMeta: Sendable, Equatable {
    public var key: String
    public var kind: String
    /// The parameters the stage read, as canonical JSON (shown by `tdx show`, diffed by `tdx plan`).
    public var paramsJSON: String
    public var inputKeys: [String]
    /// The stage kind's code version that produced this artifact.
    public var producerVersion: Int
    public var computeSeconds: Double?

    public init(key: String, kind: String, paramsJSON: String = "{}", inputKeys: [String] = [],
                producerVersion: Int = 1, computeSeconds: Double? = nil) {
        self.key = key; self.kind = kind; self.paramsJSON = paramsJSON; self.inputKeys = inputKeys
        self.producerVersion = producerVersion; self.computeSeconds = computeSeconds
    }
}

/// How a blob's bytes are to be read back or exported.
public enum BlobFormat: Sendable, Equatable, CustomStringConvertible {
    /// Little-endian IEEE float32, row-major, with a shape (product = element count).
    case float32(shape: [Int])
    case json
    case csv
    case text
    case bytes

    var tag: String {
        switch self {
        case .float32: return "f32"
        case .json: return "json"
        case .csv: return "csv"
        case .text: return "text"
        case .bytes: return "bytes"
        }
    }

    var shapeJSON: String? {
        if case .float32(let shape) = self { return "[" + shape.map(String.init).joined(separator: ",") + "]" }
        return nil
    }

    init(tag: String, shapeJSON: String?) {
        switch tag {
        case "f32":
            let dims = (shapeJSON ?? "[]").trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            self = .float32(shape: dims)
        case "json": self = .json
        case "csv": self = .csv
        case "text": self = .text
        default: self = .bytes
        }
    }

    public var description: String {
        if case .float32(let shape) = self { return "float32[" + shape.map(String.init).joined(separator: "×") + "]" }
        return tag
    }
}

/// One named blob of an artifact.
public struct BlobInfo: Sendable, Equatable {
    public var name: String
    public var digest: String
    public var size: Int
    public var format: BlobFormat
}

/// An artifact as stored: its description, provenance and blobs.
public struct ArtifactInfo: Sendable, Equatable {
    public var meta: ArtifactMeta
    /// SHA-256 over the sorted (name, format, shape, blob digest) entries.
    public var outputDigest: String
    /// Total bytes of its blobs.
    public var size: Int
    public var created: Date
    public var lastUsed: Date
    public var blobs: [BlobInfo]

    public var key: String { meta.key }
    public var kind: String { meta.kind }
}

/// What `writeArtifact` did.
public enum ArtifactWriteResult: Sendable, Equatable {
    case stored(outputDigest: String, size: Int)
    /// Another writer committed this key first; nothing was written (keys are content-derived, so
    /// its content is the same computation's).
    case alreadyPresent
}
