import XCTest
@testable import TDXCore

final class SeededRNGTests: XCTestCase {
    func testDeterministicAndStreamsDiffer() {
        var a = SeededRNG(seed: 42), b = SeededRNG(seed: 42)
        XCTAssertEqual((0..<10).map { _ in a.next() }, (0..<10).map { _ in b.next() })
        var c = SeededRNG(seed: 42, stream: "x"), d = SeededRNG(seed: 42, stream: "y")
        XCTAssertNotEqual(c.next(), d.next())
    }

    func testUniformAndNormalMoments() {
        var r = SeededRNG(seed: 1)
        let n = 100_000
        var s = 0.0, s2 = 0.0
        for _ in 0..<n { let x = r.normal(); s += x; s2 += x * x }
        XCTAssertEqual(s / Double(n), 0, accuracy: 0.02)
        XCTAssertEqual(s2 / Double(n), 1, accuracy: 0.02)
        for _ in 0..<1000 { let u = r.uniform(); XCTAssert(u >= 0 && u < 1) }
    }
}
