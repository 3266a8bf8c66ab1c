import Foundation
import XCTest
@testable import TDXStore

final class MaintenanceTests: XCTestCase {
    /// Flip one byte of a blob in the database file itself: `verify` reports the artifact, evicts it,
    /// and the stage can be stored again.
    func testFlippedByteIsCaughtAndEvicted() throws {
        let path = makeTempDir(self) + "/cache.sqlite"
        let weights = payload(seed: 9, count: 50_000)
        do {
            let store = try Store(path: path)
            try store.writeArtifact(ArtifactMeta(key: "good", kind: "x")) { try $0.putFloats("w", payload(seed: 10, count: 5000)) }
            try store.writeArtifact(ArtifactMeta(key: "bad", kind: "sae")) { w in
                try w.putFloats("weights", weights)
                try w.putString("metrics.json", "{}", format: .json)
            }
            try store.checkpoint()
        }
        var file = try Data(contentsOf: URL(fileURLWithPath: path))
        let needle = weights.withUnsafeBytes { Data($0[80_000..<80_064]) }
        let at = try XCTUnwrap(file.range(of: needle)).lowerBound + 17
        file[at] ^= 0x01
        try file.write(to: URL(fileURLWithPath: path))

        let store = try Store(path: path)
        XCTAssertNotEqual(try store.readFloats(key: "bad", blob: "weights"), weights, "SQLite itself does not notice")
        let report = try store.verify()
        XCTAssertEqual(report.corrupt.map(\.key), ["bad"])
        XCTAssertEqual(report.corrupt.first?.blob, "weights")
        XCTAssertTrue(report.evicted)
        XCTAssertEqual(report.structuralProblems, [])
        XCTAssertFalse(try store.hasArtifact("bad"))
        XCTAssertTrue(try store.hasArtifact("good"))
        XCTAssertTrue(try store.verify().isClean)
        // Recompute: the same content stores cleanly again.
        try store.writeArtifact(ArtifactMeta(key: "bad", kind: "sae")) { try $0.putFloats("weights", weights) }
        XCTAssertEqual(try store.readFloats(key: "bad", blob: "weights"), weights)
        XCTAssertTrue(try store.verify().isClean)
    }

    /// What was computed from a corrupt artifact goes with it, transitively; the rest stays.
    func testVerifyEvictsWhatWasComputedFromACorruptArtifact() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        try store.writeArtifact(ArtifactMeta(key: "act", kind: "activations")) { try $0.putFloats("x", [1, 2, 3]) }
        try store.writeArtifact(ArtifactMeta(key: "sae", kind: "sae", inputKeys: ["act"])) { try $0.putFloats("w", [4, 5]) }
        try store.writeArtifact(ArtifactMeta(key: "corr", kind: "correlate", inputKeys: ["sae", "other"])) { try $0.putFloats("r", [6]) }
        try store.writeArtifact(ArtifactMeta(key: "other", kind: "rl_variables")) { try $0.putFloats("v", [7, 8, 9, 10]) }
        let act = try store.db.scalar("SELECT blob_id FROM artifact_blob WHERE artifact_key = 'act'")
        try store.db.run("UPDATE chunk SET data = ? WHERE blob_id = ?", Data(repeating: 0, count: 12), act)
        let report = try store.verify()
        XCTAssertEqual(report.corrupt.map(\.key), ["act"])
        XCTAssertEqual(report.dependants.map(\.key), ["corr", "sae"])
        XCTAssertEqual(report.dependants.first?.detail, "computed from corrupt activations act…")
        XCTAssertEqual(try store.artifacts().map(\.key), ["other"])
        XCTAssertTrue(try store.verify().isClean)
    }

    func testVerifyWithoutEvictOnlyReports() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        try store.writeArtifact(ArtifactMeta(key: "k", kind: "x")) { try $0.putFloats("w", [1, 2, 3]) }
        try store.db.run("UPDATE chunk SET data = ?", Data(repeating: 0, count: 12))
        let report = try store.verify(evict: false)
        XCTAssertEqual(report.corrupt.map(\.key), ["k"])
        XCTAssertFalse(report.evicted)
        XCTAssertTrue(try store.hasArtifact("k"))
    }

    func testGCByReachabilityAndAge() throws {
        let store = try Store(path: makeTempDir(self) + "/cache.sqlite")
        let shared = payload(seed: 1, count: 1000)
        try store.writeArtifact(ArtifactMeta(key: "a", kind: "x")) { try $0.putFloats("w", shared) }
        try store.writeArtifact(ArtifactMeta(key: "b", kind: "x")) { try $0.putFloats("w", shared) }
        try store.writeArtifact(ArtifactMeta(key: "c", kind: "x")) { w in
            try w.putFloats("w", payload(seed: 2, count: 500))
            try w.putString("m", "{}", format: .json)
        }
        let dry = try store.gc(reachable: ["a"], dryRun: true)
        XCTAssertEqual(dry.removed.map(\.key).sorted(), ["b", "c"])
        XCTAssertEqual(dry.bytesFreed, 500 * 4 + 2, "b shares its blob with a")
        XCTAssertEqual(try store.artifacts().count, 3)

        let real = try store.gc(reachable: ["a", "b"])
        XCTAssertEqual(real.removed.map(\.key), ["c"])
        XCTAssertEqual(real.bytesFreed, 2002)
        XCTAssertEqual(try store.db.scalar("SELECT count(*) FROM blob"), 1)

        let old = Date(timeIntervalSince1970: 1_000_000)
        try store.markUsed(["b"], at: old)
        let aged = try store.gc(usedBefore: Date(timeIntervalSince1970: 2_000_000))
        XCTAssertEqual(aged.removed.map(\.key), ["b"])
        XCTAssertEqual(aged.bytesFreed, 0)
        XCTAssertEqual(try store.readFloats(key: "a", blob: "w"), shared)
        XCTAssertTrue(try store.verify().isClean)
    }

    func testExportNpyAndPassthrough() throws {
        let dir = makeTempDir(self)
        let store = try Store(path: dir + "/cache.sqlite")
        let m = payload(seed: 5, count: 12)
        let csv = "layer,r\n3,0.41\n"
        try store.writeArtifact(ArtifactMeta(key: "k", kind: "correlate")) { w in
            try w.putFloats("r", m, shape: [3, 4])
            try w.putFloats("v", [1, 2, 3])
            try w.putString("table.csv", csv, format: .csv)
            try w.putString("summary", #"{"a":1}"#, format: .json)
        }
        let out = dir + "/export"
        let paths = try store.exportAll(key: "k", to: out)
        XCTAssertEqual(paths.map { ($0 as NSString).lastPathComponent }, ["r.npy", "summary.json", "table.csv", "v.npy"])
        let npy = try Data(contentsOf: URL(fileURLWithPath: out + "/r.npy"))
        XCTAssertEqual(Array(npy.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), header)
        XCTAssertTrue(header.hasSuffix("\n"))
        let body = npy[(10 + headerLength)...]
        XCTAssertEqual(body, m.withUnsafeBytes { Data($0) })
        let v = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out + "/v.npy"))[10..<74], as: UTF8.self)
        XCTAssertTrue(v.contains("'shape': (3,)"))
        XCTAssertEqual(try String(contentsOfFile: out + "/table.csv", encoding: .utf8), csv)
        XCTAssertEqual(try String(contentsOfFile: out + "/summary.json", encoding: .utf8), #"{"a":1}"#)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).count, 4, "no partial files left")
    }
}
