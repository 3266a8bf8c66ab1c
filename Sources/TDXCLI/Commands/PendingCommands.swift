import TDXCore

/// Commands whose engine is not built yet: they say so plainly and exit 2.
protocol PendingCommand: Subcommand {}

extension PendingCommand {
    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        throw NotImplementedYet("`tdx \(name)`")
    }
    static var help: String { "Usage: tdx \(name) …\n\n\(summary).\nNot implemented yet in this version.\n" }
}

enum PlanCommand: PendingCommand {
    static let name = "plan"
    static let summary = "Show every stage, whether it is cached, and why it must run"
}
enum RunCommand: PendingCommand {
    static let name = "run"
    static let summary = "Run the stages a spec needs and write its report"
}
enum StatusCommand: PendingCommand {
    static let name = "status"
    static let summary = "What is cached for a spec and what is stale"
}
enum LogCommand: PendingCommand {
    static let name = "log"
    static let summary = "Past runs and where their time went"
}
enum ShowCommand: PendingCommand {
    static let name = "show"
    static let summary = "Params, inputs, provenance, size and timings of a stage or key"
}
enum ExportCommand: PendingCommand {
    static let name = "export"
    static let summary = "Export a stage's output (JSON/CSV tables, .npy arrays, SAEs as safetensors)"
}
enum GCCommand: PendingCommand {
    static let name = "gc"
    static let summary = "Remove cached artifacts no given spec reaches"
}
enum VerifyCommand: PendingCommand {
    static let name = "verify"
    static let summary = "Re-hash every cached blob; evict corrupt artifacts"
}
