import TDXAnalysis
import TDXCore
import TDXModels
import TDXNumerics
import TDXRL

/// `tdx bench NAME`: benchmarks that print their figure and, where the issue names one, the ratio to a
/// reference measured in the same run.
enum BenchCommand: Subcommand {
    static let name = "bench"
    static let summary = "Benchmarks (parse, cache, blas, sae, corr, forward, fit) with ratios against references"
    static var benches: [any Subcommand.Type] {
        [ParseBench.self, CacheBenchCommand.self, BLASBench.self, SAEBench.self, CorrBench.self, ForwardBench.self, FitBench.self]
    }

    static var help: String {
        "Usage: tdx bench NAME [--json]\n\nBenchmarks:\n"
            + benches.map { "  \($0.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \($0.summary)\n" }.joined()
    }

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        guard let which = arguments.first else { io.out(help); return 0 }
        guard let b = benches.first(where: { $0.name == which }) else {
            throw UsageError("unknown benchmark `\(which)`",
                             help: Suggest.closest(to: which, in: benches.map { $0.name }).map { "did you mean `\($0)`?" }
                                ?? "benchmarks: \(benches.map { $0.name }.joined(separator: ", "))")
        }
        let rest = Array(arguments.dropFirst())
        if rest.first == "--help" { io.out(b.help); return 0 }
        return TDXCLI.invoke(b, rest, io: io)
    }
}
