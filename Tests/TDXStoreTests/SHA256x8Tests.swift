import XCTest
@testable import TDXStore

/// The 8-lane kernel against TDXCore's scalar SHA-256 (the reference).
final class SHA256x8Tests: XCTestCase {
    func testLanesMatchScalarSHA256() {
        for length in [0, 64, 192, 4096] {
            var bytes = [UInt8](repeating: 0, count: 8 * length)
            for i in 0..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 11) }
            bytes.withUnsafeBytes { raw in
                let lanes = (0..<8).map { UnsafeRawPointer(raw.baseAddress!.advanced(by: $0 * length)) }
                let got = SHA256x8.digests(lanes, length: length)
                for l in 0..<8 {
                    XCTAssertEqual(got[l], TDXCoreSHA.hash(Array(bytes[(l * length)..<((l + 1) * length)])), "length \(length) lane \(l)")
                }
            }
        }
    }

    /// Nine full leaves and a partial one: one SIMD group plus scalar leaves, serial and parallel.
    func testGroupedLeafDigestsMatchDefinition() {
        let leaf = BlobDigest.leafSize
        let n = 9 * leaf + 5
        var bytes = [UInt8](repeating: 0, count: n)
        for i in 0..<n { bytes[i] = UInt8(truncatingIfNeeded: (i &* 40_503) >> 5) }
        let expected = (0..<10).map { TDXCoreSHA.hash(Array(bytes[($0 * leaf)..<min(n, ($0 + 1) * leaf)])) }
        bytes.withUnsafeBytes { raw in
            XCTAssertEqual(BlobDigest.leafDigests(raw), expected)
            XCTAssertEqual(BlobDigest.parallelLeafDigests(raw), expected)
        }
        XCTAssertEqual(BlobDigest.hex(bytes), TDXCoreSHA.hex(expected.flatMap { $0 }))
    }
}
