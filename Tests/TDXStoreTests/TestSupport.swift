import Foundation
import XCTest
@testable import TDXStore

/// A fresh directory under the system temp dir, removed when the test ends.
func makeTempDir(_ test: XCTestCase) -> String {
    let dir = NSTemporaryDirectory() + "tdx-store-\(getpid())-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock {
        _ = chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: dir)
    }
    return dir
}

/// Deterministic float payload derived from a seed (no RNG state shared between processes).
func payload(seed: UInt64, count: Int) -> [Float] {
    var x = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        return Float(Int64(bitPattern: x % 2_000_001) - 1_000_000) / 1000
    }
}

/// Runs `body` in a forked child process, which exits with its return value. The child touches only
/// the store and plain system calls.
func forkChild(_ body: () -> Int32) -> pid_t {
    let pid = fork()
    precondition(pid >= 0, "fork failed")
    if pid == 0 { _exit(body()) }
    return pid
}

/// Waits for a child (reaping it, so its pid is really gone); kills it after `timeout` seconds.
/// Returns the exit code, or -signal when it was killed by a signal.
@discardableResult
func waitChild(_ pid: pid_t, timeout: Double = 30) -> Int32 {
    let deadline = Date(timeIntervalSinceNow: timeout)
    var status: Int32 = 0
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { break }
        if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); return -999 }
        usleep(2000)
    }
    let sig = status & 0x7f
    return sig == 0 ? (status >> 8) & 0xff : -sig
}

/// Runs this test binary again, as a fresh process executing only `test`, with `env` added.
func spawnSelf(test: String, env: [String: String]) throws -> Process {
    #if os(Linux)
    let exe = "/proc/self/exe"
    #else
    throw XCTSkip("re-running the test bundle is only wired up on Linux")
    #endif
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = [test]
    p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

/// Appends one line atomically (O_APPEND), so several processes can log to one file.
func appendLine(_ path: String, _ line: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    precondition(fd >= 0)
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func lines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

extension XCTestCase {
    /// Asserts that `body` throws exactly the `StoreError` `expected` and that it reads well.
    func assertStoreError<T>(_ expected: StoreError, file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> T) {
        do {
            _ = try body()
            XCTFail("expected \(expected)", file: file, line: line)
        } catch let e as StoreError {
            XCTAssertEqual(e, expected, file: file, line: line)
            XCTAssertNotNil(e.help, file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }
}
