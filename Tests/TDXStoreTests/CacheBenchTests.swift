import Foundation
import TDXCore
import XCTest
@testable import TDXStore

/// The bench command's front end on a tiny size (speed is measured by `tdx bench cache`, not here).
final class CacheBenchTests: XCTestCase {
    func testSmallRunPrintsEveryPhase() throws {
        final class Lines: @unchecked Sendable { var text = "" }
        let out = Lines()
        let io = CommandIO(out: { out.text += $0 }, err: { out.text += $0 })
        XCTAssertEqual(try CacheBench.run(["--size-mb", "2", "--dir", makeTempDir(self)], io: io), 0)
        for phrase in ["plain write + fsync", "plain read", "store write + commit", "store read",
                       "background checkpoint", "store / plain throughput"] {
            XCTAssertTrue(out.text.contains(phrase), "missing \(phrase) in\n\(out.text)")
        }
    }

    func testBadArguments() {
        let io = CommandIO(out: { _ in }, err: { _ in })
        XCTAssertThrowsError(try CacheBench.run(["--size-mb", "0"], io: io)) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try CacheBench.run(["--size-mb"], io: io)) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try CacheBench.run(["--frobnicate"], io: io)) { XCTAssertTrue($0 is UsageError) }
        XCTAssertEqual(CacheBench.name, "cache")
    }
}
