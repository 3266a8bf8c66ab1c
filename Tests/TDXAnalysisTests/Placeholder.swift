import XCTest
@testable import TDXAnalysis

final class TDXAnalysisPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertFalse("TDXAnalysis".isEmpty) }
}
