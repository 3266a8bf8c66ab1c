import XCTest
@testable import TDXModels

final class TDXModelsPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXModels".isEmpty) }
}
