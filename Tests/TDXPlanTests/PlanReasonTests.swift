import XCTest
@testable import TDXPlan

final class PlanReasonTests: XCTestCase {
    /// Long values are cut to 40 characters in reasons; a quoted one keeps its closing quote.
    func testLongValuesAreShortened() {
        XCTAssertEqual(Plan.short("30"), "30")
        XCTAssertEqual(Plan.short(nil), "(none)")
        let digest = "\"" + String(repeating: "b", count: 64) + "\""
        XCTAssertEqual(Plan.short(digest), "\"" + String(repeating: "b", count: 35) + "…\"")
        XCTAssertEqual(Plan.short(String(repeating: "x", count: 50)), String(repeating: "x", count: 37) + "…")
    }
}
