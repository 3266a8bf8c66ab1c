// The syntax tree of one .tdx file: value types with source ranges, and the comments the
// formatter must keep.

public struct Name: Sendable, Equatable {
    public var text: String
    public var range: SourceRange
    public init(_ text: String, _ range: SourceRange) { self.text = text; self.range = range }
}

public indirect enum ExprKind: Sendable, Equatable {
    case integer(Int)
    /// The literal text is kept so that `fmt` prints `1e-5` as written.
    case float(Double, literal: String)
    case string(String, triple: Bool)
    case bool(Bool)
    case identifier(String)
    case list([Expr])
    case range(from: Int, to: Int, by: Int?)
    case call(Name, [Expr])
    /// Placeholder after a syntax error (already diagnosed).
    case error
}

public struct Expr: Sendable, Equatable {
    public var kind: ExprKind
    public var range: SourceRange
    public init(_ kind: ExprKind, _ range: SourceRange) { self.kind = kind; self.range = range }
}

/// Comments attached to an item or entry, for the formatter.
public struct Trivia: Sendable, Equatable {
    /// Comments on their own lines before the node (and comments found inside it, moved before it).
    public var leading: [Comment] = []
    /// A comment after the node on its last line.
    public var trailing: Comment?
    /// A blank line separated this node from the previous one.
    public var blankLineBefore = false
    public init() {}
}

public struct Entry: Sendable, Equatable {
    public var key: Name
    public var value: Expr
    /// `key in [a, b, c]`
    public var isSweep: Bool
    public var range: SourceRange
    public var trivia = Trivia()
}

public struct Block: Sendable, Equatable {
    public var kind: Name
    public var label: Name?
    public var entries: [Entry]
    public var range: SourceRange
    public var openRange: SourceRange
    /// Comments just before the closing `}`.
    public var closingComments: [Comment] = []
}

public enum ItemKind: Sendable, Equatable {
    case header(version: Int)
    case importFile(String)
    case letBinding(Name, Expr)
    case setting(Entry)
    case block(Block)
}

public struct Item: Sendable, Equatable {
    public var kind: ItemKind
    public var range: SourceRange
    public var trivia = Trivia()
}

public struct SpecAST: Sendable, Equatable {
    public var fileID: Int
    public var items: [Item]
    /// Comments after the last item.
    public var trailingComments: [Comment]
}
