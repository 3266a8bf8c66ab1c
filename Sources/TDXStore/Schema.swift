/// The cache schema, versioned with `PRAGMA user_version`. Migration `i` takes version `i` to `i + 1`;
/// append new ones, never edit old ones.
enum Schema {
    static let migrations: [String] = [
        // 0 → 1: the first schema.
        """
        CREATE TABLE blob (
            id INTEGER PRIMARY KEY,
            digest TEXT UNIQUE,              -- BlobDigest hex; NULL only inside the writing transaction
            size INTEGER NOT NULL,
            chunks INTEGER NOT NULL
        );
        CREATE TABLE chunk (
            blob_id INTEGER NOT NULL REFERENCES blob(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (blob_id, idx)
        );
        CREATE TABLE artifact (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            params TEXT NOT NULL,            -- JSON object, as the planner encoded it
            inputs TEXT NOT NULL,            -- JSON array of input artifact keys
            output_digest TEXT NOT NULL,     -- SHA-256 over the named blobs' digests
            size INTEGER NOT NULL,
            producer_version INTEGER NOT NULL,
            created REAL NOT NULL,
            last_used REAL NOT NULL,
            compute_seconds REAL
        );
        CREATE INDEX artifact_kind ON artifact(kind);
        CREATE INDEX artifact_last_used ON artifact(last_used);
        CREATE TABLE artifact_blob (
            artifact_key TEXT NOT NULL REFERENCES artifact(key) ON DELETE CASCADE,
            name TEXT NOT NULL,
            blob_id INTEGER NOT NULL REFERENCES blob(id),
            format TEXT NOT NULL,            -- BlobFormat.tag
            shape TEXT,                      -- JSON array for arrays
            PRIMARY KEY (artifact_key, name)
        );
        CREATE INDEX artifact_blob_blob ON artifact_blob(blob_id);
        CREATE TABLE run (
            id INTEGER PRIMARY KEY,
            command TEXT NOT NULL,
            spec TEXT,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started REAL NOT NULL,
            finished REAL,
            status TEXT NOT NULL
        );
        CREATE TABLE stage_run (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            status TEXT NOT NULL,
            cache_hit INTEGER NOT NULL,
            reason TEXT,
            started REAL,
            finished REAL,
            error TEXT
        );
        CREATE INDEX stage_run_run ON stage_run(run_id);
        CREATE INDEX stage_run_key ON stage_run(key);
        CREATE TABLE lock (
            key TEXT PRIMARY KEY,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            token TEXT NOT NULL,
            acquired REAL NOT NULL,
            heartbeat REAL NOT NULL
        );
        """,
        // 1 → 2: memoised SHA-256 of model files, by path, size and modification time.
        """
        CREATE TABLE file_digest (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            sha256 TEXT NOT NULL
        );
        """,
        // 2 → 3: the machine each run computed on (CPU, OpenBLAS kernels, tdx version); NULL for earlier runs.
        "ALTER TABLE run ADD COLUMN machine TEXT;",
        // 3 → 4: a model file's memoised digest is also tied to its device, inode and status-change time, which
        // change whenever the file is written or replaced (size and mtime can be restored by `cp -p` or unzip).
        "ALTER TABLE file_digest ADD COLUMN identity TEXT NOT NULL DEFAULT '';",
    ]

    static var currentVersion: Int { migrations.count }

    /// Brings the database to `currentVersion`. Runs in one IMMEDIATE transaction and re-reads the
    /// version inside it, so two processes opening a fresh cache at once migrate it exactly once.
    static func migrate(_ db: Database) throws {
        let seen = try db.scalar("PRAGMA user_version")
        if seen > currentVersion {
            throw StoreError.newerSchema(path: db.path, found: seen, supported: currentVersion)
        }
        if seen == currentVersion { return }
        try db.transaction {
            let version = try db.scalar("PRAGMA user_version")
            if version > currentVersion {
                throw StoreError.newerSchema(path: db.path, found: version, supported: currentVersion)
            }
            for step in version..<currentVersion { try db.execute(migrations[step]) }
            try db.execute("PRAGMA user_version = \(currentVersion)")
        }
    }
}
