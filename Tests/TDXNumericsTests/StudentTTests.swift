import XCTest
@testable import TDXNumerics

final class StudentTTests: XCTestCase {
    /// Two-sided 95 % critical values from standard tables, and the normal limit.
    func testQuantilesMatchTables() {
        for (df, t) in [(1.0, 12.706204736), (2, 4.302652730), (7, 2.364624252), (30, 2.042272456), (99, 1.984216952)] {
            XCTAssertEqual(StudentT.quantile(0.975, df: df), t, accuracy: 1e-7 * t, "df \(df)")
        }
        XCTAssertEqual(StudentT.quantile(0.975, df: 1e7), 1.959963985, accuracy: 1e-6)
        XCTAssertEqual(StudentT.quantile(0.025, df: 7), -2.364624252, accuracy: 1e-6)
    }

    /// df = 1 is the Cauchy distribution, whose CDF is closed-form; the CDF is symmetric about 0.
    func testCDFAgainstTheCauchyAndSymmetry() {
        for t in [-30.0, -2, -0.3, 0, 0.7, 5, 100] {
            XCTAssertEqual(StudentT.cdf(t, df: 1), 0.5 + atan(t) / .pi, accuracy: 1e-12, "t \(t)")
            XCTAssertEqual(StudentT.cdf(t, df: 4.5) + StudentT.cdf(-t, df: 4.5), 1, accuracy: 1e-12)
        }
    }
}
