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


extension Store {
    /// The SHA-256 of a file, recomputed unless its path, size, modification time, device, inode and
    /// status-change time are all as when it was last computed (a tool can restore size and mtime, not ctime).
    public func fileDigest(path: String, compute: (String) throws -> String) throws -> String {
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attrs[.size] as? NSNumber)?.intValue ?? -1
        let mtime = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        var st = stat()
        let identity = stat(path, &st) == 0 ? "\(st.st_dev):\(st.st_ino):\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)" : ""
        if !identity.isEmpty, let known = try db.row(
            "SELECT sha256 FROM file_digest WHERE path = ? AND size = ? AND mtime = ? AND identity = ?",
            [path, size, mtime, identity], { $0.string(0) }) {
            return known
        }
        let digest = try compute(path)
        try db.transaction {
            try db.run("INSERT OR REPLACE INTO file_digest(path, size, mtime, identity, sha256) VALUES (?, ?, ?, ?, ?)",
                       path, size, mtime, identity, digest)
        }
        return digest
    }
}
