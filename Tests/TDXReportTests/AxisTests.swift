import XCTest
@testable import TDXReport

final class AxisTests: XCTestCase {
    func testNiceSteps() {
        XCTAssertEqual(Axis.niceStep(0.13), 0.1)
        XCTAssertEqual(Axis.niceStep(0.15), 0.2)
        XCTAssertEqual(Axis.niceStep(3), 2)
        XCTAssertEqual(Axis.niceStep(4), 5)
        XCTAssertEqual(Axis.niceStep(7.5), 10)
        XCTAssertEqual(Axis.niceStep(1), 1)
        XCTAssertEqual(Axis.niceStep(0), 1)
    }

    func testCoveringExtendsToRoundTicks() {
        let a = Axis.covering([0.02, 0.58])
        XCTAssertEqual(a.lo, 0)
        XCTAssertEqual(a.hi, 0.6, accuracy: 1e-12)
        XCTAssertEqual(a.ticks.map(a.label), ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"])
        let b = Axis.covering([0, 30])
        XCTAssertEqual(b.ticks.map(b.label), ["0", "5", "10", "15", "20", "25", "30"])
        let c = Axis.covering([-3.2, 1.1])
        XCTAssertEqual(c.ticks.map(c.label), ["-4", "-3", "-2", "-1", "0", "1", "2"])
    }

    func testDegenerateRanges() {
        for values in [[], [Double.nan], [5.0], [0.0, 0.0], [.infinity, 2]] {
            let a = Axis.covering(values)
            XCTAssertLessThan(a.lo, a.hi, "\(values)")
            XCTAssertGreaterThanOrEqual(a.ticks.count, 2, "\(values)")
            XCTAssertTrue(a.ticks.allSatisfy(\.isFinite))
        }
        let zero = Axis.covering([0, 0], includeZero: true)
        XCTAssertEqual(zero.lo, 0)
        XCTAssertGreaterThan(zero.hi, 0)
    }

    func testFixedRangeKeepsTicksInside() {
        let a = Axis.fixed(0, 1)
        XCTAssertEqual(a.ticks.map(a.label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let b = Axis.fixed(-0.37, 0.41, step: 0.2)
        XCTAssertEqual(b.ticks.map(b.label), ["-0.2", "0.0", "0.2", "0.4"])
        XCTAssertEqual(Axis.fixed(1, 1).ticks.count > 1, true)
    }

    func testTinyAndHugeStepsUseScientificLabels() {
        let a = Axis.covering([0, 3e-6])
        XCTAssertTrue(a.ticks.map(a.label).contains("1.0e-06"))
        let b = Axis.covering([0, 4e8])
        XCTAssertTrue(b.ticks.map(b.label).contains("1.0e+08"))
    }
}
