import TDXCore

/// Commands whose engine is not built yet: they say so plainly and exit 2.
protocol PendingCommand: Subcommand {}

extension PendingCommand {
    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        throw NotImplementedYet("`tdx \(name)`")
    }
    static var help: String { "Usage: tdx \(name) …\n\n\(summary).\nNot implemented yet in this version.\n" }
}
