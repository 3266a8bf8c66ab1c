import Foundation
import TDXCore
import TDXLang

/// Times `tdx check` of a generated 1,000-line spec (target: under 50 ms).
enum ParseBench: Subcommand {
    static let name = "parse"
    static let summary = "Time to check a generated 1,000-line spec (target < 50 ms)"
    static let help = "Usage: tdx bench parse [--lines N] [--json]\n\nGenerates a spec of about N lines (default 1000) and times the full front end on it.\n"

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: ["--json"], options: ["--lines"])
        let lines = Int(args.value("--lines") ?? "1000") ?? 1000
        let text = SpecGenerator.large(lines: lines)
        let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
        let reader: FileReader = { _ in text }
        // Warm up once, then take the best of several runs.
        _ = Frontend.check(text: text, path: "bench.tdx", reader: reader)
        var best = Double.infinity
        var errors = 0
        for _ in 0..<10 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = Frontend.check(text: text, path: "bench.tdx", reader: reader)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            best = min(best, dt)
            errors = r.diagnostics.count
        }
        if args.has("--json") {
            io.out("{\"lines\":\(lineCount),\"milliseconds\":\(String(format: "%.3f", best)),\"target_ms\":50,\"diagnostics\":\(errors)}\n")
        } else {
            io.out("check of a \(lineCount)-line spec: \(String(format: "%.2f", best)) ms (best of 10; target < 50 ms)\(errors > 0 ? ", \(errors) diagnostics" : "")\n")
        }
        return 0
    }
}

/// Valid specs of a chosen size, for benchmarks and tests.
public enum SpecGenerator {
    public static func large(lines: Int) -> String {
        var s = "tdx 1\nseed = 7\n\nmodel llm { weights = \"smollm2-135m\" }\n\ntask two_step {\n  experiments = 100\n  episodes = 30\n}\n\n"
        s += "activations { layers = 0..29 }\n\nsae {\n  epochs = 30\n  β = 1e-5\n}\n\ncorrelate { with = [td_error, q_value] }\n\n"
        var n = s.split(separator: "\n").count
        var i = 0
        while n < lines - 2 {
            s += "// agent \(i)\nagent a\(i) {\n  kind = q_learning\n  α = 0.\(i % 9 + 1)\n  γ = 0.99\n  β = \(i % 20 + 1)\n}\n\n"
            let let1 = "let l\(i) = \(i)\n"
            s += let1
            n += 9
            i += 1
        }
        return s
    }
}
