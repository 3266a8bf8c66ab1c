import Foundation

extension Tokenizer {
    /// Reads the `tokenizer.ggml.*` arrays of a GGUF file (model `gpt2`, i.e. byte-level BPE).
    public init(gguf: GGUFFile) throws {
        let p = gguf.path
        guard let model = gguf.string("tokenizer.ggml.model") else { throw ModelError.missingMetadata(p, "tokenizer.ggml.model") }
        guard model == "gpt2" else {
            throw ModelError.tokenizer("\(p) uses tokenizer model '\(model)'; only byte-level BPE ('gpt2') is supported")
        }
        guard let toks = gguf.metadata["tokenizer.ggml.tokens"]?.array?.compactMap(\.string) else {
            throw ModelError.missingMetadata(p, "tokenizer.ggml.tokens")
        }
        let merges = gguf.metadata["tokenizer.ggml.merges"]?.array?.compactMap(\.string) ?? []
        let types = gguf.metadata["tokenizer.ggml.token_type"]?.array?.map { TokenType(rawValue: $0.int ?? 1) ?? .normal }
        let preName = gguf.string("tokenizer.ggml.pre") ?? "default"
        guard let pre = PreTokenizer(ggufName: preName) else {
            throw ModelError.tokenizer("\(p) needs pre-tokenizer '\(preName)', which tdx does not implement (smollm, gpt-2, llama-bpe, qwen2 are)")
        }
        let addBOS = gguf.metadata["tokenizer.ggml.add_bos_token"]?.int.map { $0 != 0 }
            ?? (pre == .llama3)
        try self.init(tokens: toks, types: types?.count == toks.count ? types : nil, merges: merges, pre: pre,
                      bos: gguf.int("tokenizer.ggml.bos_token_id"), eos: gguf.int("tokenizer.ggml.eos_token_id"),
                      addBOS: addBOS)
    }

    /// Reads a Hugging Face `tokenizer.json` (model type BPE, byte-level).
    public init(tokenizerJSON url: URL, preHint: PreTokenizer? = nil) throws {
        guard let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = root["model"] as? [String: Any],
              let vocab = model["vocab"] as? [String: Int] else {
            throw ModelError.tokenizer("\(url.path) is not a BPE tokenizer.json")
        }
        var merges: [String] = []
        for m in model["merges"] as? [Any] ?? [] {
            if let s = m as? String { merges.append(s) }
            else if let pair = m as? [String], pair.count == 2 { merges.append(pair[0] + " " + pair[1]) }
        }
        var added: [(String, Int, Bool)] = []
        for a in root["added_tokens"] as? [[String: Any]] ?? [] {
            if let c = a["content"] as? String, let id = a["id"] as? Int { added.append((c, id, a["special"] as? Bool ?? false)) }
        }
        let n = max(vocab.values.max() ?? -1, added.map(\.1).max() ?? -1) + 1
        var toks = [String](repeating: "", count: n)
        var types = [TokenType](repeating: .normal, count: n)
        for (t, i) in vocab { toks[i] = t }
        for (t, i, special) in added { toks[i] = t; types[i] = special ? .control : .userDefined }
        let pre = preHint ?? Self.guessPre(root)
        let ignore = (model["ignore_merges"] as? Bool) ?? (pre == .llama3)
        func special(_ key: String) -> Int? {
            guard let name = root[key] as? String else { return nil }
            return vocab[name] ?? added.first { $0.0 == name }?.1
        }
        try self.init(tokens: toks, types: types, merges: merges, pre: pre, bos: special("bos_token"),
                      eos: special("eos_token"), addBOS: pre == .llama3, ignoreMerges: ignore)
    }

    /// Picks the split from the regexes and types in tokenizer.json's pre_tokenizer.
    static func guessPre(_ root: [String: Any]) -> PreTokenizer {
        var strings: [String] = []
        func collect(_ v: Any?) {
            if let s = v as? String { strings.append(s) }
            else if let d = v as? [String: Any] { d.values.forEach(collect) }
            else if let a = v as? [Any] { a.forEach(collect) }
        }
        collect(root["pre_tokenizer"])
        if strings.contains(where: { $0.contains(#"\p{N}{1,3}"#) }) { return .llama3 }
        if strings.contains(where: { $0.contains(#"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"#) }) { return .qwen2 }
        if strings.contains("Digits") { return .smollm }
        return .gpt2
    }
}
