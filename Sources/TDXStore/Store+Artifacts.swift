import Foundation

extension Store {
    /// Writes an artifact: `body` adds its named blobs; the artifact row, its blob links, every chunk
    /// and (if given) the release of `lock` commit in ONE transaction. Until that commit nothing is
    /// visible to any reader; a crash or SIGKILL before it leaves the cache exactly as it was.
    /// If the key is already stored, `body` is not called, unless `replacing`: then the stored artifact is
    /// swapped for the new one in the same transaction (blobs only it used go too).
    @discardableResult
    public func writeArtifact(_ meta: ArtifactMeta, releasing lock: StageLock? = nil, replacing: Bool = false,
                              _ body: (ArtifactWriter) throws -> Void) throws -> ArtifactWriteResult {
        // FULL: the commit fsyncs the WAL, so a stored artifact survives a power cut too.
        let outermost = !db.isInTransaction
        if outermost { try db.execute("PRAGMA synchronous = FULL") }
        defer {
            if outermost {
                try? db.execute("PRAGMA synchronous = NORMAL")
                checkpointer.request()
            }
        }
        return try db.transaction {
            if let lock { try releaseInTransaction(lock) }
            let old = replacing ? try db.rows("SELECT blob_id FROM artifact_blob WHERE artifact_key = ?", [meta.key]) { $0.int64(0) } : []
            if replacing { try db.run("DELETE FROM artifact WHERE key = ?", meta.key) }
            if try db.scalar("SELECT count(*) FROM artifact WHERE key = ?", meta.key) > 0 { return .alreadyPresent }
            let writer = ArtifactWriter(db: db)
            try body(writer)
            let digest = writer.outputDigest()
            let size = writer.entries.reduce(0) { $0 + $1.size }
            let now = Date().unixTime
            try db.run("""
                INSERT INTO artifact(key, kind, params, inputs, output_digest, size, producer_version,
                                     created, last_used, compute_seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, meta.key, meta.kind, meta.paramsJSON, Store.encodeKeys(meta.inputKeys), digest, size,
                       meta.producerVersion, now, now, meta.computeSeconds)
            for e in writer.entries {
                try db.run("INSERT INTO artifact_blob(artifact_key, name, blob_id, format, shape) VALUES (?, ?, ?, ?, ?)",
                           meta.key, e.name, e.id, e.format.tag, e.format.shapeJSON)
            }
            for id in old { try db.run("DELETE FROM blob WHERE id = ? AND id NOT IN (SELECT blob_id FROM artifact_blob)", id) }
            return .stored(outputDigest: digest, size: size)
        }
    }

    public func hasArtifact(_ key: String) throws -> Bool {
        try db.scalar("SELECT count(*) FROM artifact WHERE key = ?", key) > 0
    }

    /// Which of `keys` are stored (one indexed lookup each; 200 keys took 0.3 ms on the 2-core dev box).
    public func cachedKeys(among keys: [String]) throws -> Set<String> {
        try db.transaction(.deferred) {
            var found = Set<String>()
            for k in keys where try db.scalar("SELECT count(*) FROM artifact WHERE key = ?", k) > 0 { found.insert(k) }
            return found
        }
    }

    /// Records that these artifacts were used now (for `gc --older-than`).
    public func markUsed(_ keys: [String], at date: Date = Date()) throws {
        try db.transaction {
            for k in keys { try db.run("UPDATE artifact SET last_used = ? WHERE key = ?", date.unixTime, k) }
        }
    }

    /// Full description of an artifact, or nil if it is not stored.
    public func artifact(_ key: String) throws -> ArtifactInfo? {
        try db.transaction(.deferred) {
            guard var info = try db.row(Store.artifactSelect + " WHERE key = ?", [key], Store.readArtifactRow) else { return nil }
            info.blobs = try blobs(of: key).map(\.info)
            return info
        }
    }

    /// Every stored artifact (blobs not filled in), newest first; optionally one kind.
    public func artifacts(kind: String? = nil) throws -> [ArtifactInfo] {
        if let kind {
            return try db.rows(Store.artifactSelect + " WHERE kind = ? ORDER BY created DESC", [kind], Store.readArtifactRow)
        }
        return try db.rows(Store.artifactSelect + " ORDER BY created DESC", [], Store.readArtifactRow)
    }

    /// Keys that start with `prefix` (for `tdx show` with an abbreviated key).
    public func keys(withPrefix prefix: String) throws -> [String] {
        try db.rows("SELECT key FROM artifact WHERE key >= ? AND key < ? ORDER BY key", [prefix, prefix + "\u{10FFFF}"]) {
            $0.string(0)
        }
    }

    /// Streams one named blob of an artifact.
    public func withBlobReader<T>(key: String, blob name: String, _ body: (BlobReader) throws -> T) throws -> T {
        try db.transaction(.deferred) {
            guard let entry = try blobs(of: key).first(where: { $0.info.name == name }) else {
                throw StoreError.notFound(what: "blob `\(name)` of artifact \(key)")
            }
            let reader = try BlobReader(db: db, blobID: entry.id, info: entry.info)
            defer { reader.close() }
            return try body(reader)
        }
    }

    /// Reads a float32 blob into one freshly allocated array (the only copy).
    public func readFloats(key: String, blob name: String) throws -> [Float] {
        try withBlobReader(key: key, blob: name) { r in
            guard r.info.size % 4 == 0 else {
                throw StoreError.invalidArgument("blob `\(name)` has \(r.info.size) bytes, not a whole number of floats")
            }
            let count = r.info.size / 4
            var failure: Error?
            let values = [Float](unsafeUninitializedCapacity: count) { buf, initialized in
                do {
                    let n = try r.read(into: UnsafeMutableRawBufferPointer(buf))
                    if n != count * 4 { throw StoreError.corrupt(path: path, detail: "blob `\(name)` ended early") }
                } catch {
                    failure = error
                    buf.initialize(repeating: 0)  // a trivially-typed buffer must be fully initialised
                }
                initialized = count
            }
            if let failure { throw failure }
            return values
        }
    }

    public func readData(key: String, blob name: String) throws -> Data {
        try withBlobReader(key: key, blob: name) { r in
            var data = Data(count: r.info.size)
            let n = try data.withUnsafeMutableBytes { try r.read(into: $0) }
            if n != r.info.size { throw StoreError.corrupt(path: path, detail: "blob `\(name)` ended early") }
            return data
        }
    }

    /// The names of an artifact's blobs, sorted.
    public func blobNames(key: String) throws -> [String] { try blobs(of: key).map(\.info.name) }

    public func readString(key: String, blob name: String) throws -> String {
        String(decoding: try readData(key: key, blob: name), as: UTF8.self)
    }

    // MARK: helpers

    struct BlobEntry { var id: Int64; var info: BlobInfo }

    func blobs(of key: String) throws -> [BlobEntry] {
        try db.rows("""
            SELECT ab.name, ab.blob_id, b.digest, b.size, ab.format, ab.shape
            FROM artifact_blob ab JOIN blob b ON b.id = ab.blob_id
            WHERE ab.artifact_key = ? ORDER BY ab.name
            """, [key]) { s in
            BlobEntry(id: s.int64(1), info: BlobInfo(name: s.string(0), digest: s.string(2), size: s.int(3),
                                                     format: BlobFormat(tag: s.string(4), shapeJSON: s.optionalString(5))))
        }
    }

    static let artifactSelect = """
        SELECT key, kind, params, inputs, output_digest, size, producer_version, created, last_used, compute_seconds
        FROM artifact
        """

    static func readArtifactRow(_ s: Statement) -> ArtifactInfo {
        ArtifactInfo(
            meta: ArtifactMeta(key: s.string(0), kind: s.string(1), paramsJSON: s.string(2),
                               inputKeys: decodeKeys(s.string(3)), producerVersion: s.int(6),
                               computeSeconds: s.optionalDouble(9)),
            outputDigest: s.string(4), size: s.int(5),
            created: Date(timeIntervalSince1970: s.double(7)), lastUsed: Date(timeIntervalSince1970: s.double(8)),
            blobs: [])
    }

    static func encodeKeys(_ keys: [String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: keys)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeKeys(_ json: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String] ?? []
    }
}
