import XCTest
@testable import TDXPlan

final class TDXPlanPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXPlan".isEmpty) }
}
