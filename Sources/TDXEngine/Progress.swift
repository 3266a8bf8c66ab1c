import Foundation
import TDXCore

/// Where a stage reports progress. Thread-safe.
public protocol ProgressSink: Sendable {
    func update(_ done: Int, of total: Int)
    func note(_ text: String)
}

/// Renders progress: on a TTY a live status line with a bar, counts and ETA for each running stage;
/// otherwise plain timestamped lines (start, every 25 % or 30 s with the time left at the pace since the
/// previous line, done).
public final class ProgressDisplay: @unchecked Sendable {
    private let io: CommandIO
    private let lock = NSLock()
    private var running: [(id: String, started: Date, done: Int, total: Int, lastPct: Int, lastLine: Date, lastDone: Int)] = []
    private var finished = 0
    private let total: Int
    private var lineShown = false

    private let now: () -> Date

    public init(io: CommandIO, total: Int, now: @escaping () -> Date = Date.init) { self.io = io; self.total = total; self.now = now }

    /// HH:MM:SS in UTC, without a shared formatter (formatters are not thread-safe).
    private func ts() -> String {
        let t = Int(now().timeIntervalSince1970) % 86_400
        return String(format: "%02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
    }

    public func started(_ id: String) {
        lock.lock(); defer { lock.unlock() }
        running.append((id, now(), 0, 0, 0, now(), -1))
        if io.isTTY { redraw() } else { io.err("\(ts()) start  \(id)\n") }
    }

    public func finished(_ id: String, status: String, seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        running.removeAll { $0.id == id }
        finished += 1
        let line = "[\(finished)/\(total)] \(status.padding(toLength: 6, withPad: " ", startingAt: 0)) \(id) (\(ProgressDisplay.duration(seconds)))"
        if io.isTTY { clear(); io.err(line + "\n"); redraw() } else { io.err("\(ts()) \(line)\n") }
    }

    public func message(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        if io.isTTY { clear(); io.err(text + "\n"); redraw() } else { io.err("\(ts()) \(text)\n") }
    }

    func update(_ id: String, _ done: Int, _ total: Int) {
        lock.lock(); defer { lock.unlock() }
        guard let i = running.firstIndex(where: { $0.id == id }) else { return }
        running[i].done = done; running[i].total = total
        if io.isTTY { redraw(); return }
        let pct = total > 0 ? done * 100 / total : 0
        // A line every quarter, and at least every 30 s for long stages. From the second line on, the pace
        // since the previous line gives the time left (the first window may hold parts a resumed stage
        // loaded in a moment; lastDone is −1 until the first line).
        let t = now(), since = t.timeIntervalSince(running[i].lastLine)
        if (pct / 25 > running[i].lastPct / 25 || since >= 30) && pct < 100 {
            let step = done - running[i].lastDone
            let left = running[i].lastDone >= 0 && step > 0 && since >= 1
                ? ", about \(ProgressDisplay.duration(since / Double(step) * Double(total - done))) left" : ""
            running[i].lastPct = pct
            running[i].lastLine = t
            running[i].lastDone = done
            io.err("\(ts()) \(id) \(done)/\(total) (\(pct)%\(left))\n")
        }
    }

    public func sink(for id: String) -> ProgressSink { StageProgress(display: self, id: id) }

    private func clear() { if lineShown { io.err("\r\u{1B}[K"); lineShown = false } }

    private func redraw() {
        clear()
        guard let r = running.first else { return }
        var line = "[\(finished)/\(total)] \(r.id)"
        if r.total > 0 {
            let frac = Double(r.done) / Double(r.total)
            let width = 20
            let filled = Int(frac * Double(width))
            line += " " + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            line += " \(r.done)/\(r.total)"
            let elapsed = now().timeIntervalSince(r.started)
            if r.done > 0 && frac < 1 { line += " ETA \(ProgressDisplay.duration(elapsed / frac - elapsed))" }
        }
        if running.count > 1 { line += "  (+\(running.count - 1) running)" }
        io.err(line)
        lineShown = true
    }

    public func close() { lock.lock(); clear(); lock.unlock() }

    static func duration(_ s: Double) -> String {
        if s < 1 { return String(format: "%.0f ms", s * 1000) }
        if s < 120 { return String(format: "%.1f s", s) }
        if s < 3600 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
        return String(format: "%dh%02dm", Int(s) / 3600, Int(s) / 60 % 60)
    }
}

struct StageProgress: ProgressSink {
    let display: ProgressDisplay
    let id: String
    func update(_ done: Int, of total: Int) { display.update(id, done, total) }
    func note(_ text: String) { display.message("\(id): \(text)") }
}
