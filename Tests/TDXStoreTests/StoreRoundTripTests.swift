import Foundation
import XCTest
@testable import TDXStore

final class StoreRoundTripTests: XCTestCase {
    func testFreshStoreHasCurrentSchemaAndWAL() throws {
        let path = makeTempDir(self) + "/nested/dir/cache.sqlite"
        let store = try Store(path: path)
        XCTAssertEqual(try store.db.scalar("PRAGMA user_version"), Store.schemaVersion)
        XCTAssertEqual(try store.db.row("PRAGMA journal_mode") { $0.string(0) }, "wal")
        XCTAssertEqual(try store.db.scalar("PRAGMA page_size"), 65536)
        // Reopening an up-to-date cache is a no-op.
        let again = try Store(path: path)
        XCTAssertEqual(try again.db.scalar("PRAGMA user_version"), Store.schemaVersion)
    }

    func testDefaultPath() {
        XCTAssertEqual(Store.defaultPath(specPath: "specs/two_step.tdx", environment: [:]), "specs/.tdx/cache.sqlite")
        XCTAssertEqual(Store.defaultPath(specPath: "two_step.tdx", environment: [:]), "./.tdx/cache.sqlite")
        XCTAssertEqual(Store.defaultPath(specPath: "a/b.tdx", environment: ["TDX_CACHE": "/x/c.sqlite"]), "/x/c.sqlite")
        XCTAssertEqual(Store.defaultPath(specPath: "a/b.tdx", environment: ["TDX_CACHE": ""]), "a/.tdx/cache.sqlite")
        XCTAssertEqual(Store.defaultPath(specPath: "a/b.tdx", environment: ["TDX_CACHE": "~/c.sqlite"]), NSHomeDirectory() + "/c.sqlite")
    }

    func testArtifactRoundTripWithSeveralBlobs() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        let weights = payload(seed: 1, count: 3 * 5)
        let meta = ArtifactMeta(key: "k1", kind: "sae", paramsJSON: #"{"epochs":30}"#, inputKeys: ["a", "b"],
                                producerVersion: 3, computeSeconds: 1.5)
        XCTAssertFalse(try store.hasArtifact("k1"))
        let result = try store.writeArtifact(meta) { w in
            try w.putFloats("weights", weights, shape: [3, 5])
            try w.putString("metrics.json", #"{"fve":0.9}"#, format: .json)
            try w.putData("empty", Data())
        }
        guard case .stored(let digest, let size) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(size, 15 * 4 + 11)
        let info = try XCTUnwrap(store.artifact("k1"))
        XCTAssertEqual(info.meta, meta)
        XCTAssertEqual(info.outputDigest, digest)
        XCTAssertEqual(info.blobs.map(\.name), ["empty", "metrics.json", "weights"])
        XCTAssertEqual(info.blobs[2].format, .float32(shape: [3, 5]))
        XCTAssertEqual(info.blobs[1].format, .json)
        XCTAssertEqual(info.blobs[0].digest, BlobDigest.hex([UInt8]()))
        XCTAssertEqual(try store.readFloats(key: "k1", blob: "weights"), weights)
        XCTAssertEqual(try store.readString(key: "k1", blob: "metrics.json"), #"{"fve":0.9}"#)
        XCTAssertEqual(try store.readData(key: "k1", blob: "empty"), Data())
        XCTAssertEqual(try store.cachedKeys(among: ["k1", "nope"]), ["k1"])
        XCTAssertEqual(try store.keys(withPrefix: "k"), ["k1"])
        XCTAssertEqual(try store.artifacts(kind: "sae").map(\.key), ["k1"])
        XCTAssertEqual(try store.artifacts(kind: "model"), [])
        // A second write of the same key does nothing and does not call the body.
        XCTAssertEqual(try store.writeArtifact(meta) { _ in XCTFail("body must not run") }, .alreadyPresent)
        assertStoreError(.notFound(what: "blob `nope` of artifact k1")) { try store.readData(key: "k1", blob: "nope") }
    }

    /// A blob over several chunks, not a multiple of the chunk or leaf size, written in odd pieces,
    /// read back in odd pieces; identical content is stored once.
    func testMultiChunkStreamingAndDeduplication() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        let n = Store.chunkSize + BlobDigest.leafSize + 12_345
        var bytes = [UInt8](repeating: 0, count: n)
        for i in 0..<n { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        try store.writeArtifact(ArtifactMeta(key: "big", kind: "activations")) { w in
            try w.streamBlob("acts") { bw in
                var i = 0, step = 1
                while i < n {
                    let m = min(step, n - i)
                    try bytes.withUnsafeBytes { try bw.write(UnsafeRawBufferPointer(rebasing: $0[i..<(i + m)])) }
                    i += m; step = step * 7 + 3
                }
            }
        }
        let info = try XCTUnwrap(store.artifact("big"))
        XCTAssertEqual(info.blobs[0].size, n)
        XCTAssertEqual(info.blobs[0].digest, BlobDigest.hex(bytes))
        XCTAssertEqual(try store.db.scalar("SELECT chunks FROM blob"), 2)
        let back: [UInt8] = try store.withBlobReader(key: "big", blob: "acts") { r in
            var out = [UInt8](repeating: 0, count: n)
            var i = 0, step = 5
            while i < n {
                let m = min(step, n - i)
                let got = try out.withUnsafeMutableBytes { try r.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[i..<(i + m)])) }
                XCTAssertEqual(got, m)
                i += m; step = step * 3 + 1
            }
            XCTAssertEqual(try out.withUnsafeMutableBytes { try r.read(into: $0) }, 0)
            return out
        }
        XCTAssertTrue(back == bytes)
        // Same bytes under another artifact: one blob row, two links.
        try store.writeArtifact(ArtifactMeta(key: "copy", kind: "activations")) { w in
            try w.putData("acts", Data(bytes))
        }
        XCTAssertEqual(try store.db.scalar("SELECT count(*) FROM blob"), 1)
        XCTAssertEqual(try store.db.scalar("SELECT count(*) FROM chunk"), 2)
        XCTAssertEqual(try store.readData(key: "copy", blob: "acts"), Data(bytes))
    }

    /// The digest is SHA-256 over the SHA-256s of 1 MiB leaves.
    func testBlobDigestDefinition() {
        let bytes = [UInt8]((0..<(BlobDigest.leafSize + 3)).map { UInt8(truncatingIfNeeded: $0 * 31) })
        let leaf0 = TDXCoreSHA.hash(Array(bytes[0..<BlobDigest.leafSize]))
        let leaf1 = TDXCoreSHA.hash(Array(bytes[BlobDigest.leafSize...]))
        XCTAssertEqual(BlobDigest.hex(bytes), TDXCoreSHA.hex(leaf0 + leaf1))
        XCTAssertEqual(BlobDigest.hex([UInt8]()), TDXCoreSHA.hex([]))
    }

    func testWriteErrorRollsBackEverything() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        struct StageFailed: Error {}
        XCTAssertThrowsError(try store.writeArtifact(ArtifactMeta(key: "k", kind: "x")) { w in
            try w.putFloats("a", payload(seed: 2, count: 1000))
            throw StageFailed()
        })
        XCTAssertFalse(try store.hasArtifact("k"))
        XCTAssertEqual(try store.db.scalar("SELECT count(*) FROM blob"), 0)
        XCTAssertEqual(try store.db.scalar("SELECT count(*) FROM chunk"), 0)
        assertStoreError(.invalidArgument("blob `a`: shape [2, 2] does not match 12 bytes")) {
            try store.writeArtifact(ArtifactMeta(key: "k", kind: "x")) { w in try w.putFloats("a", [1, 2, 3], shape: [2, 2]) }
        }
        assertStoreError(.invalidArgument("blob `a` written twice in one artifact")) {
            try store.writeArtifact(ArtifactMeta(key: "k", kind: "x")) { w in
                try w.putFloats("a", [1]); try w.putFloats("a", [2])
            }
        }
    }

    func testRunLog() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let run = try store.beginRun(command: "run", spec: "specs/a.tdx", machine: "AMD EPYC, 2 cores, OpenBLAS Zen", at: t0)
        let rec = StageRecord(stage: "sae[3]", kind: "sae", key: "k3", status: .ok, cacheHit: false,
                              reason: "param sae.epochs 30 → 15", started: t0, finished: t0.addingTimeInterval(2.5))
        try store.record(rec, run: run)
        try store.record(StageRecord(stage: "model", kind: "model", key: "km", status: .cached, cacheHit: true), run: run)
        try store.finishRun(run, status: .ok, at: t0.addingTimeInterval(3))
        let runs = try store.runs()
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs[0].status, .ok)
        XCTAssertEqual(runs[0].spec, "specs/a.tdx")
        XCTAssertEqual(runs[0].finished, t0.addingTimeInterval(3))
        XCTAssertEqual(runs[0].machine, "AMD EPYC, 2 cores, OpenBLAS Zen")
        XCTAssertEqual(try store.run(run), runs[0])
        XCTAssertNil(try store.run(run + 1))
        let recs = try store.stageRecords(run: run)
        XCTAssertEqual(recs.map(\.stage), ["sae[3]", "model"])
        XCTAssertEqual(recs[0].seconds, 2.5)
        XCTAssertEqual(recs[0].reason, "param sae.epochs 30 → 15")
        XCTAssertEqual(try store.stageRecords(key: "km").first?.cacheHit, true)

        // A run left "running" by a process that died is reported as interrupted.
        let path = store.path
        let pid = forkChild {
            guard let s = try? Store(path: path), (try? s.beginRun(command: "run", spec: nil)) != nil else { return 1 }
            return 0
        }
        XCTAssertEqual(waitChild(pid), 0)
        XCTAssertEqual(try store.runs().first?.status, .interrupted)
    }

    /// A cache written before runs kept their machine (schema 2) gains the column; its runs read as unknown.
    func testSchemaTwoCacheMigrates() throws {
        let path = makeTempDir(self) + "/cache.sqlite"
        do {
            let db = try Database(path: path)
            for step in Schema.migrations.prefix(2) { try db.execute(step) }
            try db.execute("PRAGMA user_version = 2")
            try db.execute("INSERT INTO run(command, spec, pid, host, started, status) VALUES ('run', 'a.tdx', 1, 'h', 0, 'ok')")
        }
        let store = try Store(path: path)
        XCTAssertEqual(try store.db.scalar("PRAGMA user_version"), Store.schemaVersion)
        XCTAssertEqual(try store.runs().map(\.spec), ["a.tdx"])
        XCTAssertNil(try store.runs()[0].machine)
        let next = try store.beginRun(command: "run", spec: "a.tdx", machine: "m")
        XCTAssertEqual(try store.run(next)?.machine, "m")
    }

    /// A model file's digest is memoised, and recomputed when the file is replaced even if its size and
    /// modification time are restored (as `cp -p` or unzip restore them).
    func testFileDigestIsRecomputedWhenTheFileIsReplaced() throws {
        let dir = makeTempDir(self)
        let store = try Store(path: dir + "/cache.sqlite")
        let file = dir + "/weights.bin"
        try Data("aaaa".utf8).write(to: URL(fileURLWithPath: file))
        var calls = 0
        let compute = { (_: String) -> String in calls += 1; return "digest \(calls)" }
        XCTAssertEqual(try store.fileDigest(path: file, compute: compute), "digest 1")
        XCTAssertEqual(try store.fileDigest(path: file, compute: compute), "digest 1")
        let mtime = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date)
        try Data("bbbb".utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: file)
        XCTAssertEqual(try store.fileDigest(path: file, compute: compute), "digest 2")
        XCTAssertEqual(calls, 2)
    }
}
