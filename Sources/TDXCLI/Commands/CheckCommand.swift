import TDXCore
import TDXLang

enum CheckCommand: Subcommand {
    static let name = "check"
    static let summary = "Check specs for errors; --resolved prints the fully explicit spec"
    static let help = """
    Usage: tdx check [--json] FILE...
           tdx check --resolved FILE

    Checks each spec: syntax, every parameter's type and range, references between blocks.
    Every error of a file is reported at once. Exit 0 when all files are valid, 1 otherwise.

    Options:
      --resolved  Print the spec with every default explicit, imports inlined and built-in
                  models pinned by SHA-256: the exact experiment definition to publish.
      --json      Print diagnostics as JSON: {"diagnostics":[{"file","line","column",...}],"errors":N}

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: ["--json", "--resolved"], options: [])
        guard !args.positionals.isEmpty else { throw UsageError("no spec file given", help: "tdx check specs/quick.tdx") }
        let json = args.has("--json")
        if args.has("--resolved") {
            guard args.positionals.count == 1 else { throw UsageError("--resolved takes exactly one file") }
            let result = SpecLoading.check(args.positionals[0])
            guard let spec = result.spec else { SpecLoading.report(result, io: io, json: json); return 1 }
            io.out(spec.canonicalText)
            return 0
        }
        var failed = false
        var allJSON: [String] = []
        for path in args.positionals {
            let result = SpecLoading.check(path)
            failed = failed || result.hasErrors
            if json {
                allJSON.append(DiagnosticRenderer(sources: result.sources).json(result.diagnostics))
            } else {
                SpecLoading.report(result, io: io, json: false)
            }
        }
        if json {
            io.out(allJSON.count == 1 ? allJSON[0] + "\n" : "[" + allJSON.joined(separator: ",") + "]\n")
        } else if !failed {
            io.err(args.positionals.count == 1 ? "\(args.positionals[0]): ok\n" : "\(args.positionals.count) specs: ok\n")
        }
        return failed ? 1 : 0
    }
}
