import Foundation

/// How a process waits for, and decides to take over, another process's stage lock.
public struct LockPolicy: Sendable {
    /// Seconds between checks while waiting.
    public var pollInterval: Double
    /// A lock whose heartbeat is older than this is taken over even if its holder's pid looks alive
    /// (another host, or a recycled pid).
    public var staleAfter: Double
    /// Seconds between the holder's heartbeat updates.
    public var heartbeatInterval: Double

    public init(pollInterval: Double = 0.1, staleAfter: Double = 30, heartbeatInterval: Double = 2) {
        self.pollInterval = pollInterval; self.staleAfter = staleAfter; self.heartbeatInterval = heartbeatInterval
    }
}

/// Who holds a stage lock.
public struct LockHolder: Sendable, Equatable {
    public var key: String
    public var pid: Int32
    public var host: String
    public var acquired: Date
    public var heartbeat: Date
}

/// The outcome of `Store.acquireStageLock`.
public enum LockOutcome {
    /// This process now computes the stage; commit with `writeArtifact(_:releasing:)` or
    /// `releaseStageLock` on failure.
    case acquired(StageLock)
    /// The artifact is (now) stored: reuse it.
    case cached
    /// `shouldStop` returned true while waiting.
    case stopped
}

/// A held stage lock. A background thread (with its own connection) refreshes the heartbeat until
/// the lock is released, so a long computation is never mistaken for a dead one.
public final class StageLock {
    public let key: String
    let token: String
    private let control: HeartbeatControl

    init(key: String, token: String, path: String, interval: Double) {
        self.key = key
        self.token = token
        control = HeartbeatControl()
        let control = control
        let thread = Thread {
            guard let db = try? Database(path: path, busyTimeout: 5) else { return }
            while control.wait(seconds: interval) {
                try? db.run("UPDATE lock SET heartbeat = ? WHERE key = ? AND token = ?", Date().unixTime, key, token)
                if db.changes == 0 { control.markLost() }
            }
        }
        thread.name = "tdx-lock-heartbeat"
        thread.start()
    }

    deinit { control.stop() }

    /// True once another process took the lock over (our heartbeat found no row with our token).
    public var wasLost: Bool { control.isLost }

    func stopHeartbeat() { control.stop() }
}

/// Stop flag and timed wait shared with the heartbeat thread.
final class HeartbeatControl: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var lost = false

    /// Sleeps up to `seconds`; returns false once stopped.
    func wait(seconds: Double) -> Bool {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !stopped && condition.wait(until: deadline) {}
        return !stopped
    }

    func stop() { condition.lock(); stopped = true; condition.broadcast(); condition.unlock() }
    func markLost() { condition.lock(); lost = true; condition.unlock() }
    var isLost: Bool { condition.lock(); defer { condition.unlock() }; return lost }
}

extension Store {
    /// Takes the lock for computing `key`, or waits: returns `.cached` as soon as another process
    /// stores the artifact, and takes the lock over when its holder is dead (same host and
    /// `kill(pid, 0)` says no such process) or its heartbeat is older than `policy.staleAfter`.
    /// Each check runs in an IMMEDIATE transaction, so two processes can never both acquire.
    /// `recompute`: acquire even when the artifact is stored (a forced stage replaces it).
    public func acquireStageLock(key: String, policy: LockPolicy = LockPolicy(), recompute: Bool = false,
                                 shouldStop: () -> Bool = { false },
                                 onWait: ((LockHolder) -> Void)? = nil) throws -> LockOutcome {
        let token = UUID().uuidString
        let host = currentHostName()
        var announced = false
        while true {
            enum Step { case cached, acquired, wait(LockHolder) }
            let step: Step = try db.transaction {
                if !recompute, try hasArtifact(key) { return .cached }
                if let holder = try lockHolder(key: key) {
                    if !Store.isStale(holder, policy: policy, host: host) { return .wait(holder) }
                    try db.run("DELETE FROM lock WHERE key = ?", key)
                }
                let now = Date().unixTime
                try db.run("INSERT INTO lock(key, pid, host, token, acquired, heartbeat) VALUES (?, ?, ?, ?, ?, ?)",
                           key, Int(getpid()), host, token, now, now)
                return .acquired
            }
            switch step {
            case .cached: return .cached
            case .acquired:
                return .acquired(StageLock(key: key, token: token, path: path, interval: policy.heartbeatInterval))
            case .wait(let holder):
                if !announced { onWait?(holder); announced = true }
                if shouldStop() { return .stopped }
                Thread.sleep(forTimeInterval: policy.pollInterval)
            }
        }
    }

    /// Gives a lock up without storing an artifact (the stage failed or was interrupted).
    public func releaseStageLock(_ lock: StageLock) throws {
        lock.stopHeartbeat()
        try db.transaction { try releaseInTransaction(lock) }
    }

    func releaseInTransaction(_ lock: StageLock) throws {
        // Stop only signals the heartbeat thread: waiting for it here could deadlock on our own write lock.
        lock.stopHeartbeat()
        try db.run("DELETE FROM lock WHERE key = ? AND token = ?", lock.key, lock.token)
    }

    public func lockHolder(key: String) throws -> LockHolder? {
        try db.row("SELECT key, pid, host, acquired, heartbeat FROM lock WHERE key = ?", [key]) { s in
            LockHolder(key: s.string(0), pid: Int32(truncatingIfNeeded: s.int(1)), host: s.string(2),
                       acquired: Date(timeIntervalSince1970: s.double(3)),
                       heartbeat: Date(timeIntervalSince1970: s.double(4)))
        }
    }

    /// All current locks (for `tdx status`).
    public func lockHolders() throws -> [LockHolder] {
        try db.rows("SELECT key, pid, host, acquired, heartbeat FROM lock ORDER BY acquired") { s in
            LockHolder(key: s.string(0), pid: Int32(truncatingIfNeeded: s.int(1)), host: s.string(2),
                       acquired: Date(timeIntervalSince1970: s.double(3)),
                       heartbeat: Date(timeIntervalSince1970: s.double(4)))
        }
    }

    static func isStale(_ holder: LockHolder, policy: LockPolicy, host: String) -> Bool {
        if holder.host == host && !processExists(holder.pid) { return true }
        return Date().timeIntervalSince(holder.heartbeat) > policy.staleAfter
    }

    static func processExists(_ pid: Int32) -> Bool {
        if pid <= 0 { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
