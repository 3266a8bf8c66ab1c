/// The word-splitting stage before BPE, as llama.cpp implements each model's split regex
/// (unicode.cpp, `unicode_regex_split_custom_*`), hand-coded over code points.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    case gpt2
    /// \p{N} isolated first, then the GPT-2 split (SmolLM, StarCoder).
    case smollm
    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    case llama3
    /// As llama3 but \p{N} one digit at a time.
    case qwen2

    /// Maps a GGUF `tokenizer.ggml.pre` name (or a tokenizer.json hint) to a splitter.
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt-2", "gpt2", "default", "mpt", "olmo", "jais": self = .gpt2
        case "smollm", "starcoder", "refact", "codeshell": self = .smollm
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral": self = .llama3
        case "qwen2", "stablelm2", "hunyuan": self = .qwen2
        default: return nil
        }
    }

    /// Splits text into words (each an array of code points).
    public func split(_ text: String) -> [ArraySlice<Unicode.Scalar>] {
        let cps = Array(text.unicodeScalars)
        var ranges: [Range<Int>] = []
        switch self {
        case .gpt2: Self.gpt2(cps, 0..<cps.count, into: &ranges)
        case .smollm:
            var start = 0
            for i in 0..<cps.count where CharFlags(cps[i]).number {
                if start < i { Self.gpt2(cps, start..<i, into: &ranges) }
                ranges.append(i..<(i + 1))
                start = i + 1
            }
            if start < cps.count { Self.gpt2(cps, start..<cps.count, into: &ranges) }
        case .llama3: Self.llama3(cps, 0..<cps.count, maxDigits: 3, into: &ranges)
        case .qwen2: Self.llama3(cps, 0..<cps.count, maxDigits: 1, into: &ranges)
        }
        return ranges.map { cps[$0] }
    }

    struct CharFlags {
        var inRange = false, letter = false, number = false, whitespace = false
        init() {}
        init(_ c: Unicode.Scalar) {
            inRange = true
            switch c.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: letter = true
            case .decimalNumber, .letterNumber, .otherNumber: number = true
            default: break
            }
            whitespace = c.properties.isWhitespace
        }
        /// [^\s\p{L}\p{N}] for an in-range character.
        var other: Bool { inRange && !(whitespace || letter || number) }
    }

    private static func gpt2(_ cps: [Unicode.Scalar], _ r: Range<Int>, into out: inout [Range<Int>]) {
        func cpt(_ p: Int) -> UInt32? { r.contains(p) ? cps[p].value : nil }
        func flags(_ p: Int) -> CharFlags { r.contains(p) ? CharFlags(cps[p]) : CharFlags() }
        var prevEnd = r.lowerBound
        @discardableResult func add(_ end: Int) -> Int {
            let len = end - prevEnd
            if len > 0 { out.append(prevEnd..<end) }
            prevEnd = end
            return len
        }
        var pos = r.lowerBound
        while pos < r.upperBound {
            let c = cps[pos].value
            let f = flags(pos)
            if c == 0x27, pos + 1 < r.upperBound {   // 's|'t|'re|'ve|'m|'ll|'d
                let n = cps[pos + 1].value
                if n == 0x73 || n == 0x74 || n == 0x6d || n == 0x64 { pos += add(pos + 2); continue }
                if pos + 2 < r.upperBound {
                    let nn = cps[pos + 2].value
                    if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6c && nn == 0x6c) {
                        pos += add(pos + 3); continue
                    }
                }
            }
            var f2 = c == 0x20 ? flags(pos + 1) : f
            if f2.letter {   //  ?\p{L}+
                if c == 0x20 { pos += 1 }
                while f2.letter { pos += 1; f2 = flags(pos) }
                add(pos); continue
            }
            if f2.number {   //  ?\p{N}+
                if c == 0x20 { pos += 1 }
                while f2.number { pos += 1; f2 = flags(pos) }
                add(pos); continue
            }
            if f2.other {    //  ?[^\s\p{L}\p{N}]+
                if c == 0x20 { pos += 1 }
                while f2.other { pos += 1; f2 = flags(pos) }
                add(pos); continue
            }
            var nws = 0
            while flags(pos + nws).whitespace { nws += 1 }
            if nws > 1 && cpt(pos + nws) != nil { pos += nws - 1; add(pos); continue }   // \s+(?!\S)
            if nws > 0 { pos += nws; add(pos); continue }                                // \s+
            pos += 1; add(pos)
        }
    }

    private static func llama3(_ cps: [Unicode.Scalar], _ r: Range<Int>, maxDigits: Int, into out: inout [Range<Int>]) {
        func cpt(_ p: Int) -> UInt32? { r.contains(p) ? cps[p].value : nil }
        func flags(_ p: Int) -> CharFlags { r.contains(p) ? CharFlags(cps[p]) : CharFlags() }
        func lower(_ v: UInt32) -> UInt32 { (0x41...0x5a).contains(v) ? v + 32 : v }
        var prevEnd = r.lowerBound
        @discardableResult func add(_ end: Int) -> Int {
            let len = end - prevEnd
            if len > 0 { out.append(prevEnd..<end) }
            prevEnd = end
            return len
        }
        var pos = r.lowerBound
        while pos < r.upperBound {
            let c = cps[pos].value
            let f = flags(pos)
            if c == 0x27, pos + 1 < r.upperBound {   // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                let n = lower(cps[pos + 1].value)
                if n == 0x73 || n == 0x74 || n == 0x6d || n == 0x64 { pos += add(pos + 2); continue }
                if pos + 2 < r.upperBound {
                    let nn = lower(cps[pos + 2].value)
                    if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6c && nn == 0x6c) {
                        pos += add(pos + 3); continue
                    }
                }
            }
            if !(c == 0x0d || c == 0x0a || f.number) {   // [^\r\n\p{L}\p{N}]?\p{L}+
                if f.letter || flags(pos + 1).letter {
                    pos += 1
                    while flags(pos).letter { pos += 1 }
                    add(pos); continue
                }
            }
            if f.number {   // \p{N}{1,maxDigits}
                var ini = pos
                while flags(pos).number {
                    pos += 1
                    if pos - ini >= maxDigits { add(pos); ini = pos }
                }
                add(pos); continue
            }
            var f2 = c == 0x20 ? flags(pos + 1) : f   //  ?[^\s\p{L}\p{N}]+[\r\n]*
            if !(f2.whitespace || f2.letter || f2.number) && f.inRange {
                if c == 0x20 { pos += 1 }
                while f2.other { pos += 1; f2 = flags(pos) }
                while let c2 = cpt(pos), c2 == 0x0d || c2 == 0x0a { pos += 1 }
                add(pos); continue
            }
            var nws = 0, lastNL = 0
            while flags(pos + nws).whitespace {
                let c2 = cps[pos + nws].value
                if c2 == 0x0d || c2 == 0x0a { lastNL = pos + nws + 1 }
                nws += 1
            }
            if lastNL > 0 { pos = lastNL; add(pos); continue }                           // \s*[\r\n]+
            if nws > 1 && cpt(pos + nws) != nil { pos += nws - 1; add(pos); continue }   // \s+(?!\S)
            if nws > 0 { pos += nws; add(pos); continue }                                // \s+
            pos += 1; add(pos)
        }
    }
}
