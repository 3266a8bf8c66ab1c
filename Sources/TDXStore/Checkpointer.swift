import Foundation

/// Copies committed WAL frames into the main database file on a background thread with its own
/// connection, so committing a big artifact returns as soon as it is durable in the WAL (SQLite's
/// documented pattern: automatic checkpoints off, `wal_checkpoint` from another thread). Requests
/// coalesce; a checkpoint interrupted by process exit is harmless and resumes on the next one.
final class Checkpointer: @unchecked Sendable {
    private let path: String
    private let condition = NSCondition()
    private var pending = false
    private var running = false
    private var stopped = false
    private var started = false

    init(path: String) { self.path = path }

    /// Asks for a checkpoint soon.
    func request() {
        condition.lock(); defer { condition.unlock() }
        guard !stopped else { return }
        pending = true
        if !started {
            started = true
            let thread = Thread { [self] in loop() }
            thread.name = "tdx-checkpoint"
            thread.start()
        }
        condition.broadcast()
    }

    /// Blocks until no checkpoint is pending or running.
    func waitUntilIdle() {
        condition.lock(); defer { condition.unlock() }
        while (pending || running) && !stopped { condition.wait() }
    }

    /// Lets a running checkpoint finish on its own thread and drops pending ones; does not block.
    func stop() {
        condition.lock(); stopped = true; pending = false; condition.broadcast(); condition.unlock()
    }

    private func loop() {
        var db: Database?
        while true {
            condition.lock()
            while !pending && !stopped { condition.wait() }
            if stopped { condition.unlock(); return }
            pending = false
            running = true
            condition.unlock()

            if db == nil { db = try? Database(path: path, busyTimeout: 5) }
            _ = try? db?.row("PRAGMA wal_checkpoint(PASSIVE)") { $0.int(0) }

            condition.lock(); running = false; condition.broadcast(); condition.unlock()
        }
    }
}
