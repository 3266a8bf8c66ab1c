import Foundation

// How the cache is laid out (schema in Schema.swift):
// * `artifact` rows (key, kind, params JSON, input keys, output digest, size, times, producer version)
//   link named blobs through `artifact_blob` (name, format, shape).
// * `blob` rows are content-addressed (BlobDigest: SHA-256 over 1 MiB leaf digests) and deduplicated;
//   their bytes live in 8 MiB `chunk` rows, streamed in and out without a whole-blob copy.
// * An artifact's row, links, blobs and chunks are written in ONE transaction (`writeArtifact`), so
//   after a crash or SIGKILL at any instant a reader sees either nothing or the complete artifact.
// * `run` / `stage_run` hold the run log; `lock` rows (pid, host, heartbeat) keep two processes from
//   computing one stage at once (StageLock.swift).
// * WAL mode; bookkeeping commits use synchronous=NORMAL, artifact commits FULL; checkpoints run on
//   a background thread (Checkpointer.swift). `verify` re-hashes, `gc` deletes what is unreachable.

/// The content-addressed artifact cache: one SQLite file in WAL mode holding artifacts, their
/// chunked blobs, the run log and the stage locks. Not thread-safe; open one `Store` per thread
/// (opening an existing cache took about 3 ms on the 2-core dev box, under load).
public final class Store {
    /// Bytes per chunk row. A multiple of `BlobDigest.leafSize`, so every full chunk is whole leaves.
    public static let chunkSize = 8 << 20

    public let path: String
    let db: Database
    let checkpointer: Checkpointer

    /// Opens the cache at `path`, creating the file and its directory if needed, and migrates the
    /// schema forward. Fails with a `StoreError` the user can act on when the path is unusable.
    public init(path: String, busyTimeout: Double = 60) throws {
        self.path = path
        let fm = FileManager.default
        let dir = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        if !fm.fileExists(atPath: dir) {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                if access(Store.nearestExistingAncestor(dir), W_OK) != 0 { throw StoreError.readOnly(path: path) }
                throw StoreError.cannotCreateDirectory(path: dir, reason: (error as NSError).localizedDescription)
            }
        }
        if let type = try? fm.attributesOfItem(atPath: path)[.type] as? FileAttributeType, type != .typeRegular {
            throw StoreError.notAFile(path: path)
        }
        // WAL needs to create `-wal` and `-shm` files beside the cache: the directory must be writable.
        if access(dir, W_OK) != 0 { throw StoreError.readOnly(path: path) }
        if fm.fileExists(atPath: path) && access(path, W_OK) != 0 { throw StoreError.readOnly(path: path) }
        db = try Database(path: path, busyTimeout: busyTimeout)
        checkpointer = Checkpointer(path: path)
        try configure()
        try Schema.migrate(db)
    }

    /// An empty cache in memory that stands in for `path` where no cache exists yet: planning against it
    /// says what a first run would do without creating the file.
    public static func emptyStandIn(for path: String) throws -> Store { try Store(memoryStandingFor: path) }

    private init(memoryStandingFor path: String) throws {
        self.path = path
        db = try Database(path: ":memory:")
        checkpointer = Checkpointer(path: ":memory:")
        try configure()
        try Schema.migrate(db)
    }

    deinit { checkpointer.stop() }

    private func configure() throws {
        // page_size and auto_vacuum only take effect on a fresh file (before the first table);
        // on an existing cache they are no-ops. Large pages make chunk I/O cheap; incremental
        // vacuum lets `gc` return space to the file system.
        if try db.scalar("PRAGMA page_count") == 0 {
            try db.execute("PRAGMA page_size = 65536; PRAGMA auto_vacuum = INCREMENTAL")
        }
        _ = try db.row("PRAGMA journal_mode = WAL") { $0.string(0) }
        // WAL + NORMAL: a crash or SIGKILL never loses or tears a committed transaction; a power cut
        // may drop the last few bookkeeping writes (artifact commits use FULL and are durable).
        // Checkpoints run on a background thread (`Checkpointer`), not inside commits.
        try db.execute("""
            PRAGMA synchronous = NORMAL;
            PRAGMA wal_autocheckpoint = 0;
            PRAGMA foreign_keys = ON;
            PRAGMA journal_size_limit = 67108864;
            PRAGMA cache_size = -16384;
            """)
    }

    private static func nearestExistingAncestor(_ dir: String) -> String {
        var d = dir
        while !d.isEmpty && d != "/" && !FileManager.default.fileExists(atPath: d) {
            d = (d as NSString).deletingLastPathComponent
        }
        return d.isEmpty ? "." : d
    }

    /// `TDX_CACHE` with `~` expanded (a quoted value reaches tdx unexpanded); nil when unset or empty.
    public static func environmentPath(_ environment: [String: String]) -> String? {
        guard let env = environment["TDX_CACHE"], !env.isEmpty else { return nil }
        return (env as NSString).expandingTildeInPath
    }

    /// Where the cache lives when the command line does not say: `TDX_CACHE` if set, otherwise
    /// `.tdx/cache.sqlite` in the directory of the spec. (`--cache PATH` overrides both; the CLI
    /// handles it.)
    public static func defaultPath(specPath: String, environment: [String: String]) -> String {
        if let env = environmentPath(environment) { return env }
        let dir = (specPath as NSString).deletingLastPathComponent
        return ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(".tdx/cache.sqlite")
    }

    /// The schema version this build reads and writes.
    public static var schemaVersion: Int { Schema.currentVersion }

    /// Copies everything committed in the WAL into the main file and truncates the WAL, now.
    public func checkpoint() throws {
        checkpointer.waitUntilIdle()
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Waits for the background checkpoint that artifact commits request (benchmarks, tests).
    public func waitForBackgroundCheckpoint() { checkpointer.waitUntilIdle() }
}

/// This machine's host name, as recorded in locks and runs.
func currentHostName() -> String {
    var buf = [UInt8](repeating: 0, count: 256)
    let ok = buf.withUnsafeMutableBufferPointer { p in
        p.withMemoryRebound(to: CChar.self) { gethostname($0.baseAddress!, $0.count - 1) == 0 }
    }
    guard ok else { return "localhost" }
    return String(decoding: buf.prefix(while: { $0 != 0 }), as: UTF8.self)
}

extension Date {
    var unixTime: Double { timeIntervalSince1970 }
}
