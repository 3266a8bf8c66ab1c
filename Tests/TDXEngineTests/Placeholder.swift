import XCTest
@testable import TDXEngine

final class TDXEnginePlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXEngine".isEmpty) }
}
