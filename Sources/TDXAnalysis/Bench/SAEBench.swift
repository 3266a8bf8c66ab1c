import Foundation
import TDXCore
import TDXNumerics

/// `tdx bench sae`: one SAE training epoch in Swift against the same algorithm in NumPy, in one command.
public enum SAEBench: Subcommand {
    public static let name = "sae"
    public static let summary = "Time one SAE training epoch in Swift and in NumPy"
    public static let help = """
        usage: tdx bench sae [--json] [--rows 18000] [--dim 576] [--width 2304] [--batch 256] [--epochs 1] [--swift-only]

        Trains one epoch (ReLU SAE, scalar-RMS normalisation, β 1e-5, Adam lr 1e-4, decoder renormalised
        each step) on random float32 rows, then runs Benchmarks/sae_numpy.py, the same algorithm in NumPy,
        and prints both times and ratio = numpy / swift (≥ 1 means Swift is at least as fast).
          --epochs  train this many epochs on each side and report the mean per epoch (Swift also its
                    fastest), to average out a noisy machine
        The script is found under $TDX_ROOT, above the executable, or above the current directory.
          --json   print {"swift_seconds_per_epoch":…,"numpy_seconds_per_epoch":…,"ratio":…}
        """

    public static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        var ints = ["rows": 18_000, "dim": 576, "width": 2304, "batch": 256, "epochs": 1]
        var flags: Set<String> = ["allowed:json", "allowed:swift-only"]
        try BenchSupport.parse(arguments, ints: &ints, flags: &flags, command: name)
        let (n, d, s, bs) = (ints["rows"]!, ints["dim"]!, ints["width"]!, ints["batch"]!)

        var script: String?
        if !flags.contains("swift-only") {
            guard let found = BenchSupport.findScript("sae_numpy.py", io: io) else { throw BenchError.scriptNotFound("sae_numpy.py") }
            script = found
        }

        var rng = SeededRNG(seed: 0)
        let data = Tensor.randomNormal(shape: [n, d], std: 1, rng: &rng).data
        let epochs = ints["epochs"]!
        let cfg = SAEConfig(dIn: d, width: .latents(s), normalisation: .scalarRMS, batchSize: bs, epochs: epochs,
                            testFraction: 0, seed: 0)
        let trainer = SAETrainer(config: cfg, data: data, experimentIDs: (0..<n).map { $0 / 180 })
        let times = (0..<epochs).map { _ in trainer.trainEpoch().seconds }
        let swift = times.reduce(0, +) / Double(epochs), fastest = times.min()!

        var numpy: [String: Any]?
        if let script {
            numpy = try BenchSupport.runPython(script: script, arguments: [
                "--rows", "\(n)", "--dim", "\(d)", "--width", "\(s)", "--batch", "\(bs)", "--epochs", "\(epochs)"], io: io)
        }
        let numpySeconds = numpy?["seconds_per_epoch"] as? Double
        if flags.contains("json") {
            var fields = ["\"swift_seconds_per_epoch\":\(swift)", "\"swift_fastest_epoch_seconds\":\(fastest)"]
            if let numpySeconds {
                fields += ["\"numpy_seconds_per_epoch\":\(numpySeconds)", "\"ratio\":\(numpySeconds / swift)"]
            }
            fields += ["\"swift_blas\":\"\(BLASRuntime.coreName)\"", "\"numpy_blas\":\"\(numpy?["blas"] as? String ?? "")\""]
            io.out("{" + fields.joined(separator: ",") + "}\n")
        } else {
            io.out("SAE epoch: \(n) × \(d) rows, width \(s), batch \(bs)\(epochs > 1 ? ", mean of \(epochs) epochs" : "")\n")
            io.out(String(format: "swift: %.3f s/epoch (%@mean batch loss %.4g; %@)\n", swift,
                          epochs > 1 ? String(format: "fastest %.3f; ", fastest) : "", trainer.history.last!.trainLoss,
                          BLASRuntime.summary))
            if let numpySeconds {
                io.out(String(format: "numpy: %.3f s/epoch (%@)\n", numpySeconds, numpy?["blas"] as? String ?? "unknown BLAS"))
                io.out(String(format: "ratio numpy/swift: %.2f\n", numpySeconds / swift))
            }
        }
        return 0
    }
}
