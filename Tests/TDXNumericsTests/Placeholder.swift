import XCTest
@testable import TDXNumerics

final class TDXNumericsPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXNumerics".isEmpty) }
}
