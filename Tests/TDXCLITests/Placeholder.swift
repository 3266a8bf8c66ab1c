import XCTest
@testable import TDXCLI

final class TDXCLIPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXCLI".isEmpty) }
}
