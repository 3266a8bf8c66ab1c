import Foundation
import TDXCore
import TDXNumerics

/// `tdx bench corr`: correlation of every latent with every variable plus the max-|r| permutation null.
public enum CorrBench: Subcommand {
    public static let name = "corr"
    public static let summary = "Time latent–variable correlations with a permutation null"
    public static let help = """
        usage: tdx bench corr [--json] [--latents 4096] [--samples 18000] [--variables 8] [--permutations 1000]
                              [--experiments 100]

        On random sparse latents: standardises columns, computes Pearson r of every latent with every variable
        (one sgemm), max |r| per variable, and the permutation null of max |r| (variables shuffled within
        experiments, batched into sgemms). Target: under 10 s at the defaults.
          --json   print {"seconds":…,"standardise_seconds":…,"correlate_seconds":…,"permutation_seconds":…,…}
        """

    public static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        var ints = ["latents": 4096, "samples": 18_000, "variables": 8, "permutations": 1000, "experiments": 100]
        var flags: Set<String> = ["allowed:json"]
        try BenchSupport.parse(arguments, ints: &ints, flags: &flags, command: name)
        let (l, n, p, perms, e) = (ints["latents"]!, ints["samples"]!, ints["variables"]!, ints["permutations"]!, ints["experiments"]!)

        var rng = SeededRNG(seed: 0)
        // ReLU-like sparse latents (about 30 % active) and continuous variables.
        var z = [Float](repeating: 0, count: n * l)
        for i in z.indices { z[i] = max(0, rng.uniformFloat() - 0.7) }
        var v = [Float](repeating: 0, count: n * p)
        for i in v.indices { v[i] = rng.uniformFloat() }
        let ids = (0..<n).map { $0 * e / n }

        let t0 = DispatchTime.now().uptimeNanoseconds
        let zs = StandardisedColumns(z, rows: n, cols: l)
        let vs = StandardisedColumns(v, rows: n, cols: p)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let best = Correlation.maxAbs(Correlation.matrix(zs, vs))
        let t2 = DispatchTime.now().uptimeNanoseconds
        let null = PermutationNull.compute(features: zs, variables: vs, experimentIDs: ids, permutations: perms, rng: &rng)
        let t3 = DispatchTime.now().uptimeNanoseconds
        let s = { (a: UInt64, b: UInt64) in Double(b - a) * 1e-9 }
        let band = null.percentile95
        if flags.contains("json") {
            io.out("{\"seconds\":\(s(t0, t3)),\"standardise_seconds\":\(s(t0, t1)),\"correlate_seconds\":\(s(t1, t2)),"
                   + "\"permutation_seconds\":\(s(t2, t3)),\"latents\":\(l),\"samples\":\(n),\"variables\":\(p),"
                   + "\"permutations\":\(perms),\"blas\":\"\(BLASRuntime.coreName)\"}\n")
        } else {
            io.out("correlation: \(l) latents × \(n) samples × \(p) variables, \(perms) permutations (\(BLASRuntime.summary))\n")
            io.out(String(format: "standardise %.3f s, correlate %.3f s, permutations %.3f s, total %.3f s\n",
                          s(t0, t1), s(t1, t2), s(t2, t3), s(t0, t3)))
            io.out(String(format: "variable 0: max |r| %.4f (latent %d), null 95th percentile %.4f\n",
                          best[0].absR, best[0].index, band.first ?? 0))
        }
        return 0
    }
}
