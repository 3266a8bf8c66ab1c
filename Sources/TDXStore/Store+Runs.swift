import Foundation

/// One `tdx run` (or other command that executes stages), as the log shows it.
public struct RunInfo: Sendable, Equatable {
    public enum Status: String, Sendable { case running, ok, failed, interrupted }
    public var id: Int64
    public var command: String
    public var spec: String?
    public var pid: Int32
    public var host: String
    public var started: Date
    public var finished: Date?
    /// `.running` with a dead pid means the run was killed.
    public var status: Status
    /// CPU, OpenBLAS kernels and tdx version the run computed with; nil for runs recorded before tdx kept it.
    public var machine: String? = nil
}

/// What happened to one stage in one run.
public struct StageRecord: Sendable, Equatable {
    public enum Status: String, Sendable { case ok, cached, failed, skipped, interrupted }
    public var stage: String
    public var kind: String
    public var key: String
    public var status: Status
    public var cacheHit: Bool
    /// Why the planner decided to run it ("new", "param sae.epochs 30 → 15", ...).
    public var reason: String?
    public var started: Date?
    public var finished: Date?
    public var error: String?
    /// The run it belongs to (filled in when read back).
    public var runID: Int64?

    public init(stage: String, kind: String, key: String, status: Status, cacheHit: Bool, reason: String? = nil,
                started: Date? = nil, finished: Date? = nil, error: String? = nil) {
        self.stage = stage; self.kind = kind; self.key = key; self.status = status; self.cacheHit = cacheHit
        self.reason = reason; self.started = started; self.finished = finished; self.error = error
    }

    public var seconds: Double? {
        guard let started, let finished else { return nil }
        return finished.timeIntervalSince(started)
    }
}

extension Store {
    /// Starts a run record and returns its id.
    public func beginRun(command: String, spec: String?, machine: String? = nil, at date: Date = Date()) throws -> Int64 {
        try db.transaction {
            try db.run("INSERT INTO run(command, spec, pid, host, started, status, machine) VALUES (?, ?, ?, ?, ?, 'running', ?)",
                       command, spec, Int(getpid()), currentHostName(), date.unixTime, machine)
            return db.lastInsertRowID
        }
    }

    public func record(_ stage: StageRecord, run: Int64) throws { try record([stage], run: run) }

    /// Records several stages in one transaction (a no-op re-run records every cached stage at once).
    public func record(_ stages: [StageRecord], run: Int64) throws {
        try db.transaction {
            for stage in stages {
                try db.run("""
                    INSERT INTO stage_run(run_id, stage, kind, key, status, cache_hit, reason, started, finished, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, run, stage.stage, stage.kind, stage.key, stage.status.rawValue, stage.cacheHit, stage.reason,
                           stage.started?.unixTime, stage.finished?.unixTime, stage.error)
            }
        }
    }

    public func finishRun(_ run: Int64, status: RunInfo.Status, at date: Date = Date()) throws {
        try db.transaction {
            try db.run("UPDATE run SET status = ?, finished = ? WHERE id = ?", status.rawValue, date.unixTime, run)
        }
    }

    /// Past runs, newest first. A run still marked running whose process is gone is reported interrupted.
    public func runs(limit: Int = 50) throws -> [RunInfo] {
        let host = currentHostName()
        return try db.rows(Store.runSelect + " ORDER BY id DESC LIMIT ?", [limit]) { Store.readRunRow($0, host: host) }
    }

    /// One run, or nil when there is none with that id.
    public func run(_ id: Int64) throws -> RunInfo? {
        let host = currentHostName()
        return try db.rows(Store.runSelect + " WHERE id = ?", [id]) { Store.readRunRow($0, host: host) }.first
    }

    static let runSelect = "SELECT id, command, spec, pid, host, started, finished, status, machine FROM run"

    static func readRunRow(_ s: Statement, host: String) -> RunInfo {
        var info = RunInfo(id: s.int64(0), command: s.string(1), spec: s.optionalString(2),
                           pid: Int32(truncatingIfNeeded: s.int(3)), host: s.string(4),
                           started: Date(timeIntervalSince1970: s.double(5)),
                           finished: s.optionalDouble(6).map(Date.init(timeIntervalSince1970:)),
                           status: RunInfo.Status(rawValue: s.string(7)) ?? .failed, machine: s.optionalString(8))
        if info.status == .running && info.host == host && !Store.processExists(info.pid) {
            info.status = .interrupted
        }
        return info
    }

    /// Stage records of one run, in the order they were recorded.
    public func stageRecords(run: Int64) throws -> [StageRecord] {
        try db.rows(Store.stageSelect + " WHERE run_id = ? ORDER BY id", [run], Store.readStageRow)
    }

    /// Every record for one artifact key, newest first (timings and history for `tdx show`).
    public func stageRecords(key: String) throws -> [StageRecord] {
        try db.rows(Store.stageSelect + " WHERE key = ? ORDER BY id DESC", [key], Store.readStageRow)
    }

    static let stageSelect = "SELECT stage, kind, key, status, cache_hit, reason, started, finished, error, run_id FROM stage_run"

    static func readStageRow(_ s: Statement) -> StageRecord {
        var r = StageRecord(stage: s.string(0), kind: s.string(1), key: s.string(2),
                            status: StageRecord.Status(rawValue: s.string(3)) ?? .failed, cacheHit: s.bool(4),
                            reason: s.optionalString(5),
                            started: s.optionalDouble(6).map(Date.init(timeIntervalSince1970:)),
                            finished: s.optionalDouble(7).map(Date.init(timeIntervalSince1970:)),
                            error: s.optionalString(8))
        r.runID = s.int64(9)
        return r
    }
}
