import TDXCore

enum PlanCommand: Subcommand {
    static let name = "plan"
    static let summary = "Show every stage, whether it is cached, and why it must run"
    static let help = """
    Usage: tdx plan FILE [--json] [--only STAGE] [--until STAGE] [--force STAGE] [--cache PATH]

    Derives the stage graph from the spec and compares each stage's key with the cache:
      + run    sae[12]      param sae.epochs 30 → 15
        cached rollout
    STAGE is an id (`sae[12]`), a kind (`sae`, every `sae[…]`) or `sae[*]`; options repeat.

    Options:
      --json         {"stages":[{"id","kind","key","status","reason"}],"summary":{"run":N,"cached":M}}
      --only STAGE   Plan only these stages (inputs must be cached)
      --until STAGE  Plan these stages and everything they need
      --force STAGE  Re-run these stages even if cached, and every stage that reads them
      --cache PATH   Cache file (default: TDX_CACHE, else .tdx/cache.sqlite beside the spec)

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: ["--json"], options: ["--only", "--until", "--force", "--cache"])
        guard args.positionals.count == 1 else { throw UsageError("tdx plan takes one spec file", help: "tdx plan specs/quick.tdx") }
        let (_, _, _, plan, _) = try EngineSupport.plan(args.positionals[0], args: args, io: io, missing: .standIn)
        io.out(args.has("--json") ? plan.renderJSON() + "\n" : plan.renderText(color: io.isTTY))
        return 0
    }
}
