import Foundation

/// Depth and width of a model file, read from its header alone (the planner needs them to expand
/// `layers = all` and to check layer numbers before any weights are loaded).
public struct ModelShape: Sendable, Equatable {
    public var blocks: Int
    public var dModel: Int

    public static func read(path: String) throws -> ModelShape {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw ModelError.fileNotFound(path) }
        if isDir.boolValue {
            let cfgURL = URL(fileURLWithPath: path).appendingPathComponent("config.json")
            guard let data = try? Data(contentsOf: cfgURL),
                  let cfg = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let blocks = cfg["num_hidden_layers"] as? Int, let d = cfg["hidden_size"] as? Int else {
                throw ModelError.fileNotFound(cfgURL.path)
            }
            return ModelShape(blocks: blocks, dModel: d)
        }
        let g = try GGUFFile(path: path)
        let arch = g.string("general.architecture") ?? "llama"
        guard let blocks = g.metadata["\(arch).block_count"]?.int, let d = g.metadata["\(arch).embedding_length"]?.int else {
            throw ModelError.badRequest("\(path) does not say its block count and width (\(arch).block_count, \(arch).embedding_length)")
        }
        return ModelShape(blocks: blocks, dModel: d)
    }
}
