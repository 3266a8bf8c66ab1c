import Foundation

/// Byte-level BPE (GPT-2 style) as llama.cpp runs it: special-token partition, pre-tokenizer split,
/// byte→unicode mapping, lowest-rank-first merges. Decoding inverts the byte mapping exactly.
public struct Tokenizer: Sendable {
    public enum TokenType: Int, Sendable { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }

    /// Token strings in the byte-mapped alphabet (`Ġ` for space).
    public let tokens: [String]
    public let types: [TokenType]
    public let pre: PreTokenizer
    public let bos: Int?
    public let eos: Int?
    public let addBOS: Bool
    /// Llama-3 style: a word already in the vocabulary is emitted whole, without merging.
    public let ignoreMerges: Bool
    let ids: [String: Int]
    /// (left id << 32 | right id) → (rank, merged id).
    let merges: [UInt64: (rank: Int32, id: Int32)]
    /// Control and user-defined tokens, longest first, matched in raw text when parsing specials.
    let specials: [(text: [UInt8], id: Int)]
    let byteToken: [Int]

    public var vocabSize: Int { tokens.count }

    public init(tokens: [String], types: [TokenType]? = nil, merges mergeLines: [String], pre: PreTokenizer,
                bos: Int? = nil, eos: Int? = nil, addBOS: Bool = false, ignoreMerges: Bool? = nil) throws {
        self.tokens = tokens
        self.types = types ?? Array(repeating: .normal, count: tokens.count)
        guard self.types.count == tokens.count else { throw ModelError.tokenizer("token type count differs from token count") }
        self.pre = pre
        self.bos = bos; self.eos = eos; self.addBOS = addBOS
        self.ignoreMerges = ignoreMerges ?? (pre == .llama3)
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        self.ids = ids
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        merges.reserveCapacity(mergeLines.count)
        for (rank, line) in mergeLines.enumerated() {
            guard let sp = line.firstIndex(of: " ") else { throw ModelError.tokenizer("malformed merge '\(line)'") }
            let a = String(line[..<sp]), b = String(line[line.index(after: sp)...])
            guard let ia = ids[a], let ib = ids[b], let im = ids[a + b] else { continue }
            let key = UInt64(ia) << 32 | UInt64(ib)
            if merges[key] == nil { merges[key] = (Int32(rank), Int32(im)) }
        }
        self.merges = merges
        var specials: [(text: [UInt8], id: Int)] = []
        for (i, t) in self.types.enumerated() where t == .control || t == .userDefined {
            if !tokens[i].isEmpty { specials.append((Array(tokens[i].utf8), i)) }
        }
        specials.sort { $0.text.count > $1.text.count }
        self.specials = specials
        var byteToken = [Int](repeating: -1, count: 256)
        for b in 0..<256 { byteToken[b] = ids[String(Self.byteChar[b])] ?? -1 }
        self.byteToken = byteToken
    }

    public func id(of token: String) -> Int? { ids[token] }

    // MARK: encode

    /// Token ids of `text`. `addSpecial` prepends BOS when the model asks for it; `parseSpecial`
    /// lets control tokens such as `<|im_start|>` written in the text map to their ids.
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        if addSpecial && addBOS, let b = bos { out.append(b) }
        for piece in partition(Array(text.utf8), parseSpecial: parseSpecial) {
            switch piece {
            case .special(let id): out.append(id)
            case .text(let bytes):
                for word in pre.split(String(decoding: bytes, as: UTF8.self)) { bpe(word, into: &out) }
            }
        }
        return out
    }

    private enum Piece { case text([UInt8]), special(Int) }

    private func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Piece] {
        guard parseSpecial, !specials.isEmpty else { return [.text(bytes)] }
        var out: [Piece] = []
        var start = 0, i = 0
        scan: while i < bytes.count {
            for s in specials where s.text.first == bytes[i] && i + s.text.count <= bytes.count
                && bytes[i..<(i + s.text.count)].elementsEqual(s.text) {
                if start < i { out.append(.text(Array(bytes[start..<i]))) }
                out.append(.special(s.id))
                i += s.text.count
                start = i
                continue scan
            }
            i += 1
        }
        if start < bytes.count { out.append(.text(Array(bytes[start..<bytes.count]))) }
        return out
    }

    private func bpe(_ word: ArraySlice<Unicode.Scalar>, into out: inout [Int]) {
        var mapped = ""
        for s in word { for b in String(s).utf8 { mapped.unicodeScalars.append(Self.byteChar[Int(b)]) } }
        if ignoreMerges, let id = ids[mapped] { out.append(id); return }
        var sym: [Int] = []
        for b in mapped.unicodeScalars {
            sym.append(ids[String(b)] ?? byteToken[Int(Self.charByte[b] ?? 0)])
        }
        while sym.count > 1 {
            var best = -1, bestRank = Int32.max, bestID: Int32 = 0
            for j in 0..<(sym.count - 1) {
                if let m = merges[UInt64(sym[j]) << 32 | UInt64(sym[j + 1])], m.rank < bestRank {
                    best = j; bestRank = m.rank; bestID = m.id
                }
            }
            if best < 0 { break }
            sym[best] = Int(bestID)
            sym.remove(at: best + 1)
        }
        out.append(contentsOf: sym)
    }

    // MARK: decode

    /// Raw bytes of one token (specials as their text).
    public func bytes(of id: Int) -> [UInt8] {
        guard id >= 0 && id < tokens.count else { return [] }
        let t = tokens[id]
        switch types[id] {
        case .control, .userDefined, .unknown: return Array(t.utf8)
        default:
            var out: [UInt8] = []
            for s in t.unicodeScalars {
                if let b = Self.charByte[s] { out.append(b) } else { out.append(contentsOf: String(s).utf8) }
            }
            return out
        }
    }

    /// The exact text of a token sequence; control tokens are dropped when `skipSpecial`.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        var out: [UInt8] = []
        for id in ids {
            if skipSpecial, id >= 0, id < types.count, types[id] == .control { continue }
            out.append(contentsOf: bytes(of: id))
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: GPT-2 byte ↔ unicode table

    static let byteChar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(256 + n)!
                n += 1
            }
        }
        return table
    }()

    static let charByte: [Unicode.Scalar: UInt8] = {
        var m: [Unicode.Scalar: UInt8] = [:]
        for (b, c) in byteChar.enumerated() { m[c] = UInt8(b) }
        return m
    }()
}
