import Foundation
import XCTest
@testable import TDXModels

/// WorkerProcess against a fake worker that misbehaves on cue: each failure is the right WorkerError,
/// arrives quickly, and leaves no child behind.
final class WorkerProcessTests: XCTestCase {
    /// Starts the fake, says hello (unless the misbehaviour is at hello) and sends `op`, expecting an error.
    private func failure(_ mode: String, at op: String, timeouts: WorkerProcess.Timeouts = WorkerFake.quick,
                         file: StaticString = #filePath, line: UInt = #line) throws -> (WorkerError, pid_t) {
        let p = try WorkerProcess(argv: WorkerFake.command(mode, at: op), timeouts: timeouts)
        let pid = p.pid
        do {
            _ = try p.send(WorkerHelloRequest())
            switch op {
            case "hello": break
            case "load": _ = try p.send(WorkerLoadRequest(model: "m"))
            case "tokenize": _ = try p.send(WorkerTokenizeRequest(text: "hi", addSpecial: false))
            case "forward":
                _ = try p.send(WorkerForwardRequest(sequences: [[1, 2]], logitPositions: [[-1]], captureBlocks: [],
                                                    capturePositions: [[]], edits: [], payloadBytes: nil))
            default: XCTFail("no request for \(op)", file: file, line: line)
            }
        } catch {
            XCTAssertFalse(p.isRunning, "a broken worker is stopped", file: file, line: line)
            return (error, pid)
        }
        XCTFail("\(mode) at \(op) did not fail", file: file, line: line)
        throw XCTSkip("no error")
    }

    private func assertReaped(_ pid: pid_t, file: StaticString = #filePath, line: UInt = #line) {
        var status: Int32 = 0
        XCTAssertEqual(waitpid(pid, &status, WNOHANG), -1, "the child was already reaped", file: file, line: line)
        XCTAssertEqual(kill(pid, 0), -1, "no process (or zombie) is left", file: file, line: line)
    }

    func testWellBehavedExchangeAndClose() throws {
        let p = try WorkerProcess(argv: WorkerFake.command(), timeouts: WorkerFake.quick)
        let hello = try p.decode(WorkerHelloResponse.self, from: p.send(WorkerHelloRequest()))
        XCTAssertEqual(hello.protocolVersion, 1)
        XCTAssertEqual(hello.worker, "fake")
        XCTAssertEqual(hello.capabilities?.contains("edit.sae"), true)
        let t = try p.decode(WorkerTokenizeResponse.self, from: p.send(WorkerTokenizeRequest(text: "aé", addSpecial: true)))
        XCTAssertEqual(t.lengths, [0, 1, 2])
        XCTAssertEqual(p.stderrTail, ["fake worker: mode good at -"])
        let pid = p.pid
        p.close()
        XCTAssertFalse(p.isRunning)
        assertReaped(pid)
        p.close()   // a second close does nothing
        XCTAssertThrowsError(try p.send(WorkerHelloRequest())) { e in
            XCTAssertEqual((e as? WorkerError)?.kind, .notRunning)
        }
    }

    func testDeathBeforeAnswering() throws {
        let (e, pid) = try failure("die", at: "forward")
        XCTAssertEqual(e.kind, .exited(status: "exited with status 3"))
        XCTAssertEqual(e.op, "forward")
        XCTAssertTrue(e.message.hasPrefix("worker `python3 "), e.message)
        XCTAssertTrue(e.message.contains("fake_worker.py die forward`"), e.message)
        XCTAssertEqual(e.stderrTail.last, "RuntimeError: boom in forward")
        XCTAssertTrue(e.help!.contains("| RuntimeError: boom in forward"), e.help!)
        assertReaped(pid)
    }

    func testDeathAtStart() throws {
        let (e, pid) = try failure("exit_at_start", at: "hello")
        XCTAssertEqual(e.kind, .exited(status: "exited with status 2"))
        XCTAssertEqual(e.op, "hello")
        XCTAssertEqual(e.stderrTail.last, "fatal: cannot start")
        assertReaped(pid)
    }

    func testDeathMidResponse() throws {
        let (e, pid) = try failure("die_mid", at: "tokenize")
        XCTAssertEqual(e.kind, .exited(status: "exited with status 4"))
        assertReaped(pid)
    }

    func testHangIsTimedOutAndKilled() throws {
        let start = Date()
        let (e, pid) = try failure("hang", at: "forward", timeouts: WorkerProcess.Timeouts(load: 5, request: 0.7, exit: 1))
        XCTAssertEqual(e.kind, .timedOut(seconds: 0.7))
        XCTAssertTrue(e.message.hasSuffix("did not answer `forward` within 0.7 s and was stopped"), e.message)
        XCTAssertLessThan(Date().timeIntervalSince(start), 4)
        XCTAssertEqual(e.stderrTail.last, "hanging")
        assertReaped(pid)
    }

    /// An interrupted run (Ctrl-C) stops a worker that hangs at once instead of waiting out the timeout.
    func testCancellationStopsAHangingWorker() throws {
        let start = Date()
        let p = try WorkerProcess(argv: WorkerFake.command("hang", at: "forward"), timeouts: WorkerProcess.Timeouts(load: 60, request: 60, exit: 1),
                                  cancelled: { Date().timeIntervalSince(start) > 0.5 })
        let pid = p.pid
        _ = try p.send(WorkerHelloRequest())
        XCTAssertThrowsError(try p.send(WorkerForwardRequest(sequences: [[1, 2]], logitPositions: [[-1]], captureBlocks: [],
                                                            capturePositions: [[]], edits: [], payloadBytes: nil))) { e in
            let w = e as? WorkerError
            XCTAssertEqual(w?.kind, .cancelled)
            XCTAssertEqual(w?.message.hasSuffix("while it was answering `forward`: the run was interrupted"), true, w?.message ?? "")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertFalse(p.isRunning)
        assertReaped(pid)
    }

    func testGarbage() throws {
        let (e, pid) = try failure("garbage", at: "load")
        XCTAssertEqual(e.kind, .malformed("the header line is not JSON: 'Loading checkpoint shards: 100%'"))
        XCTAssertTrue(e.help!.hasPrefix("a worker must write only protocol lines to stdout"))
        assertReaped(pid)
        let (a, _) = try failure("array", at: "load")
        XCTAssertEqual(a.kind, .malformed("the header line is not a JSON object: '[1, 2]'"))
        let (m, _) = try failure("no_id", at: "load")
        XCTAssertEqual(m.kind, .malformed(#"the header has no integer "id": '{"ok": true}'"#))
    }

    func testMissingFieldIsMalformed() throws {
        let p = try WorkerProcess(argv: WorkerFake.command("missing_field", at: "tokenize"), timeouts: WorkerFake.quick)
        let reply = try p.send(WorkerTokenizeRequest(text: "x", addSpecial: false))
        XCTAssertThrowsError(try p.decode(WorkerTokenizeResponse.self, from: reply)) { e in
            XCTAssertEqual((e as? WorkerError)?.kind, .malformed(#""ids" is missing"#))
            XCTAssertEqual((e as? WorkerError)?.op, "tokenize")
        }
        p.close()
    }

    func testWrongProtocolVersion() throws {
        let (e, pid) = try failure("wrong_version", at: "hello")
        XCTAssertEqual(e.kind, .protocolMismatch(worker: 2))
        XCTAssertTrue(e.message.hasSuffix("speaks worker protocol 2, but tdx speaks version 1"), e.message)
        assertReaped(pid)
        let (u, _) = try failure("unsupported", at: "hello")
        XCTAssertEqual(u.kind, .protocolMismatch(worker: 2))
    }

    func testShortPayload() throws {
        let (e, pid) = try failure("short", at: "forward")
        XCTAssertEqual(e.kind, .shortPayload(expected: 400, received: 40, status: "exited with status 0"))
        XCTAssertTrue(e.message.hasSuffix("exited with status 0 after sending 40 of the 400 payload bytes of its answer to `forward`"), e.message)
        assertReaped(pid)
    }

    func testWrongID() throws {
        let (e, pid) = try failure("wrong_id", at: "hello")
        XCTAssertEqual(e.kind, .idMismatch(expected: 1, received: 8))
        assertReaped(pid)
    }

    func testWorkerFailureKeepsTheWorker() throws {
        let p = try WorkerProcess(argv: WorkerFake.command("fail", at: "load"), timeouts: WorkerFake.quick)
        XCTAssertThrowsError(try p.send(WorkerLoadRequest(model: "x"))) { e in
            let w = e as? WorkerError
            XCTAssertEqual(w?.kind, .workerFailed(code: "model_not_found", message: "no model named x", help: "check the model id"))
            XCTAssertEqual(w?.help, "check the model id")
            XCTAssertTrue(w?.message.hasSuffix("failed on `load` (model_not_found): no model named x") ?? false)
        }
        XCTAssertTrue(p.isRunning)
        XCTAssertNoThrow(try p.send(WorkerHelloRequest()))
        p.close()
    }

    /// The worker stops reading and exits while tdx is still writing a large payload: the write fails with
    /// EPIPE (not a fatal SIGPIPE) and the error reports the exit.
    func testWritingToADeadWorkerIsAnErrorNotASignal() throws {
        let p = try WorkerProcess(argv: WorkerFake.command("close_stdin", at: "sae"), timeouts: WorkerFake.quick)
        let pid = p.pid
        let big = SAEDictionary(inputDim: 512, latentCount: 1024, encoder: .init(repeating: 1, count: 512 * 1024),
                                encoderBias: .init(repeating: 0, count: 1024), decoder: .init(repeating: 1, count: 512 * 1024),
                                decoderBias: .init(repeating: 0, count: 512))
        let (h, payload) = WorkerSAERequest.make(handle: "s1", sae: big)
        XCTAssertThrowsError(try p.send(h, payload: payload)) { e in
            XCTAssertEqual((e as? WorkerError)?.kind, .exited(status: "exited with status 5"))
        }
        assertReaped(pid)
        XCTAssertThrowsError(try p.send(WorkerHelloRequest())) { e in
            XCTAssertEqual((e as? WorkerError)?.kind, .notRunning)
        }
    }

    func testLoudStderrDoesNotBlockAndOnlyTheTailIsKept() throws {
        let p = try WorkerProcess(argv: WorkerFake.command("stderr_flood", at: "tokenize"), timeouts: WorkerFake.quick)
        _ = try p.send(WorkerTokenizeRequest(text: "x", addSpecial: false))
        XCTAssertEqual(p.stderrTail.count, WorkerProcess.stderrLineLimit)
        XCTAssertEqual(p.stderrTail.last, "log line 19999")
        p.close()
    }

    func testDroppingAWorkerReapsIt() throws {
        var p: WorkerProcess? = try WorkerProcess(argv: WorkerFake.command(), timeouts: WorkerFake.quick)
        let pid = p!.pid
        _ = try p!.send(WorkerHelloRequest())
        p = nil
        assertReaped(pid)
    }

    func testCommandNotFound() {
        XCTAssertThrowsError(try WorkerProcess(argv: ["tdx-no-such-worker-xyz", "--serve"])) { e in
            let w = e as? WorkerError
            XCTAssertEqual(w?.kind, .commandNotFound)
            XCTAssertEqual(w?.message, "the worker command `tdx-no-such-worker-xyz --serve` was not found (searched PATH)")
        }
        XCTAssertThrowsError(try WorkerProcess(argv: ["/nonexistent/worker"])) { e in
            XCTAssertEqual((e as? WorkerError)?.kind, .commandNotFound)
        }
    }

    func testExecutableLookupFollowsPATH() throws {
        let dir = NSTemporaryDirectory() + "tdx-path-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sub in ["a", "b"] {
            _ = FileManager.default.createFile(atPath: "\(dir)/\(sub)/w", contents: Data("#!/bin/sh\n".utf8),
                                           attributes: [.posixPermissions: sub == "a" ? 0o644 : 0o755])
        }
        XCTAssertEqual(WorkerProcess.resolveExecutable("w", path: "\(dir)/a:\(dir)/b"), "\(dir)/b/w", "skips a non-executable file")
        XCTAssertNil(WorkerProcess.resolveExecutable("w", path: "\(dir)/a"))
        XCTAssertEqual(WorkerProcess.resolveExecutable("\(dir)/b/w", path: nil), "\(dir)/b/w")
        XCTAssertNil(WorkerProcess.resolveExecutable("w", path: dir), "a directory is not an executable")
    }
}
