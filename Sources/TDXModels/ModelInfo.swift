import Foundation
import TDXCore

/// What `tdx model info` reports, read from the file headers without dequantising.
struct ModelInfo {
    var path: String
    var format: String
    var architecture: String
    var config: [(String, String)]
    var tensors: [(name: String, type: String, dims: [Int])]
    var f32Bytes: Int
    var fileBytes: Int

    init(path: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        if isDir.boolValue {
            let dir = URL(fileURLWithPath: path)
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
            guard !files.isEmpty else { throw ModelError.fileNotFound("\(path)/*.safetensors") }
            let st = try files.map { try SafetensorsFile(path: dir.appendingPathComponent($0).path) }
            let cfgURL = dir.appendingPathComponent("config.json")
            guard let data = try? Data(contentsOf: cfgURL),
                  let cfg = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw ModelError.fileNotFound(cfgURL.path) }
            format = "safetensors"
            architecture = (cfg["model_type"] as? String) ?? "?"
            config = cfg.keys.sorted().compactMap { k in
                if let v = cfg[k] as? String { return (k, JSONText.string(v)) }
                if let v = cfg[k] as? NSNumber { return (k, v.stringValue) }
                return nil
            }
            tensors = st.flatMap { f in f.entries.map { ($0.key, $0.value.dtype.rawValue, $0.value.shape) } }.sorted { $0.0 < $1.0 }
            f32Bytes = tensors.reduce(0) { $0 + $1.dims.reduce(1, *) * 4 }
            fileBytes = st.reduce(0) { $0 + $1.file.count }
            return
        }
        let g = try GGUFFile(path: path)
        format = "gguf v\(g.version)"
        architecture = g.string("general.architecture") ?? "?"
        let prefix = architecture + "."
        config = g.metadata.keys.filter { $0.hasPrefix(prefix) || $0 == "general.name" || $0 == "tokenizer.ggml.pre" }
            .sorted().compactMap { k in
                let v = g.metadata[k]!
                if let s = v.string { return (k, JSONText.string(s)) }
                if let i = v.int { return (k, String(i)) }
                if let d = v.double { return (k, JSONText.number(d)) }
                return nil
            }
        config.append(("tokenizer.tokens", String(g.metadata["tokenizer.ggml.tokens"]?.array?.count ?? 0)))
        tensors = g.tensors.map { ($0.name, "\($0.type)".uppercased(), $0.dims) }
        f32Bytes = g.tensors.reduce(0) { $0 + $1.count * 4 }
        fileBytes = g.file.count
    }

    static func describe(_ c: LlamaConfig) -> [(String, String)] {
        [("block_count", "\(c.blockCount)"), ("d_model", "\(c.dModel)"), ("ffn_dim", "\(c.ffnDim)"),
         ("heads", "\(c.headCount)"), ("kv_heads", "\(c.kvHeadCount)"), ("head_dim", "\(c.headDim)"),
         ("vocab", "\(c.vocabSize)"), ("rope_base", JSONText.number(c.ropeBase)), ("tied_embeddings", "\(c.tiedEmbeddings)")]
    }

    var json: String {
        JSONText.object([
            ("path", JSONText.string(path)), ("format", JSONText.string(format)),
            ("architecture", JSONText.string(architecture)),
            ("config", JSONText.object(config)),
            ("tensors", JSONText.array(tensors.map {
                JSONText.object([("name", JSONText.string($0.name)), ("type", JSONText.string($0.type)),
                                 ("dims", JSONText.array($0.dims.map(String.init)))]) })),
            ("file_bytes", String(fileBytes)), ("f32_bytes", String(f32Bytes)),
        ])
    }

    var text: String {
        var s = "\(path)\nformat: \(format)  architecture: \(architecture)\n"
        for (k, v) in config { s += "  \(k) = \(v)\n" }
        if !tensors.isEmpty {
            s += "tensors (\(tensors.count)):\n"
            for t in tensors { s += "  \(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(t.type.padding(toLength: 5, withPad: " ", startingAt: 0)) \(t.dims)\n" }
        }
        s += String(format: "file: %.1f MB; in memory as f32: %.1f MB", Double(fileBytes) / 1e6, Double(f32Bytes) / 1e6)
        return s
    }
}
