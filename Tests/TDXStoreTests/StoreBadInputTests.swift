import Foundation
import XCTest
@testable import TDXStore

/// Unusable caches: each gives a clear `StoreError` and leaves what was there untouched.
final class StoreBadInputTests: XCTestCase {
    func testNotASQLiteFile() throws {
        let path = makeTempDir(self) + "/cache.sqlite"
        let text = "stage,value\nsae,1\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        assertStoreError(.notADatabase(path: path)) { try Store(path: path) }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"))
        let e = StoreError.notADatabase(path: path)
        XCTAssertTrue(e.description.contains("is not an SQLite database"))
        XCTAssertTrue(e.description.contains("--cache"))
    }

    /// A directory or a device given as the cache: said so, with a file path to use instead.
    func testDirectoryOrDeviceIsNotACache() throws {
        let dir = makeTempDir(self)
        assertStoreError(.notAFile(path: dir)) { try Store(path: dir) }
        assertStoreError(.notAFile(path: "/dev/null")) { try Store(path: "/dev/null") }
        XCTAssertEqual(StoreError.notAFile(path: dir).help, "give --cache (or TDX_CACHE) the path of a file, such as \(dir)/cache.sqlite")
    }

    func testNewerSchemaIsRefusedAndLeftAlone() throws {
        let path = makeTempDir(self) + "/cache.sqlite"
        do {
            let store = try Store(path: path)
            try store.writeArtifact(ArtifactMeta(key: "k", kind: "x")) { try $0.putFloats("a", [1, 2]) }
            try store.db.execute("PRAGMA user_version = 99")
        }
        assertStoreError(.newerSchema(path: path, found: 99, supported: Store.schemaVersion)) { try Store(path: path) }
        let db = try Database(path: path)
        XCTAssertEqual(try db.scalar("PRAGMA user_version"), 99)
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM artifact"), 1)
    }

    func testReadOnlyDirectory() throws {
        let base = makeTempDir(self)
        let dir = base + "/ro"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // An existing cache in the directory, then the directory made read-only.
        let existing = dir + "/existing.sqlite"
        do { _ = try Store(path: existing) }
        XCTAssertEqual(chmod(base, 0o755), 0)
        XCTAssertEqual(chmod(dir, 0o555), 0)
        let fresh = dir + "/cache.sqlite", nested = dir + "/sub/cache.sqlite"
        let check: () -> Int32 = {
            var failures: Int32 = 0
            for path in [fresh, existing, nested] {
                do { _ = try Store(path: path); failures += 1 } catch let e as StoreError {
                    if e != .readOnly(path: path) { failures += 1 }
                } catch { failures += 1 }
            }
            return failures
        }
        if geteuid() == 0 {
            // Root ignores permission bits: check as an unprivileged user in a child process.
            let pid = forkChild {
                guard setgid(65534) == 0, setuid(65534) == 0 else { return 100 }
                return check()
            }
            XCTAssertEqual(waitChild(pid), 0)
        } else {
            XCTAssertEqual(check(), 0)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh))
        XCTAssertTrue(StoreError.readOnly(path: fresh).description.contains("read-only"))
    }

    /// A full disk, simulated with a page limit: the write fails with `.diskFull`, is rolled back
    /// entirely, and the cache stays usable and consistent.
    func testDiskFull() throws {
        let path = makeTempDir(self) + "/cache.sqlite"
        let store = try Store(path: path)
        let small = payload(seed: 3, count: 1000)
        try store.writeArtifact(ArtifactMeta(key: "small", kind: "x")) { try $0.putFloats("a", small) }
        let pages = try store.db.scalar("PRAGMA page_count")
        try store.db.execute("PRAGMA max_page_count = \(pages + 8)")  // 8 × 64 KiB of room
        assertStoreError(.diskFull(path: path)) {
            try store.writeArtifact(ArtifactMeta(key: "big", kind: "x")) { try $0.putFloats("a", payload(seed: 4, count: 1 << 20)) }
        }
        XCTAssertFalse(store.db.isInTransaction)
        XCTAssertFalse(try store.hasArtifact("big"))
        XCTAssertEqual(try store.readFloats(key: "small", blob: "a"), small)
        XCTAssertTrue(try store.verify().isClean)
        XCTAssertEqual(try store.db.scalar("SELECT count(*) FROM blob"), 1)
        XCTAssertTrue(StoreError.diskFull(path: path).description.contains("tdx gc"))
        // With room again (a new connection has no page limit) the same write succeeds.
        let roomy = try Store(path: path)
        try roomy.writeArtifact(ArtifactMeta(key: "big", kind: "x")) { try $0.putFloats("a", payload(seed: 4, count: 1 << 20)) }
        XCTAssertTrue(try roomy.verify().isClean)
    }

    /// A writer that cannot get the write lock within its busy timeout gets `.busy`, not a hang.
    func testBusyTimeout() throws {
        let path = makeTempDir(self) + "/cache.sqlite"
        let holder = try Store(path: path)
        let waiter = try Store(path: path, busyTimeout: 0.2)
        try holder.db.begin()
        assertStoreError(.busy(path: path, seconds: 0.2)) {
            try waiter.writeArtifact(ArtifactMeta(key: "k", kind: "x")) { try $0.putString("a", "b") }
        }
        XCTAssertTrue(StoreError.busy(path: path, seconds: 0.2).message.hasSuffix("more than 0.2 s"))
        // Readers are never blocked by a writer (WAL).
        XCTAssertFalse(try waiter.hasArtifact("k"))
        try holder.db.commit()
        try waiter.writeArtifact(ArtifactMeta(key: "k", kind: "x")) { try $0.putString("a", "b") }
    }
}
