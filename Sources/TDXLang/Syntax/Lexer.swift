// Turns source bytes into tokens with exact byte ranges. Never fails: bad input becomes a
// diagnostic plus a best-effort token, so the parser can keep going and report everything.

public struct Lexer {
    private let file: SourceFile
    private let fileID: Int
    private let b: [UInt8]
    private var i = 0
    public private(set) var diagnostics = DiagnosticBag()

    public init(file: SourceFile, fileID: Int) {
        self.file = file; self.fileID = fileID; self.b = file.bytes
    }

    public static func tokenize(_ file: SourceFile, fileID: Int) -> (tokens: [Token], diagnostics: DiagnosticBag) {
        var lx = Lexer(file: file, fileID: fileID)
        var out: [Token] = []
        while true {
            let t = lx.next()
            out.append(t)
            if t.isEOF { break }
        }
        return (out, lx.diagnostics)
    }

    private func range(_ s: Int, _ e: Int) -> SourceRange { SourceRange(file: fileID, start: s, end: e) }
    private func peek(_ k: Int = 0) -> UInt8 { i + k < b.count ? b[i + k] : 0 }

    public mutating func next() -> Token {
        var comments: [Comment] = []
        var newlines = 0
        var lineHasContent = lineHasTokenBefore(i)
        // Trivia: whitespace and comments.
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\n") { newlines += 1; lineHasContent = false; i += 1; continue }
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") { i += 1; continue }
            if c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/") {
                let s = i
                while i < b.count && b[i] != UInt8(ascii: "\n") { i += 1 }
                var e = i
                while e > s && (b[e - 1] == UInt8(ascii: " ") || b[e - 1] == UInt8(ascii: "\r")) { e -= 1 }
                comments.append(Comment(text: file.slice(range(s, e)), range: range(s, e),
                                        ownLine: !lineHasContent, newlinesBefore: newlines))
                newlines = 0
                continue
            }
            if c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                let s = i
                i += 2
                var closed = false
                while i < b.count {
                    if b[i] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") { i += 2; closed = true; break }
                    i += 1
                }
                if !closed { diagnostics.error(.unterminatedBlockComment, at: range(s, s + 2)) }
                comments.append(Comment(text: file.slice(range(s, i)), range: range(s, i),
                                        ownLine: !lineHasContent, newlinesBefore: newlines))
                newlines = 0
                lineHasContent = true
                continue
            }
            break
        }
        var tok = lexToken()
        tok.leadingComments = comments
        tok.newlinesBefore = newlines
        return tok
    }

    private func lineHasTokenBefore(_ pos: Int) -> Bool {
        var k = pos - 1
        while k >= 0 && b[k] != UInt8(ascii: "\n") {
            if b[k] != UInt8(ascii: " ") && b[k] != UInt8(ascii: "\t") { return true }
            k -= 1
        }
        return false
    }

    private mutating func lexToken() -> Token {
        let s = i
        guard i < b.count else { return Token(kind: .eof, range: range(s, s)) }
        let c = b[i]
        func single(_ k: TokenKind) -> Token { i += 1; return Token(kind: k, range: range(s, i)) }
        switch c {
        case UInt8(ascii: "{"): return single(.lbrace)
        case UInt8(ascii: "}"): return single(.rbrace)
        case UInt8(ascii: "["): return single(.lbracket)
        case UInt8(ascii: "]"): return single(.rbracket)
        case UInt8(ascii: "("): return single(.lparen)
        case UInt8(ascii: ")"): return single(.rparen)
        case UInt8(ascii: "="): return single(.equals)
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: "."):
            if peek(1) == UInt8(ascii: ".") { i += 2; return Token(kind: .dotdot, range: range(s, i)) }
            return invalidChar()
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\"") && peek(2) == UInt8(ascii: "\"") { return tripleString() }
            return quotedString()
        case UInt8(ascii: "-"), UInt8(ascii: "+"):
            if isDigit(peek(1)) { return number() }
            return invalidChar()
        default:
            if isDigit(c) { return number() }
            if isIdentStart(at: i) { return identifier() }
            return invalidChar()
        }
    }

    private mutating func invalidChar() -> Token {
        let s = i
        i += utf8Length(b[i])
        i = min(i, b.count)
        let text = file.slice(range(s, i))
        diagnostics.error(.unexpectedCharacter(text), at: range(s, i))
        return Token(kind: .invalid(text), range: range(s, i))
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private func utf8Length(_ lead: UInt8) -> Int {
        if lead < 0x80 { return 1 }
        if lead >> 5 == 0b110 { return 2 }
        if lead >> 4 == 0b1110 { return 3 }
        if lead >> 3 == 0b11110 { return 4 }
        return 1
    }

    private func scalar(at p: Int) -> Unicode.Scalar? {
        guard p < b.count else { return nil }
        let n = utf8Length(b[p])
        guard p + n <= b.count else { return nil }
        var it = b[p..<(p + n)].makeIterator()
        var dec = UTF8()
        if case .scalarValue(let u) = dec.decode(&it) { return u }
        return nil
    }

    private func isIdentStart(at p: Int) -> Bool {
        guard let u = scalar(at: p) else { return false }
        return u == "_" || u.properties.isAlphabetic
    }

    private func isIdentContinue(at p: Int) -> Bool {
        guard let u = scalar(at: p) else { return false }
        return u == "_" || u.properties.isAlphabetic || (u.value >= 48 && u.value <= 57)
    }

    private mutating func identifier() -> Token {
        let s = i
        while i < b.count && isIdentContinue(at: i) { i += utf8Length(b[i]) }
        i = min(i, b.count)
        return Token(kind: .identifier(file.slice(range(s, i))), range: range(s, i))
    }

    private mutating func number() -> Token {
        let s = i
        if b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
        while isDigit(peek()) || peek() == UInt8(ascii: "_") { i += 1 }
        var isFloat = false
        // `0..29` is a range: a single `.` followed by a digit makes a float.
        if peek() == UInt8(ascii: ".") && isDigit(peek(1)) {
            isFloat = true
            i += 1
            while isDigit(peek()) || peek() == UInt8(ascii: "_") { i += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            let save = i
            i += 1
            if peek() == UInt8(ascii: "-") || peek() == UInt8(ascii: "+") { i += 1 }
            if isDigit(peek()) {
                isFloat = true
                while isDigit(peek()) { i += 1 }
            } else {
                i = save
            }
        }
        // A number glued to letters (`3x`, `1e`) is one bad token, not two good ones.
        var bad = false
        while i < b.count && isIdentContinue(at: i) { bad = true; i += utf8Length(b[i]) }
        i = min(i, b.count)
        let text = file.slice(range(s, i))
        let clean = text.replacingUnderscores()
        if !bad {
            if !isFloat, let v = Int(clean) { return Token(kind: .integer(v), range: range(s, i)) }
            if let v = Double(clean), v.isFinite { return Token(kind: .float(v), range: range(s, i)) }
        }
        diagnostics.error(.invalidNumber(text), at: range(s, i))
        return Token(kind: .invalid(text), range: range(s, i))
    }

    private mutating func quotedString() -> Token {
        let s = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < b.count, b[i] != UInt8(ascii: "\n") else {
                diagnostics.error(.unterminatedString, at: range(s, i))
                return Token(kind: .string(String(decoding: out, as: UTF8.self), triple: false), range: range(s, i))
            }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c == UInt8(ascii: "\\") {
                let e = peek(1)
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "\\"): out.append(e)
                case UInt8(ascii: "\""): out.append(e)
                default:
                    let len = e == 0 || e == 10 ? 1 : 1 + utf8Length(e)
                    diagnostics.error(.invalidEscape(file.slice(range(i, min(i + len, b.count)))),
                                      at: range(i, min(i + len, b.count)))
                    if e == 0 || e == 10 { i += 1; continue }
                }
                i = min(i + 2, b.count)
                continue
            }
            out.append(c)
            i += 1
        }
        return Token(kind: .string(String(decoding: out, as: UTF8.self), triple: false), range: range(s, i))
    }

    /// `"""` strings: text starts on the line after the opening quotes; the closing quotes' indentation
    /// is removed from every line (as in Swift). No escapes inside.
    private mutating func tripleString() -> Token {
        let s = i
        i += 3
        // Rest of the opening line must be blank.
        var j = i
        while j < b.count && (b[j] == UInt8(ascii: " ") || b[j] == UInt8(ascii: "\t") || b[j] == UInt8(ascii: "\r")) { j += 1 }
        if j < b.count && b[j] != UInt8(ascii: "\n") {
            diagnostics.error(.tripleQuoteContentOnOpeningLine, at: range(j, j + 1))
        }
        // Find the closing delimiter.
        var k = i
        var close = -1
        while k + 2 < b.count {
            if b[k] == UInt8(ascii: "\"") && b[k + 1] == UInt8(ascii: "\"") && b[k + 2] == UInt8(ascii: "\"") { close = k; break }
            k += 1
        }
        guard close >= 0 else {
            diagnostics.error(.unterminatedString, at: range(s, s + 3))
            i = b.count
            return Token(kind: .string("", triple: true), range: range(s, i))
        }
        i = close + 3
        let bodyStart = j < b.count && b[j] == UInt8(ascii: "\n") ? j + 1 : j
        // Indentation = whitespace between the last newline and the closing quotes.
        var ls = close
        while ls > bodyStart && b[ls - 1] != UInt8(ascii: "\n") { ls -= 1 }
        let indent = Array(b[ls..<close])
        let closingOnOwnLine = indent.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let body: [UInt8] = bodyStart <= ls ? Array(b[bodyStart..<ls]) : []
        let prefix = closingOnOwnLine ? indent : []
        var lines: [[UInt8]] = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        if closingOnOwnLine, lines.last == [] { lines.removeLast() }  // newline before closing quotes
        if !closingOnOwnLine {
            // `text"""` on the last line: that line's text belongs to the string.
            lines.append(Array(b[ls..<close]))
        }
        var outLines: [String] = []
        var lineStart = bodyStart
        for line in lines {
            var l = line
            if l.last == UInt8(ascii: "\r") { l.removeLast() }
            let blank = l.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            if l.starts(with: prefix) {
                l.removeFirst(prefix.count)
            } else if !blank {
                diagnostics.error(.tripleQuoteBadIndentation, at: range(lineStart, lineStart + line.count))
            } else {
                l = []
            }
            outLines.append(String(decoding: l, as: UTF8.self))
            lineStart += line.count + 1
        }
        return Token(kind: .string(outLines.joined(separator: "\n"), triple: true), range: range(s, i))
    }
}

extension String {
    func replacingUnderscores() -> String { String(self.filter { $0 != "_" }) }
}
