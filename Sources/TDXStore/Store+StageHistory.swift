import Foundation

extension Store {
    /// The key of the newest successful (computed or reused) record of `stage` in runs of `spec`,
    /// so the planner can say why that stage must run again.
    public func latestKey(stage: String, spec: String) throws -> String? {
        try db.row("""
            SELECT s.key FROM stage_run s JOIN run r ON r.id = s.run_id
            WHERE s.stage = ? AND r.spec = ? AND s.status IN ('ok', 'cached')
            ORDER BY s.id DESC LIMIT 1
            """, [stage, spec]) { $0.string(0) }
    }

    /// The parameters JSON the producer stored with an artifact, if it is (or was) stored.
    public func paramsJSON(key: String) throws -> String? {
        try db.row("SELECT params FROM artifact WHERE key = ?", [key]) { $0.string(0) }
    }
}

