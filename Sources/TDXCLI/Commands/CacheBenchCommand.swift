import Foundation
import TDXCore
import TDXEngine
import TDXLang
import TDXPlan
import TDXStore

/// `tdx bench cache`: the planner and executor on a fully cached 200-stage spec (a no-op re-run,
/// timed as a whole process, target < 150 ms; plan time, target < 50 ms), then the store's
/// throughput against a plain file with fsync (target ratio ≥ 0.5), all in one run.
enum CacheBenchCommand: Subcommand {
    static let name = "cache"
    static let summary = "No-op re-run and plan time of a 200-stage spec; store vs plain-file throughput"
    static let help = """
    Usage: tdx bench cache [--size-mb N] [--json]

    1. Writes a spec with about 200 stages (all layers × a 3-value sweep), runs it once with stand-in
       stages, then times `tdx run` on it again as a child process (nothing to do; best of 5).
    2. Times planning it in-process (check + plan + cache lookups; best of 10).
    3. Writes and reads back N MiB (default 1024) of float32 through the store and through a plain
       file with fsync, and prints the ratio plain/store time (≥ 0.5 means at least half as fast).

    """

    static let spec = """
    tdx 1
    task two_step { experiments = 4  episodes = 6  random_episodes = 2 }
    agent q_learning {}
    fit behaviour {}
    activations { layers = all }
    sae { β in [1e-5, 1e-4, 1e-3] }
    correlate { with = [td_error] }
    intervene lesion {}
    report {}

    """

    static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        let args = try Arguments(arguments, flags: ["--json"], options: ["--size-mb"])
        let sizeMB = Int(args.value("--size-mb") ?? "1024") ?? 1024
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tdx-bench-cache-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let specPath = dir.appendingPathComponent("bench.tdx").path
        let cache = dir.appendingPathComponent("cache.sqlite").path
        try spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]

        func child() throws -> (Int32, Double) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = ["run", specPath, "--cache", cache]
            var env = ProcessInfo.processInfo.environment
            env["TDX_TEST_STAGES"] = "1"
            p.environment = env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            let t0 = Date()
            try p.run()
            p.waitUntilExit()
            return (p.terminationStatus, Date().timeIntervalSince(t0))
        }
        let (first, fillTime) = try child()
        guard first == 0 else { throw UsageError("the benchmark's first run failed (exit \(first))") }
        var noop = Double.infinity
        for _ in 0..<5 { noop = min(noop, try child().1) }

        let resolved = try XCTUnwrapSpec(specPath)
        let engine = Engine(registry: TestStage.registry())
        let store = try Store(path: cache)
        var planTime = Double.infinity
        var stages = 0
        var toRun = -1
        for _ in 0..<10 {
            let t0 = Date()
            let r = Frontend.check(path: specPath)
            let plan = try engine.plan(r.spec ?? resolved, specPath: specPath, store: store)
            planTime = min(planTime, Date().timeIntervalSince(t0))
            stages = plan.stages.count; toRun = plan.toRun.count
        }
        let tp = try CacheBench.measure(bytes: sizeMB << 20, directory: dir.path)
        if args.has("--json") {
            io.out(String(format: "{\"stages\":%d,\"noop_run_ms\":%.2f,\"plan_ms\":%.2f,\"store_ratio\":%.3f,\"size_mb\":%d,"
                          + "\"store_write_s\":%.3f,\"store_read_s\":%.3f,\"plain_write_s\":%.3f,\"plain_read_s\":%.3f}\n",
                          stages, noop * 1000, planTime * 1000, tp.ratio, sizeMB, tp.storeWrite, tp.storeRead, tp.plainWrite, tp.plainRead))
        } else {
            io.out("spec with \(stages) stages (first run \(String(format: "%.2f", fillTime)) s; \(toRun) left to run)\n")
            io.out(String(format: "no-op re-run (whole process, best of 5): %7.1f ms  (target < 150 ms)\n", noop * 1000))
            io.out(String(format: "plan (check + plan + lookups, best of 10): %6.1f ms  (target < 50 ms)\n", planTime * 1000))
            io.out(String(format: "store %d MiB: write %.3f s, read %.3f s; plain file: write+fsync %.3f s, read %.3f s\n",
                          sizeMB, tp.storeWrite, tp.storeRead, tp.plainWrite, tp.plainRead))
            io.out(String(format: "store throughput / plain file: %.2f  (target ≥ 0.5)\n", tp.ratio))
        }
        return 0
    }

    private static func XCTUnwrapSpec(_ path: String) throws -> ResolvedSpec {
        guard let s = Frontend.check(path: path).spec else { throw UsageError("benchmark spec failed to check") }
        return s
    }
}
