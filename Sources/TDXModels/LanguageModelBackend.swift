/// What tdx needs from a language model, whether in process or behind the JSON-lines worker protocol of
/// DESIGN §7 (load model; forward a batch of token sequences; logits at given positions; residual
/// activations after given blocks at given positions; edits).
public protocol LanguageModelBackend: AnyObject, Sendable {
    /// Architecture facts the planner and analysis need (block count, width, vocabulary).
    var config: LlamaConfig { get }
    /// Where the weights came from (path, or a remote model id).
    var source: String { get }
    func tokenize(_ text: String, addSpecial: Bool) throws -> [Int]
    /// Token ids and, per token, the number of UTF-8 bytes of `text` it covers (0 for an added special
    /// token), so byte spans of a transcript map to token positions.
    func tokenizeWithLengths(_ text: String, addSpecial: Bool) throws -> (ids: [Int], lengths: [Int])
    func detokenize(_ ids: [Int]) throws -> String
    /// One batched pass; `caches` (one per sequence, or nil) continue earlier passes where supported.
    func forward(_ request: ForwardRequest, caches: [KVCache?]?) throws -> ForwardResult
}

extension LanguageModelBackend {
    /// For backends that cannot map tokens to text bytes.
    public func tokenizeWithLengths(_ text: String, addSpecial: Bool) throws -> (ids: [Int], lengths: [Int]) {
        throw ModelError.tokenizer("\(source) does not report how many bytes of the text each token covers")
    }
}

extension LanguageModel: LanguageModelBackend {
    public func tokenize(_ text: String, addSpecial: Bool) throws -> [Int] { tokenizer.encode(text, addSpecial: addSpecial) }
    public func tokenizeWithLengths(_ text: String, addSpecial: Bool) throws -> (ids: [Int], lengths: [Int]) {
        let ids = tokenizer.encode(text, addSpecial: addSpecial)
        let added = addSpecial && tokenizer.addBOS && tokenizer.bos != nil ? 1 : 0
        return (ids, ids.indices.map { $0 < added ? 0 : tokenizer.bytes(of: ids[$0]).count })
    }
    public func detokenize(_ ids: [Int]) throws -> String { tokenizer.decode(ids) }
}
