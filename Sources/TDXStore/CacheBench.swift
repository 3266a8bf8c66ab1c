import Foundation
import TDXCore

/// `tdx bench cache` (store part): writes N MB of float32 into a fresh store and reads it back,
/// and does the same with a plain file (write, fsync, read), in the same run; prints both and
/// the throughput ratio store / plain (target ≥ 0.5).
public enum CacheBench: Subcommand {
    public static let name = "cache"
    public static let summary = "store throughput vs a plain file (write + fsync + read back)"
    public static let help = """
        usage: tdx bench cache [--size-mb N] [--dir DIR]

        Writes N MiB (default 1024) of float32 as one artifact blob into a fresh cache and reads it
        back, then writes and reads the same bytes as a plain file with fsync, and prints the time of
        each and the throughput ratio (store / plain; target ≥ 0.5). The store write includes hashing
        and the commit (the WAL is fsynced: the artifact is durable). Copying the WAL into the main
        file runs on a background thread; the bench waits for it before reading and prints that time
        and a second ratio that counts it.

          --size-mb N   megabytes (MiB) of float32 to write (default 1024)
          --dir DIR     where to put the scratch files (default: the system temp directory)
        """

    /// Seconds per phase.
    public struct Times: Sendable {
        public var plainWrite = 0.0, plainRead = 0.0, storeWrite = 0.0, checkpoint = 0.0, storeRead = 0.0
    }

    public struct Result: Sendable {
        public var bytes: Int
        /// Wall-clock seconds. `checkpoint` is the wait for the background checkpoint right after the
        /// commit (in a real run it overlaps the next stage's work).
        public var plainWrite: Double, plainRead: Double, storeWrite: Double, checkpoint: Double, storeRead: Double
        /// CPU seconds (user + system, all threads) of the same phases.
        public var cpu: Times
        public var ratio: Double { (plainWrite + plainRead) / (storeWrite + storeRead) }
        public var ratioWithCheckpoint: Double { (plainWrite + plainRead) / (storeWrite + checkpoint + storeRead) }
    }

    public static func run(_ arguments: [String], io: CommandIO) throws -> Int32 {
        var sizeMB = 1024
        var dir = NSTemporaryDirectory()
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            func value() throws -> String {
                guard i + 1 < arguments.count else { throw UsageError("\(arg) needs a value", help: "see `tdx bench cache --help`") }
                i += 1
                return arguments[i]
            }
            switch arg {
            case "--size-mb":
                let v = try value()
                guard let n = Int(v), n > 0 else { throw UsageError("--size-mb expects a positive integer, got `\(v)`") }
                sizeMB = n
            case "--dir": dir = try value()
            case "--help", "-h": io.out(help + "\n"); return 0
            default: throw UsageError("unknown option `\(arg)` for `tdx bench cache`", help: "see `tdx bench cache --help`")
            }
            i += 1
        }
        io.out("cache bench: \(sizeMB) MiB of float32, scratch in \(dir)\n")
        let r = try measure(bytes: sizeMB << 20, directory: dir)
        let mb = Double(r.bytes) / Double(1 << 20)
        func line(_ what: String, _ wall: Double, _ cpu: Double, rate: Bool = true) -> String {
            what.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(format: "%8.3f s wall %8.3f s cpu", wall, cpu)
                + (rate ? String(format: " %8.0f MiB/s\n", mb / wall) : "\n")
        }
        io.out(line("plain write + fsync", r.plainWrite, r.cpu.plainWrite))
        io.out(line("plain read", r.plainRead, r.cpu.plainRead))
        io.out(line("store write + commit", r.storeWrite, r.cpu.storeWrite))
        io.out(line("background checkpoint", r.checkpoint, r.cpu.checkpoint, rate: false))
        io.out(line("store read", r.storeRead, r.cpu.storeRead))
        io.out(String(format: "store / plain throughput  %.2f  (target ≥ 0.5); %.2f counting the checkpoint\n",
                      r.ratio, r.ratioWithCheckpoint))
        return 0
    }

    /// Runs both measurements on `bytes` bytes (rounded down to whole floats) under `directory`.
    public static func measure(bytes: Int, directory: String) throws -> Result {
        let count = bytes / 4
        let scratch = (directory as NSString).appendingPathComponent("tdx-bench-cache-\(getpid())")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        // Distinct, deterministic values so nothing downstream can shortcut repeated bytes.
        var rng = SeededRNG(seed: 2025)
        let source = [Float](unsafeUninitializedCapacity: count) { buf, n in
            for j in 0..<count { buf[j] = Float(rng.uniform()) }
            n = count
        }
        var sink = [Float](repeating: 0, count: count)

        let plainPath = (scratch as NSString).appendingPathComponent("plain.f32")
        let plainWrite = try time { try writePlain(source, to: plainPath) }
        let plainRead = try time { try readPlain(plainPath, into: &sink) }
        guard sink == source else { throw StoreError.invalidArgument("plain file read back different bytes") }
        try FileManager.default.removeItem(atPath: plainPath)

        sink.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
        let store = try Store(path: (scratch as NSString).appendingPathComponent("cache.sqlite"))
        let storeWrite = try time {
            try store.writeArtifact(ArtifactMeta(key: "bench", kind: "bench")) { try $0.putFloats("data", source) }
        }
        let checkpoint = time { store.waitForBackgroundCheckpoint() }
        let storeRead = try time {
            try store.withBlobReader(key: "bench", blob: "data") { r in
                _ = try sink.withUnsafeMutableBytes { try r.read(into: $0) }
            }
        }
        guard sink == source else { throw StoreError.invalidArgument("store read back different bytes") }
        return Result(bytes: count * 4, plainWrite: plainWrite.wall, plainRead: plainRead.wall,
                      storeWrite: storeWrite.wall, checkpoint: checkpoint.wall, storeRead: storeRead.wall,
                      cpu: Times(plainWrite: plainWrite.cpu, plainRead: plainRead.cpu, storeWrite: storeWrite.cpu,
                                 checkpoint: checkpoint.cpu, storeRead: storeRead.cpu))
    }

    /// Wall-clock and CPU seconds of `body`.
    private static func time(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        let t0 = DispatchTime.now().uptimeNanoseconds, c0 = cpuSeconds()
        try body()
        return (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9, cpuSeconds() - c0)
    }

    private static func cpuSeconds() -> Double {
        var u = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &u)
        #else
        getrusage(RUSAGE_SELF, &u)
        #endif
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(u.ru_utime) + s(u.ru_stime)
    }

    private static func writePlain(_ values: [Float], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw StoreError.readOnly(path: path) }
        defer { close(fd) }
        try values.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, min(Store.chunkSize, raw.count - off))
                guard n > 0 else { throw StoreError.diskFull(path: path) }
                off += n
            }
        }
        guard fsync(fd) == 0 else { throw StoreError.diskFull(path: path) }
    }

    private static func readPlain(_ path: String, into values: inout [Float]) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StoreError.notFound(what: path) }
        defer { close(fd) }
        try values.withUnsafeMutableBytes { raw in
            var off = 0
            while off < raw.count {
                let n = read(fd, raw.baseAddress! + off, min(Store.chunkSize, raw.count - off))
                guard n > 0 else { throw StoreError.corrupt(path: path, detail: "short read") }
                off += n
            }
        }
    }
}
