import XCTest
@testable import TDXStore

final class TDXStorePlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXStore".isEmpty) }
}
