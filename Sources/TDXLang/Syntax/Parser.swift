// Recursive-descent parser with error recovery: after a syntax error it skips to the next line that
// starts a new entry or block, so one run reports every error in the file.
//
//   file   = { item } ;
//   item   = "tdx" INT | "import" STRING | "let" IDENT "=" expr | entry | block ;
//   block  = IDENT [ IDENT ] "{" { entry } "}" ;
//   entry  = IDENT ( "=" expr | "in" expr ) ;
//   expr   = INT [ ".." INT [ "by" INT ] ] | FLOAT | STRING | "true" | "false"
//          | IDENT [ "(" [ expr { "," expr } ] ")" ] | "[" [ expr { "," expr } [ "," ] ] "]" ;

public struct Parser {
    private var tokens: [Token]
    private var pos = 0
    private let fileID: Int
    private let file: SourceFile
    public private(set) var diagnostics = DiagnosticBag()
    /// Comments of tokens consumed since the current node began.
    private var collected: [Comment] = []

    public init(tokens: [Token], file: SourceFile, fileID: Int) { self.tokens = tokens; self.file = file; self.fileID = fileID }

    public static func parse(_ file: SourceFile, fileID: Int) -> (SpecAST, DiagnosticBag) {
        let (tokens, lexDiags) = Lexer.tokenize(file, fileID: fileID)
        var p = Parser(tokens: tokens, file: file, fileID: fileID)
        let ast = p.parseFile()
        var all = lexDiags
        all.append(contentsOf: p.diagnostics)
        return (ast, all)
    }

    // MARK: token helpers

    private var tok: Token { tokens[pos] }
    private func peek(_ k: Int) -> Token { tokens[min(pos + k, tokens.count - 1)] }

    @discardableResult
    private mutating func advance() -> Token {
        let t = tokens[pos]
        collected.append(contentsOf: t.leadingComments)
        if pos < tokens.count - 1 { pos += 1 }
        return t
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .identifier(let s): "`\(s)`"
        case .integer, .float: "number"
        case .string: "string"
        case .lbrace: "`{`"
        case .rbrace: "`}`"
        case .lbracket: "`[`"
        case .rbracket: "`]`"
        case .lparen: "`(`"
        case .rparen: "`)`"
        case .equals: "`=`"
        case .comma: "`,`"
        case .dotdot: "`..`"
        case .invalid(let s): "`\(s)`"
        case .eof: "end of file"
        }
    }

    private mutating func expectError(_ what: String) {
        diagnostics.error(.expected(what, found: describe(tok)), at: tok.range)
    }

    private func isIdent(_ t: Token, _ s: String) -> Bool { t.identifier == s }
    private func startsLine(_ t: Token) -> Bool { t.newlinesBefore > 0 || t.leadingComments.contains { $0.ownLine } }

    /// Takes the comment on the same line as the end of a node, if any.
    private mutating func takeTrailingComment() -> Comment? {
        guard let idx = tokens[pos].leadingComments.firstIndex(where: { !$0.ownLine && $0.newlinesBefore == 0 }),
              idx == 0 else { return nil }
        return tokens[pos].leadingComments.removeFirst()
    }

    private mutating func beginNode() -> Trivia {
        collected = []
        var t = Trivia()
        let first = tok.leadingComments.first
        t.blankLineBefore = (first?.newlinesBefore ?? tok.newlinesBefore) >= 2
        return t
    }

    private mutating func finishNode(_ t: inout Trivia) {
        t.leading = collected
        collected = []
        t.trailing = takeTrailingComment()
    }

    // MARK: recovery

    /// Skips to the next token that begins a line at bracket depth 0 with an identifier, or to a `}`
    /// that closes the current block (not consumed), or to EOF.
    private mutating func synchronize() {
        var depth = 0
        var first = true
        while !tok.isEOF {
            if !first && depth == 0 && startsLine(tok) && tok.identifier != nil { return }
            switch tok.kind {
            case .lbracket, .lparen, .lbrace: depth += 1
            case .rbracket, .rparen: depth = max(0, depth - 1)
            case .rbrace:
                if depth == 0 { return }
                depth -= 1
            default: break
            }
            advance()
            first = false
        }
    }

    // MARK: file

    public mutating func parseFile() -> SpecAST {
        var items: [Item] = []
        while !tok.isEOF {
            let before = pos
            if let item = parseItem(isFirst: items.isEmpty) { items.append(item) }
            if pos == before { advance() }  // guarantee progress
        }
        let trailing = collected + tok.leadingComments
        collected = []
        return SpecAST(fileID: fileID, items: items, trailingComments: trailing)
    }

    private mutating func parseItem(isFirst: Bool) -> Item? {
        var trivia = beginNode()
        let start = tok.range
        guard let word = tok.identifier else {
            if tok.kind == .rbrace {
                diagnostics.error(.expected("a block or setting", found: "`}` with no open block"), at: tok.range)
                advance()
            } else {
                expectError("a block or setting")
                synchronize()
            }
            return nil
        }
        let next = peek(1)
        // `tdx 1`
        if word == "tdx", case .integer(let v) = next.kind {
            advance(); advance()
            if !isFirst { diagnostics.error(.misplacedHeader, at: start.to(next.range)) }
            if v != 1 { diagnostics.error(.unsupportedVersion(v), at: next.range) }
            finishNode(&trivia)
            return Item(kind: .header(version: v), range: start.to(next.range), trivia: trivia)
        }
        if word == "import", case .string(let path, _) = next.kind {
            advance(); advance()
            finishNode(&trivia)
            return Item(kind: .importFile(path), range: start.to(next.range), trivia: trivia)
        }
        if word == "let", let name = next.identifier {
            advance()
            let nameTok = advance()
            guard tok.kind == .equals else { expectError("`=` after `let \(name)`"); synchronize(); return nil }
            advance()
            let value = parseExpr()
            finishNode(&trivia)
            return Item(kind: .letBinding(Name(name, nameTok.range), value), range: start.to(value.range), trivia: trivia)
        }
        if next.kind == .equals || isIdent(next, "in") {
            guard var entry = parseEntry() else { return nil }
            finishNode(&entry.trivia)
            entry.trivia.blankLineBefore = trivia.blankLineBefore
            trivia.leading = entry.trivia.leading
            trivia.trailing = entry.trivia.trailing
            return Item(kind: .setting(entry), range: entry.range, trivia: trivia)
        }
        if next.kind == .lbrace || (next.identifier != nil && peek(2).kind == .lbrace) {
            // Entries reset the comment collector, so take the block's own comments first.
            var leading = tokens[pos].leadingComments
            tokens[pos].leadingComments = []
            let block = parseBlock(headerComments: &leading)
            collected = []
            trivia.leading = leading
            trivia.trailing = takeTrailingComment()
            return Item(kind: .block(block), range: block.range, trivia: trivia)
        }
        if word == "import" || word == "let" {
            advance()
            expectError(word == "import" ? "a quoted file name after `import`" : "a name after `let`")
        } else if next.identifier != nil || next.kind == .lbrace {
            advance()
            if next.identifier != nil { advance() }
            expectError("`{` to open the block")
        } else {
            advance()
            expectError("`=` or `{` after `\(word)`")
        }
        synchronize()
        return nil
    }

    // MARK: blocks

    private mutating func parseBlock(headerComments: inout [Comment]) -> Block {
        collected = []
        let kindTok = advance()
        let kind = Name(kindTok.identifier ?? "", kindTok.range)
        var label: Name?
        if let l = tok.identifier { label = Name(l, tok.range); advance() }
        let open = advance()  // `{`
        headerComments += collected
        collected = []
        var entries: [Entry] = []
        while true {
            if tok.kind == .rbrace {
                let closing = collected + tok.leadingComments
                collected = []
                let close = advance()
                collected = []
                return Block(kind: kind, label: label, entries: entries,
                             range: kindTok.range.to(close.range), openRange: open.range, closingComments: closing)
            }
            if tok.isEOF || looksLikeBlockStart() {
                diagnostics.error(.unclosed("{"), at: open.range)
                return Block(kind: kind, label: label, entries: entries,
                             range: kindTok.range.to(open.range), openRange: open.range)
            }
            let before = pos
            var trivia = beginNode()
            if var e = parseEntry() {
                finishNode(&e.trivia)
                e.trivia.blankLineBefore = trivia.blankLineBefore
                entries.append(e)
            } else {
                finishNode(&trivia)
            }
            if pos == before { advance() }
        }
    }

    /// `model llm {` or `sae {` on a new line inside a block means the block was never closed.
    private func looksLikeBlockStart() -> Bool {
        guard startsLine(tok), let w = tok.identifier, Schema.block(named: w) != nil else { return false }
        return peek(1).kind == .lbrace || (peek(1).identifier != nil && peek(2).kind == .lbrace)
    }

    // MARK: entries

    private mutating func parseEntry() -> Entry? {
        guard let key = tok.identifier else {
            expectError("a parameter name")
            synchronize()
            return nil
        }
        let keyTok = advance()
        let isSweep: Bool
        if tok.kind == .equals {
            isSweep = false
        } else if isIdent(tok, "in") {
            isSweep = true
        } else {
            expectError("`=` after `\(key)`")
            synchronize()
            return nil
        }
        advance()
        if startsLine(tok) && peek(1).kind == .equals || tok.kind == .rbrace || tok.isEOF {
            // Point at the `=` when the value is missing at the end of a line, not at the next line.
            let at = startsLine(tok) || tok.isEOF ? tokens[pos - 1].range : tok.range
            diagnostics.error(.expected("a value for `\(key)`", found: describe(tok)), at: at)
            return Entry(key: Name(key, keyTok.range), value: Expr(.error, tok.range), isSweep: isSweep,
                         range: keyTok.range)
        }
        let value = parseExpr()
        return Entry(key: Name(key, keyTok.range), value: value, isSweep: isSweep, range: keyTok.range.to(value.range))
    }

    // MARK: expressions

    private mutating func parseExpr() -> Expr {
        let t = tok
        switch t.kind {
        case .integer(let a):
            advance()
            guard tok.kind == .dotdot else { return Expr(.integer(a), t.range) }
            advance()
            guard case .integer(let b) = tok.kind else {
                expectError("an integer after `..`")
                return Expr(.error, t.range)
            }
            var end = advance().range
            var step: Int?
            if isIdent(tok, "by") {
                advance()
                if case .integer(let s) = tok.kind { step = s; end = advance().range } else { expectError("an integer after `by`") }
            }
            return Expr(.range(from: a, to: b, by: step), t.range.to(end))
        case .float(let v):
            advance()
            return Expr(.float(v, literal: file.slice(t.range)), t.range)
        case .string(let s, let triple):
            advance()
            return Expr(.string(s, triple: triple), t.range)
        case .identifier(let name):
            advance()
            if name == "true" { return Expr(.bool(true), t.range) }
            if name == "false" { return Expr(.bool(false), t.range) }
            if tok.kind == .lparen && tok.newlinesBefore == 0 {
                let open = advance()
                let (args, end) = parseSequence(close: .rparen, open: open)
                return Expr(.call(Name(name, t.range), args), t.range.to(end))
            }
            return Expr(.identifier(name), t.range)
        case .lbracket:
            let open = advance()
            let (items, end) = parseSequence(close: .rbracket, open: open)
            return Expr(.list(items), t.range.to(end))
        case .invalid:
            advance()
            return Expr(.error, t.range)
        default:
            expectError("a value")
            return Expr(.error, t.range)
        }
    }

    private mutating func parseSequence(close: TokenKind, open: Token) -> ([Expr], SourceRange) {
        var items: [Expr] = []
        while true {
            if tok.kind == close { let e = advance(); return (items, e.range) }
            // An entry on a new line means the bracket was never closed.
            if tok.isEOF || tok.kind == .rbrace || (startsLine(tok) && tok.identifier != nil && peek(1).kind == .equals) {
                diagnostics.error(.unclosed(close == .rparen ? "(" : "["), at: open.range)
                return (items, items.last?.range ?? open.range)
            }
            let before = pos
            items.append(parseExpr())
            if tok.kind == .comma { advance(); continue }
            if tok.kind == close { continue }
            if pos == before { advance() } else if !(startsLine(tok) && tok.identifier != nil && peek(1).kind == .equals) && !tok.isEOF && tok.kind != .rbrace {
                expectError("`,` or `\(close == .rparen ? ")" : "]")`")
                if pos == before { advance() }
            }
        }
    }
}
