import Foundation
import TDXCore

/// An artifact whose stored bytes no longer match their digest.
public struct CorruptArtifact: Sendable, Equatable {
    public var key: String
    public var kind: String
    /// The damaged blob's name in this artifact, or nil when the artifact row itself is inconsistent.
    public var blob: String?
    public var detail: String
}

public struct VerifyReport: Sendable, Equatable {
    public var blobsChecked = 0
    public var bytesChecked = 0
    public var artifactsChecked = 0
    public var corrupt: [CorruptArtifact] = []
    /// Artifacts computed, directly or not, from a corrupt one: evicted with it, since they were computed
    /// from whatever the damaged bytes held (`detail` names the corrupt input).
    public var dependants: [CorruptArtifact] = []
    /// Problems `PRAGMA quick_check` found in the database structure itself.
    public var structuralProblems: [String] = []
    /// Whether the corrupt artifacts were deleted (so the next run recomputes them).
    public var evicted = false
    public var isClean: Bool { corrupt.isEmpty && structuralProblems.isEmpty }
}

public struct GCReport: Sendable, Equatable {
    /// The artifacts removed (or, for a dry run, that would be removed); blobs not filled in.
    public var removed: [ArtifactInfo] = []
    /// Blob bytes no artifact references any more.
    public var bytesFreed = 0
    public var dryRun = false
}

extension Store {
    /// Re-hashes every blob and re-derives every artifact's output digest. Corrupt artifacts are
    /// reported and, when `evict` is true, deleted with their damaged blobs so the next run recomputes
    /// them. Reads take no write lock; eviction is one short transaction.
    public func verify(evict: Bool = true) throws -> VerifyReport {
        var report = VerifyReport()
        report.structuralProblems = try db.rows("PRAGMA quick_check") { $0.string(0) }.filter { $0 != "ok" }

        let stored = try db.rows("SELECT id, digest, size FROM blob WHERE digest IS NOT NULL ORDER BY id") {
            (id: $0.int64(0), digest: $0.string(1), size: $0.int(2))
        }
        var badBlobs: [Int64: String] = [:]
        for b in stored {
            report.blobsChecked += 1
            do {
                let actual = try db.transaction(.deferred) { () -> String in
                    let info = BlobInfo(name: "", digest: b.digest, size: b.size, format: .bytes)
                    let reader = try BlobReader(db: db, blobID: b.id, info: info)
                    var tree = TreeHasher()
                    try reader.forEachSpan(bufferSize: Store.chunkSize) { span in
                        tree.appendLeaves(BlobDigest.parallelLeafDigests(span))
                    }
                    return tree.finalize()
                }
                report.bytesChecked += b.size
                if actual != b.digest { badBlobs[b.id] = "content hashes to \(actual.prefix(12))…, expected \(b.digest.prefix(12))…" }
            } catch let e as StoreError {
                badBlobs[b.id] = e.message
            }
        }

        var badArtifacts: [String: CorruptArtifact] = [:]
        let all = try artifacts()
        for var a in all {
            report.artifactsChecked += 1
            let entries = try blobs(of: a.key)
            a.blobs = entries.map(\.info)
            if let bad = entries.first(where: { badBlobs[$0.id] != nil }) {
                badArtifacts[a.key] = CorruptArtifact(key: a.key, kind: a.kind, blob: bad.info.name, detail: badBlobs[bad.id]!)
            } else if Store.outputDigest(of: a.blobs) != a.outputDigest {
                badArtifacts[a.key] = CorruptArtifact(key: a.key, kind: a.kind, blob: nil,
                                                      detail: "artifact record does not match its blobs")
            }
        }
        report.corrupt = badArtifacts.values.sorted { $0.key < $1.key }
        var dependants: [String: CorruptArtifact] = [:]
        var frontier = badArtifacts.mapValues { "\($0.kind) \($0.key.prefix(16))…" }
        while !frontier.isEmpty {
            var next: [String: String] = [:]
            for a in all where badArtifacts[a.key] == nil && dependants[a.key] == nil {
                guard let source = a.meta.inputKeys.lazy.compactMap({ frontier[$0] }).first else { continue }
                dependants[a.key] = CorruptArtifact(key: a.key, kind: a.kind, blob: nil, detail: "computed from corrupt \(source)")
                next[a.key] = source
            }
            frontier = next
        }
        report.dependants = dependants.values.sorted { $0.key < $1.key }

        if evict && (!badArtifacts.isEmpty || !badBlobs.isEmpty) {
            try db.transaction {
                for key in Array(badArtifacts.keys) + Array(dependants.keys) { try db.run("DELETE FROM artifact WHERE key = ?", key) }
                for id in badBlobs.keys where try db.scalar("SELECT count(*) FROM artifact_blob WHERE blob_id = ?", id) == 0 {
                    try db.run("DELETE FROM blob WHERE id = ?", id)
                }
            }
            report.evicted = true
        }
        return report
    }

    /// Removes artifacts that are not in `reachable` (when given) or were last used before
    /// `usedBefore` (when given), then every blob no artifact references. `dryRun` only lists.
    /// Deletes the named artifacts and any blob only they used, in one transaction.
    public func remove(keys: [String]) throws {
        guard !keys.isEmpty else { return }
        try db.transaction {
            for k in keys { try db.run("DELETE FROM artifact WHERE key = ?", k) }
            try db.run("DELETE FROM blob WHERE id NOT IN (SELECT blob_id FROM artifact_blob)")
        }
    }

    public func gc(reachable: Set<String>? = nil, usedBefore: Date? = nil, dryRun: Bool = false) throws -> GCReport {
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS gc_remove(key TEXT PRIMARY KEY)")
        var report = GCReport(dryRun: dryRun)
        try db.transaction {
            try db.run("DELETE FROM temp.gc_remove")
            report.removed = try artifacts().filter { a in
                (reachable.map { !$0.contains(a.key) } ?? false) || (usedBefore.map { a.lastUsed < $0 } ?? false)
            }
            for a in report.removed { try db.run("INSERT INTO temp.gc_remove(key) VALUES (?)", a.key) }
            report.bytesFreed = try db.scalar("""
                SELECT coalesce(sum(size), 0) FROM blob WHERE id NOT IN (
                    SELECT blob_id FROM artifact_blob WHERE artifact_key NOT IN (SELECT key FROM temp.gc_remove))
                """)
            if dryRun { return }
            try db.run("DELETE FROM artifact WHERE key IN (SELECT key FROM temp.gc_remove)")
            try db.run("DELETE FROM blob WHERE id NOT IN (SELECT blob_id FROM artifact_blob)")
        }
        if !dryRun {
            // Return freed pages to the file system and keep the WAL from holding the deleted data.
            try db.execute("PRAGMA incremental_vacuum")
            try checkpoint()
        }
        return report
    }

    /// SHA-256 over the blobs sorted by name: an artifact's output digest.
    static func outputDigest(of blobs: [BlobInfo]) -> String {
        var h = SHA256()
        for b in blobs.sorted(by: { $0.name < $1.name }) {
            h.update("\(b.name)\u{0}\(b.format.tag)\u{0}\(b.format.shapeJSON ?? "")\u{0}\(b.digest)\n")
        }
        return h.hexDigest()
    }
}
