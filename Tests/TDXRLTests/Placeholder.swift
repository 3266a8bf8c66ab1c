import XCTest
@testable import TDXRL

final class TDXRLPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXRL".isEmpty) }
}
