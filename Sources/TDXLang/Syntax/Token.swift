public enum TokenKind: Sendable, Equatable {
    case identifier(String)
    case integer(Int)
    case float(Double)
    /// Quoted or triple-quoted string, escapes / indentation already processed.
    case string(String, triple: Bool)
    case lbrace, rbrace, lbracket, rbracket, lparen, rparen
    case equals, comma, dotdot
    case invalid(String)
    case eof
}

public struct Comment: Sendable, Equatable {
    public var text: String          // including the `//` or `/* */`
    public var range: SourceRange
    /// True when nothing but whitespace precedes it on its line.
    public var ownLine: Bool
    /// Newlines between the previous token or comment and this comment.
    public var newlinesBefore: Int
}

public struct Token: Sendable, Equatable {
    public var kind: TokenKind
    public var range: SourceRange
    /// Comments between the previous token and this one.
    public var leadingComments: [Comment] = []
    /// Newlines between the previous token (or comment) and this token.
    public var newlinesBefore: Int = 0

    public var identifier: String? { if case .identifier(let s) = kind { return s }; return nil }
    public var isEOF: Bool { kind == .eof }
}
