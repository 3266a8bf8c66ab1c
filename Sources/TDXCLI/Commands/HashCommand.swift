import TDXCore
import TDXLang

enum HashCommand: Subcommand {
    static let name = "hash"
    static let summary = "Print the SHA-256 digest of a spec's resolved form"
    static let help = """
    Usage: tdx hash FILE

    Prints the SHA-256 of `tdx check --resolved FILE`. Formatting and comments do not change it;
    any change of meaning (a parameter, a default made explicit or not, an import's content) does.

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: [], options: [])
        guard args.positionals.count == 1 else { throw UsageError("tdx hash takes one spec file") }
        let (spec, _) = try SpecLoading.load(args.positionals[0], io: io)
        io.out(spec.digest + "\n")
        return 0
    }
}
