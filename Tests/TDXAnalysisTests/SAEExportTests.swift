import XCTest
import TDXCore
import TDXNumerics
@testable import TDXAnalysis

final class SAEExportTests: XCTestCase {
    func makeSAE(_ activation: SAEActivation, _ kind: SAENormalisation) -> (SparseAutoencoder, [Float]) {
        var rng = SeededRNG(seed: 31)
        let d = 12
        let data = (0..<(40 * d)).map { _ in Float(rng.normal()) * 2 + 0.5 }
        let cfg = SAEConfig(dIn: d, width: .latents(20), normalisation: kind, activation: activation, hookName: "blocks.3.hook_resid_post")
        var sae = SparseAutoencoder(config: cfg, normaliser: SAENormaliser.fit(kind, data: data, dIn: d, rows: Array(0..<40)), rng: &rng)
        for k in 0..<20 { sae.params.bEnc[k] = Float(rng.normal()) * 0.2 }
        for j in 0..<d { sae.params.bDec[j] = Float(rng.normal()) * 0.2 }
        return (sae, data)
    }

    func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("tdx-sae-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: u) }
        return u
    }

    func testRoundTripPreservesEverything() throws {
        for (act, kind) in [(SAEActivation.relu, SAENormalisation.perDimension), (.topK(4), .none), (.relu, .scalarRMS)] {
            let (sae, data) = makeSAE(act, kind)
            let dir = tempDir()
            try sae.export(to: dir)
            let back = try SparseAutoencoder.load(from: dir)
            XCTAssertEqual(back.params, sae.params)
            XCTAssertEqual(back.normaliser, sae.normaliser)
            XCTAssertEqual(back.config, sae.config)
            XCTAssertEqual(back.encode(data, rows: 40), sae.encode(data, rows: 40))
            let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("cfg.json"))) as! [String: Any]
            XCTAssertEqual(cfg["d_in"] as? Int, 12)
            XCTAssertEqual(cfg["d_sae"] as? Int, 20)
            XCTAssertEqual(cfg["hook_name"] as? String, "blocks.3.hook_resid_post")
            let t = try Safetensors.read(dir.appendingPathComponent("sae_weights.safetensors"))
            XCTAssertEqual(t["W_enc"]?.shape, [12, 20])
            XCTAssertEqual(t["W_dec"]?.shape, [20, 12])
        }
    }

    func testBadFilesGiveUserErrors() throws {
        let dir = tempDir()
        XCTAssertThrowsError(try SparseAutoencoder.load(from: dir)) { XCTAssertTrue($0 is AnalysisFileError) }
        let (sae, _) = makeSAE(.relu, .none)
        try sae.export(to: dir)
        let w = dir.appendingPathComponent("sae_weights.safetensors")
        try Data([1, 2, 3]).write(to: w)
        XCTAssertThrowsError(try SparseAutoencoder.load(from: dir)) { XCTAssertTrue($0 is AnalysisFileError) }
    }

    /// The NumPy-only check script reproduces the Swift encoder's activations (skipped without python3 + numpy).
    func testNumPyCheckScriptReproducesActivations() throws {
        guard Self.pythonHasNumPy else { throw XCTSkip("python3 with numpy not available") }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/analysis/check_sae_export.py").path
        for (act, kind) in [(SAEActivation.relu, SAENormalisation.perDimension), (.topK(5), .scalarRMS)] {
            let (sae, data) = makeSAE(act, kind)
            let dir = tempDir()
            try sae.export(to: dir)
            let h = sae.encode(data, rows: 40)
            let xin = dir.appendingPathComponent("x.f32"), hout = dir.appendingPathComponent("h.f32")
            try data.withUnsafeBytes { try Data($0).write(to: xin) }
            try h.withUnsafeBytes { try Data($0).write(to: hout) }
            let (status, out) = Self.run(["python3", script, dir.path, xin.path, hout.path, "40"])
            XCTAssertEqual(status, 0, out)
            XCTAssertTrue(out.contains("max_abs_diff"), out)
        }
    }

    static let pythonHasNumPy: Bool = run(["python3", "-c", "import numpy"]).0 == 0

    static func run(_ args: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }
}
