import XCTest
@testable import TDXLang

final class TDXLangPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXLang".isEmpty) }
}
