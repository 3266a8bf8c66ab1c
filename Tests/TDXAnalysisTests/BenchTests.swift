import XCTest
import TDXCore
@testable import TDXAnalysis

final class BenchTests: XCTestCase {
    final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var s = ""
        func add(_ t: String) { lock.lock(); s += t; lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return s }
    }

    func io(_ box: Box) -> CommandIO {
        var env = ProcessInfo.processInfo.environment
        env["TDX_ROOT"] = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        return CommandIO(out: { box.add($0) }, err: { _ in }, environment: env)
    }

    func testSAEBenchRunsBothSidesOnASmallShape() throws {
        guard SAEExportTests.pythonHasNumPy else { throw XCTSkip("python3 with numpy not available") }
        let box = Box()
        XCTAssertEqual(try SAEBench.run(["--json", "--rows", "600", "--dim", "16", "--width", "32", "--batch", "64"], io: io(box)), 0)
        let obj = try JSONSerialization.jsonObject(with: Data(box.text.utf8)) as! [String: Any]
        for key in ["swift_seconds_per_epoch", "numpy_seconds_per_epoch", "ratio"] { XCTAssertNotNil(obj[key] as? Double, key) }
    }

    func testCorrBenchAndUsageErrors() throws {
        let box = Box()
        XCTAssertEqual(try CorrBench.run(["--json", "--latents", "64", "--samples", "300", "--permutations", "20", "--experiments", "5"],
                                         io: io(box)), 0)
        let obj = try JSONSerialization.jsonObject(with: Data(box.text.utf8)) as! [String: Any]
        XCTAssertNotNil(obj["seconds"] as? Double)
        XCTAssertThrowsError(try CorrBench.run(["--latents"], io: io(box))) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try SAEBench.run(["--bogus"], io: io(box))) { XCTAssertTrue($0 is UsageError) }
    }
}
