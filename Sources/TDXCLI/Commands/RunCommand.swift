import Foundation
import TDXCore
import TDXEngine
import TDXLang
import TDXPlan
import TDXStore

enum RunCommand: Subcommand {
    static let name = "run"
    static let summary = "Run the stages a spec needs (cached ones are reused) and write its report"
    static let help = """
    Usage: tdx run FILE [--dry-run] [--only STAGE] [--until STAGE] [--force STAGE] [--jobs N] [--cache PATH] [--results DIR]

    Runs every stage that is not cached, in dependency order, and commits each result atomically:
    Ctrl-C or a kill leaves finished stages cached and nothing half-written, so a re-run resumes.
    A second `tdx run` on the same cache waits for, then reuses, a stage the first is computing.

    Options:
      --dry-run      Show the plan and stop (same as `tdx plan`)
      --only, --until, --force STAGE   As for `tdx plan`
      --jobs N       Independent stages run at once (default: half the cores, at least 1)
      --cache PATH   Cache file (default: TDX_CACHE, else .tdx/cache.sqlite beside the spec)
      --results DIR  Where the report goes (default: Results/<spec name> in the current directory)

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: ["--dry-run"], options: ["--only", "--until", "--force", "--cache", "--jobs", "--results"])
        guard args.positionals.count == 1 else { throw UsageError("tdx run takes one spec file", help: "tdx run specs/quick.tdx") }
        // Before planning: a worker backend starts (and may load for minutes) while the plan is made.
        if !args.has("--dry-run") { Interrupt.install() }
        let planned: (ResolvedSpec, String, Store, Plan, Engine)
        do { planned = try EngineSupport.plan(args.positionals[0], args: args, io: io) } catch where Interrupt.requested {
            io.err("Interrupted while planning: nothing was computed.\n")
            return 130
        }
        let (spec, specPath, _, plan, engine) = planned
        if args.has("--dry-run") { io.out(plan.renderText(color: io.isTTY)); return 0 }
        let jobs: Int
        if let j = args.value("--jobs") {
            guard let n = Int(j), n >= 1 else { throw UsageError("--jobs needs a positive integer, got `\(j)`") }
            jobs = n
        } else {
            jobs = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
        }
        io.err("Plan: \(plan.summaryLine).\n")
        let t0 = Date()
        do {
            let s = try engine.run(plan, spec: spec, specPath: specPath,
                                   storePath: EngineSupport.storePath(spec: specPath, args: args, io: io),
                                   options: Executor.Options(jobs: jobs, command: (["run"] + arguments).joined(separator: " ")), io: io)
            let reused = plan.cachedCount + s.reused.count
            io.err(String(format: "Done: %d computed, %d reused in %.2f s (run %lld; `tdx log` shows timings).\n",
                          s.computed.count, reused, Date().timeIntervalSince(t0), s.runID))
            let results = args.value("--results") ?? "Results/" + URL(fileURLWithPath: specPath).deletingPathExtension().lastPathComponent
            let target = EngineSupport.absolute(results, io: io)
            let written: [String]
            do {
                written = try Results.write(plan: plan, storePath: EngineSupport.storePath(spec: specPath, args: args, io: io), to: target)
            } catch let e as UserError { throw e } catch {
                // The stages are cached: only the copy into the results directory failed.
                throw UsageError("cannot write the report to \(target): \((error as NSError).localizedDescription)",
                                 help: "the results are cached: choose another place with --results DIR and run again")
            }
            for dir in written { io.err("Report: \(dir)/report.md\n") }
            return 0
        } catch ExecutorError.interrupted {
            io.err("Interrupted: finished stages are cached; `tdx run \(args.positionals[0])` resumes.\n")
            return 130
        }
    }
}
