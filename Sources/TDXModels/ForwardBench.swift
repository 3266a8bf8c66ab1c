import CBLAS
import Foundation
import TDXCore

/// `tdx bench forward`: prompt-processing throughput of the in-process engine.
public enum ForwardBench: Subcommand {
    public static let name = "forward"
    public static let summary = "Prompt-processing tokens/s and peak RSS of the local model"
    public static let help = """
        usage: tdx bench forward [--model NAME|PATH] [--tokens 512] [--sequences 1] [--threads 2] [--reps 3] [--json]

        Runs --sequences random sequences of --tokens tokens through the model (logits at the last position
        only, as llama-bench -p does) after one warm-up pass, and prints tokens/s (mean over --reps) and the
        process's peak RSS. With LLAMA_BENCH pointing at llama.cpp's llama-bench, it also runs
        `llama-bench -m MODEL -p TOKENS -n 0 -t THREADS` and prints the ratio.
        --json prints {"tokens_per_second":..,"peak_rss_mb":..} (plus the reference when measured).
        """

    public static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        var o = Options(arguments)
        if o.flag("--help") || o.flag("-h") { io.out(help + "\n"); return 0 }
        let model = try o.value("--model") ?? ModelStore.defaultModel
        func int(_ flag: String, _ def: Int) throws -> Int {
            guard let s = try o.value(flag) else { return def }
            guard let v = Int(s), v > 0 else { throw UsageError("\(flag) needs a positive integer, got '\(s)'") }
            return v
        }
        let tokens = try int("--tokens", 512), sequences = try int("--sequences", 1)
        let threads = try int("--threads", 2), reps = try int("--reps", 3)
        let json = o.flag("--json")
        try o.finish()

        let path = try ModelStore(environment: io.environment, currentDirectory: io.currentDirectory).resolve(model)
        openblas_set_num_threads(Int32(threads))
        let core = PackedMatrix.blasCoreName
        let gemm = PackedMatrix.preferPacked ? "swift-simd (packed)" : "openblas"
        LanguageModel.threads = threads
        let t0 = Date()
        let m = try LanguageModel.load(path: path)
        let loadSeconds = Date().timeIntervalSince(t0)
        var rng = SeededRNG(seed: 1234)
        let seqs = (0..<sequences).map { _ in (0..<tokens).map { _ in rng.int(below: m.tokenizer.vocabSize) } }
        let req = ForwardRequest(sequences: seqs)
        _ = try m.forward(req)
        var times: [Double] = []
        for _ in 0..<reps {
            let t = Date()
            _ = try m.forward(req)
            times.append(Date().timeIntervalSince(t))
        }
        let tps = Double(tokens * sequences) / (times.reduce(0, +) / Double(reps))
        let rss = peakRSSMegabytes()
        let (blasGF, swiftGF) = gemmGFLOPS(threads: threads)
        var reference: Double?
        if let lb = io.environment["LLAMA_BENCH"], !lb.isEmpty, path.hasSuffix(".gguf") {
            reference = try llamaBench(lb, model: path, tokens: tokens, threads: threads)
        }
        if json {
            var pairs = [("tokens_per_second", JSONText.number((tps * 10).rounded() / 10)),
                         ("peak_rss_mb", JSONText.number((rss * 10).rounded() / 10)),
                         ("openblas_core", JSONText.string(core)), ("gemm", JSONText.string(gemm)),
                         ("gemm_gflops_openblas", JSONText.number((blasGF * 10).rounded() / 10)),
                         ("gemm_gflops_swift", JSONText.number((swiftGF * 10).rounded() / 10))]
            if let r = reference {
                pairs += [("llama_bench_tokens_per_second", JSONText.number((r * 10).rounded() / 10)),
                          ("ratio", JSONText.number((tps / r * 100).rounded() / 100))]
            }
            io.out(JSONText.object(pairs) + "\n")
        } else {
            io.out(String(format: "model: %@ (loaded in %.1f s)\n", path, loadSeconds))
            io.out("OpenBLAS core: \(core); matrix products: \(gemm); threads: \(threads)\n")
            io.out(String(format: "prompt processing: %d × %d tokens: %.1f tokens/s (best %.1f)\n", sequences, tokens, tps,
                          Double(tokens * sequences) / (times.min() ?? 1)))
            io.out(String(format: "peak RSS: %.1f MB\n", rss))
            io.out(String(format: "sgemm 512×1536×576: OpenBLAS (%@) %.1f GFLOPS, Swift SIMD %.1f GFLOPS\n", core, blasGF, swiftGF))
            if let r = reference {
                io.out(String(format: "llama-bench pp%d -t %d: %.1f tokens/s; ratio tdx / llama.cpp = %.2f\n", tokens, threads, r, tps / r))
            }
        }
        return 0
    }

    /// GFLOPS of y[512 × 1536] = x[512 × 576]·Wᵀ through OpenBLAS and through the packed Swift kernel (best of 5).
    static func gemmGFLOPS(threads: Int) -> (blas: Double, swift: Double) {
        let n = 512, k = 576, m = 1536
        var rng = SeededRNG(seed: 5)
        let x = (0..<(n * k)).map { _ in rng.uniformFloat() - 0.5 }, w = (0..<(m * k)).map { _ in rng.uniformFloat() - 0.5 }
        var y = [Float](repeating: 0, count: n * m)
        func best(_ f: () -> Void) -> Double {
            var t = Double.infinity
            for _ in 0..<5 { let s = Date(); f(); t = min(t, Date().timeIntervalSince(s)) }
            return 2 * Double(n * m * k) / t / 1e9
        }
        let blas = PackedMatrix(rowMajor: w, outDim: m, inDim: k, pack: false)
        let packed = PackedMatrix(rowMajor: w, outDim: m, inDim: k, pack: true)
        let b = best { blas.apply(x, rows: n, &y) }
        let s = best { packed.apply(x, rows: n, &y, threads: threads) }
        return (b, s)
    }

    static func peakRSSMegabytes() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024   // kilobytes on Linux
    }

    /// Runs llama-bench and returns its mean tokens/s.
    static func llamaBench(_ exe: String, model: String, tokens: Int, threads: Int) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-m", model, "-p", String(tokens), "-n", "0", "-t", String(threads), "-o", "json"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { throw UsageError("cannot run LLAMA_BENCH=\(exe): \(error.localizedDescription)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0,
              let arr = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]],
              let ts = arr.first?["avg_ts"] as? Double else {
            throw UsageError("LLAMA_BENCH=\(exe) did not produce llama-bench JSON (exit \(p.terminationStatus))")
        }
        return ts
    }
}
