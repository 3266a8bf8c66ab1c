import Foundation

/// Where a subcommand writes. Tests pass closures that capture; the CLI passes stdout/stderr.
public struct CommandIO: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    /// Colour and progress bars only when this is true.
    public var isTTY: Bool
    public var environment: [String: String]
    public var currentDirectory: String

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
                isTTY: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: String = FileManager.default.currentDirectoryPath) {
        self.out = out; self.err = err; self.isTTY = isTTY
        self.environment = environment; self.currentDirectory = currentDirectory
    }

    /// Plain process stdout/stderr.
    public static func standard() -> CommandIO {
        CommandIO(out: { s in FileHandle.standardOutput.write(Data(s.utf8)) },
                  err: { s in FileHandle.standardError.write(Data(s.utf8)) },
                  isTTY: isatty(1) == 1)
    }
}

/// A subcommand (or a `tdx bench` / `tdx model` sub-subcommand). Modules implement these; TDXCLI
/// only lists and dispatches them, so each module owns its own front end.
public protocol Subcommand {
    static var name: String { get }
    /// One line for `tdx --help`.
    static var summary: String { get }
    /// Full help text for `tdx NAME --help` (usage line, options, examples).
    static var help: String { get }
    /// Returns the exit code: 0 ok, 1 user error. Throw `UserError` for user errors;
    /// anything else thrown is an internal error (exit 2).
    static func run(_ arguments: [String], io: CommandIO) throws -> Int32
}

/// An error the user caused and can fix: rendered as `error: message` + `help: …`, exit 1, no trace.
public protocol UserError: Error, CustomStringConvertible {
    var message: String { get }
    var help: String? { get }
}

extension UserError {
    public var description: String { help.map { "\(message)\nhelp: \($0)" } ?? message }
}

/// A generic user error for command-line mistakes (unknown flag, missing argument).
public struct UsageError: UserError {
    public var message: String
    public var help: String?
    public init(_ message: String, help: String? = nil) { self.message = message; self.help = help }
}

/// Raised by commands whose engine is not built yet: exit 2 with a plain sentence.
public struct NotImplementedYet: Error, CustomStringConvertible {
    public var what: String
    public init(_ what: String) { self.what = what }
    public var description: String { "\(what) is not implemented yet in this version of tdx" }
}
