// Errors are data tagged with where they came from; DiagnosticRenderer turns them into text or JSON.

public enum Severity: String, Sendable, Codable { case error, warning, note }

public struct Diagnostic: Sendable, Equatable {
    public var severity: Severity
    public var kind: DiagnosticKind
    public var range: SourceRange
    /// Extra locations (e.g. the first definition of a duplicate).
    public var related: [(String, SourceRange)]

    public init(_ kind: DiagnosticKind, at range: SourceRange, severity: Severity = .error,
                related: [(String, SourceRange)] = []) {
        self.kind = kind; self.range = range; self.severity = severity; self.related = related
    }

    public var message: String { kind.message }
    public var help: String? { kind.help }
    public var code: String { kind.code }

    public static func == (a: Diagnostic, b: Diagnostic) -> Bool {
        a.severity == b.severity && a.kind == b.kind && a.range == b.range
            && a.related.map(\.0) == b.related.map(\.0) && a.related.map(\.1) == b.related.map(\.1)
    }
}

/// Collects diagnostics from every phase; phases keep going after an error so a file's
/// errors are all reported at once.
public struct DiagnosticBag: Sendable {
    public private(set) var items: [Diagnostic] = []
    public init() {}
    public mutating func add(_ d: Diagnostic) { items.append(d) }
    public mutating func error(_ kind: DiagnosticKind, at range: SourceRange,
                               related: [(String, SourceRange)] = []) {
        items.append(Diagnostic(kind, at: range, related: related))
    }
    public mutating func append(contentsOf other: DiagnosticBag) { items.append(contentsOf: other.items) }
    public var hasErrors: Bool { items.contains { $0.severity == .error } }
}
