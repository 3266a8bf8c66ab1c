import Foundation
import XCTest

/// Runs the Python workers' unit tests (workers/tests: protocol framing, the NumPy reference worker, the nnsight
/// worker's request translation) and fails with their output when they fail. Skips without python3 or numpy.
final class PythonWorkerTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `python3 args…` in the package root; nil when python3 cannot be started.
    func python(_ args: [String], timeout: TimeInterval) throws -> (status: Int32, output: String)? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        p.currentDirectoryURL = Self.packageRoot
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return nil }
        let deadline = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: deadline)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        deadline.cancel()
        if p.terminationReason == .uncaughtSignal { XCTFail("python3 \(args.joined(separator: " ")) ran past \(Int(timeout)) s") }
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testPythonWorkerUnitTests() throws {
        guard let probe = try python(["-c", "import sys; print(sys.version_info >= (3, 8))"], timeout: 30),
              probe.status == 0, probe.output.contains("True") else {
            throw XCTSkip("python3 (3.8 or later) is not on PATH; the Python worker tests did not run")
        }
        guard let np = try python(["-c", "import numpy"], timeout: 60), np.status == 0 else {
            throw XCTSkip("python3 has no numpy (pip install -r workers/numpy_reference/requirements.txt, or apt-get install python3-numpy); the Python worker tests did not run")
        }
        guard let run = try python(["-m", "unittest", "discover", "-s", "workers", "-p", "test_*.py"], timeout: 300) else {
            return XCTFail("python3 could not be started")
        }
        if run.status != 0 {
            XCTFail("python3 -m unittest discover -s workers -p 'test_*.py' failed (status \(run.status)):\n\(run.output)")
        }
    }
}
