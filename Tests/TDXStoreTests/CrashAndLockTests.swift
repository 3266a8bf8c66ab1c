import Foundation
import XCTest
@testable import TDXStore

/// Real processes: SIGKILLed writers and competing lockers.
final class CrashAndLockTests: XCTestCase {
    /// A forked writer stores artifacts (most of its time is inside a write transaction)
    /// until it is SIGKILLed at a random moment; 20 times. Afterwards every visible artifact is
    /// complete and correct, `verify` finds nothing corrupt, and no half-written blob exists.
    func testSIGKILLedWriterNeverLeavesAPartialArtifact() throws {
        #if DEBUG
        let floats = 5_000  // debug hashing is ~50× slower; keep commits frequent
        #else
        let floats = 100_000
        #endif
        let path = makeTempDir(self) + "/cache.sqlite"
        _ = try Store(path: path)
        var rng = SystemRandomNumberGenerator()
        var kills = 0
        for round in 0..<20 {
            let pid = forkChild {
                guard let store = try? Store(path: path) else { return 1 }
                for i in 0..<1000 {
                    let key = "r\(round)-\(i)"
                    do {
                        try store.writeArtifact(ArtifactMeta(key: key, kind: "crash", paramsJSON: #"{"i":\#(i)}"#)) { w in
                            try w.putFloats("weights", payload(seed: UInt64(round * 1000 + i), count: floats + i))
                            try w.putString("metrics.json", #"{"key":"\#(key)"}"#, format: .json)
                        }
                    } catch { return 2 }
                }
                return 0
            }
            usleep(UInt32.random(in: 10_000...250_000, using: &rng))
            kill(pid, SIGKILL)
            if waitChild(pid) == -SIGKILL { kills += 1 }
        }
        XCTAssertGreaterThan(kills, 15, "most writers should have been killed mid-run")

        let store = try Store(path: path)
        let report = try store.verify()
        XCTAssertTrue(report.isClean, "\(report)")
        XCTAssertEqual(try store.db.scalar("SELECT count(*) FROM blob WHERE digest IS NULL"), 0)
        XCTAssertEqual(try store.db.scalar("SELECT count(*) FROM blob WHERE id NOT IN (SELECT blob_id FROM artifact_blob)"), 0)
        let all = try store.artifacts()
        XCTAssertGreaterThan(all.count, 20, "the writers should have committed some artifacts before dying")
        for a in all {
            let parts = a.key.dropFirst().split(separator: "-").compactMap { Int($0) }
            let (round, i) = (parts[0], parts[1])
            XCTAssertEqual(try store.readFloats(key: a.key, blob: "weights"),
                           payload(seed: UInt64(round * 1000 + i), count: floats + i), a.key)
            XCTAssertEqual(try store.readString(key: a.key, blob: "metrics.json"), #"{"key":"\#(a.key)"}"#)
        }
        // Committed artifacts are contiguous per round: a kill loses at most the one being written.
        for round in 0..<20 {
            let idx = all.filter { $0.key.hasPrefix("r\(round)-") }.map { Int($0.key.split(separator: "-")[1])! }.sorted()
            XCTAssertEqual(idx, Array(0..<idx.count))
        }
    }

    /// Three processes race for the same five stages: each stage is computed exactly once, and
    /// every process ends up with every artifact.
    func testConcurrentLockersComputeEachStageOnce() throws {
        let dir = makeTempDir(self)
        let path = dir + "/cache.sqlite", log = dir + "/computed.log"
        _ = try Store(path: path)
        let keys = (0..<5).map { "stage\($0)" }
        let pids = (0..<3).map { worker in
            forkChild {
                guard let store = try? Store(path: path) else { return 1 }
                for key in keys.shuffled() {
                    do {
                        switch try store.acquireStageLock(key: key, policy: LockPolicy(pollInterval: 0.01)) {
                        case .acquired(let lock):
                            appendLine(log, key)
                            usleep(60_000)
                            try store.writeArtifact(ArtifactMeta(key: key, kind: "test"), releasing: lock) { w in
                                try w.putString("who", "\(worker)")
                            }
                        case .cached: break
                        case .stopped: return 3
                        }
                        guard try store.hasArtifact(key) else { return 4 }
                    } catch { return 2 }
                }
                return 0
            }
        }
        for pid in pids { XCTAssertEqual(waitChild(pid), 0) }
        XCTAssertEqual(lines(log).sorted(), keys)
        let store = try Store(path: path)
        XCTAssertEqual(try store.cachedKeys(among: keys), Set(keys))
        XCTAssertEqual(try store.lockHolders(), [])
    }

    /// A waiter gets `.cached` as soon as the holder commits.
    func testWaiterReusesTheHoldersResult() throws {
        let dir = makeTempDir(self)
        let path = dir + "/cache.sqlite", ready = dir + "/ready"
        _ = try Store(path: path)
        let pid = forkChild {
            guard let store = try? Store(path: path),
                  case .acquired(let lock)? = try? store.acquireStageLock(key: "k") else { return 1 }
            appendLine(ready, "locked")
            usleep(300_000)
            guard (try? store.writeArtifact(ArtifactMeta(key: "k", kind: "t"), releasing: lock) { try $0.putString("v", "x") }) != nil
            else { return 2 }
            return 0
        }
        while lines(ready).isEmpty { usleep(2000) }
        let store = try Store(path: path)
        var waited: LockHolder?
        let outcome = try store.acquireStageLock(key: "k", policy: LockPolicy(pollInterval: 0.01), onWait: { waited = $0 })
        guard case .cached = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(waited?.pid, pid)
        XCTAssertEqual(waitChild(pid), 0)
    }

    /// A lock whose holder was SIGKILLed is taken over at once (its pid is gone).
    func testLockOfDeadProcessIsTakenOver() throws {
        let dir = makeTempDir(self)
        let path = dir + "/cache.sqlite", ready = dir + "/ready"
        _ = try Store(path: path)
        let pid = forkChild {
            guard let store = try? Store(path: path),
                  case .acquired? = try? store.acquireStageLock(key: "k") else { return 1 }
            appendLine(ready, "locked")
            sleep(60)
            return 0
        }
        while lines(ready).isEmpty { usleep(2000) }
        let store = try Store(path: path)
        XCTAssertEqual(try store.lockHolder(key: "k")?.pid, pid)
        kill(pid, SIGKILL)
        XCTAssertEqual(waitChild(pid), -SIGKILL)
        let start = Date()
        guard case .acquired(let lock) = try store.acquireStageLock(key: "k") else { return XCTFail() }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertEqual(try store.lockHolder(key: "k")?.pid, getpid())
        try store.releaseStageLock(lock)
        XCTAssertNil(try store.lockHolder(key: "k"))
    }

    /// On another host the pid means nothing: only the heartbeat's age decides.
    func testHeartbeatAgeDecidesForOtherHosts() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        let now = Date().timeIntervalSince1970
        try store.db.run("INSERT INTO lock VALUES ('fresh', 1, 'elsewhere', 't1', ?, ?)", now, now)
        try store.db.run("INSERT INTO lock VALUES ('old', 1, 'elsewhere', 't2', ?, ?)", now - 100, now - 100)
        var polls = 0
        let policy = LockPolicy(pollInterval: 0.001, staleAfter: 30)
        guard case .stopped = try store.acquireStageLock(key: "fresh", policy: policy, shouldStop: { polls += 1; return polls > 3 })
        else { return XCTFail("a fresh lock must be waited for") }
        guard case .acquired(let lock) = try store.acquireStageLock(key: "old", policy: policy)
        else { return XCTFail("a lock with an old heartbeat must be taken over") }
        XCTAssertEqual(try store.lockHolder(key: "old")?.host, currentHostName())
        try store.releaseStageLock(lock)
    }

    /// The holder's heartbeat keeps a long computation's lock fresh.
    func testHeartbeatRefreshesTheLock() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        guard case .acquired(let lock) = try store.acquireStageLock(key: "k", policy: LockPolicy(heartbeatInterval: 0.02))
        else { return XCTFail() }
        let first = try XCTUnwrap(store.lockHolder(key: "k")).heartbeat
        usleep(150_000)
        let later = try XCTUnwrap(store.lockHolder(key: "k")).heartbeat
        XCTAssertGreaterThan(later, first)
        XCTAssertFalse(lock.wasLost)
        try store.releaseStageLock(lock)
    }

    /// A stray descriptor of the database file, opened and closed while a connection is open, drops
    /// this process's POSIX locks: another process closing its last connection then believes it is
    /// alone, checkpoints and deletes the WAL under us (two `tdx run`s then both computed a stage).
    /// The other process must be a fresh one (a forked child inherits SQLite's lock bookkeeping).
    func testAnotherProcessNeverDeletesTheWALWhileWeHaveTheCacheOpen() throws {
        let path = makeTempDir(self) + "/cache.sqlite"
        let mine = try Store(path: path)
        _ = try mine.beginRun(command: "run", spec: nil)
        let idle = try Database(path: path)  // like a lock heartbeat's connection, waiting
        let child = try spawnSelf(test: "TDXStoreTests.CrashAndLockTests/testChildRoleOpenWriteClose",
                                  env: ["TDX_STORE_CHILD_CACHE": path])
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + "-wal"),
                      "another process deleted the WAL while this one still had the cache open")
        XCTAssertEqual(try mine.runs().count, 2)
        XCTAssertEqual(try idle.scalar("SELECT count(*) FROM run"), 2)
    }

    /// The child of the test above; does nothing in a normal test run.
    func testChildRoleOpenWriteClose() throws {
        guard let path = ProcessInfo.processInfo.environment["TDX_STORE_CHILD_CACHE"] else { return }
        _ = try Store(path: path).beginRun(command: "child", spec: nil)
    }
}
