import TDXCore
import TDXLang

enum HelpCommand: Subcommand {
    static let name = "help"
    static let summary = "Help for a command, or the parameters of a block (`tdx help sae`)"
    static let help = """
    Usage: tdx help [COMMAND | BLOCK]

    `tdx help check` shows a command's help; `tdx help sae` lists the parameters of the `sae`
    block with types, defaults and meaning (`tdx help spec` for top-level settings).
    `tdx help --tables` prints every block's parameters as the Markdown tables of Grammar/README.md.
    Blocks: \(Schema.blockKindNames.joined(separator: ", ")).

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        guard let topic = arguments.first else { io.out(TDXCLI.usage); return 0 }
        if topic == "--tables" { io.out(Schema.markdownTables()); return 0 }
        // `model` is both a command and a block: both are shown.
        var texts: [String] = []
        if let cmd = TDXCLI.commands.first(where: { $0.name == topic }) { texts.append(cmd.help) }
        if let text = Schema.helpText(block: topic) { texts.append(text) }
        if !texts.isEmpty { io.out(texts.joined(separator: "\n")); return 0 }
        var all: [String] = []
        for name in TDXCLI.commands.map({ $0.name }) + Schema.blockKindNames where !all.contains(name) { all.append(name) }
        throw UsageError("no help for `\(topic)`",
                         help: Suggest.closest(to: topic, in: all).map { "did you mean `\($0)`?" }
                            ?? "topics: \(all.joined(separator: ", "))")
    }
}
