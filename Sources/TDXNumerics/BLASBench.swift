import Foundation
import TDXCore

/// `tdx bench blas`: which OpenBLAS kernels loaded and the sgemm rate they give at a few square sizes.
public enum BLASBench: Subcommand {
    public static let name = "blas"
    public static let summary = "Report the loaded OpenBLAS core and its sgemm GFLOPS"
    public static let help = """
        usage: tdx bench blas [--json] [--sizes 512,1024,2048]

        Times C = A·B (float32, square) after one warm-up and reports GFLOPS per size, together with the
        OpenBLAS core in use and the best core this CPU supports, and whether the kernels give a product's
        elements the same bits however the product is split (if not, results depend on the core count).
        """

    public static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        var json = false
        var sizes = [512, 1024, 2048]
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--json": json = true
            case "--sizes":
                i += 1
                guard i < arguments.count else { throw UsageError("--sizes needs a value", help: "e.g. --sizes 512,1024") }
                sizes = arguments[i].split(separator: ",").compactMap { Int($0) }
            default: throw UsageError("unknown option \(arguments[i])", help: "see tdx bench blas --help")
            }
            i += 1
        }
        let rates = sizes.map { ($0, sgemmGFLOPS(size: $0)) }
        if json {
            let body = rates.map { "\"\($0.0)\":\(String(format: "%.1f", $0.1))" }.joined(separator: ",")
            io.out("{\"core\":\"\(BLASRuntime.coreName)\",\"cpu_best\":\"\(BLASRuntime.bestCoreForCPU() ?? "unknown")\","
                   + "\"partition_invariant\":\(BLASRuntime.partitionInvariant),\"sgemm_gflops\":{\(body)}}\n")
        } else {
            io.out("\(BLASRuntime.summary)\n")
            for (n, g) in rates { io.out("sgemm \(n)x\(n)x\(n): \(String(format: "%.1f", g)) GFLOPS\n") }
            io.out(BLASRuntime.partitionInvariant
                   ? "a product's elements have the same bits however the product is split (threads, batches)\n"
                   : "a product's elements change in their last bits with how the product is split: results depend on the core count too\n")
        }
        return 0
    }

    /// Best-of-several sgemm rate for n×n×n.
    public static func sgemmGFLOPS(size n: Int) -> Double {
        var rng = SeededRNG(seed: 7)
        let a = Tensor.randomNormal(shape: [n, n], std: 1, rng: &rng).data
        let b = Tensor.randomNormal(shape: [n, n], std: 1, rng: &rng).data
        var c = [Float](repeating: 0, count: n * n)
        BLAS.sgemm(.none, .none, m: n, n: n, k: n, a: a, b: b, c: &c)
        var best = Double.infinity
        let reps = max(3, Int(2e9 / Double(2 * n * n * n)))
        for _ in 0..<reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            BLAS.sgemm(.none, .none, m: n, n: n, k: n, a: a, b: b, c: &c)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
    }
}
