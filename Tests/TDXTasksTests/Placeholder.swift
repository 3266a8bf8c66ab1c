import XCTest
@testable import TDXTasks

final class TDXTasksPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXTasks".isEmpty) }
}
