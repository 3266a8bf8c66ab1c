import Foundation
import XCTest
@testable import TDXCore

final class SafetensorsTests: XCTestCase {
    func testEncodeThenParseRoundTrips() throws {
        let a = Safetensors.Tensor(shape: [2, 3], values: [1, -2, 3.5, 0, .infinity, -0.25])
        let b = Safetensors.Tensor(shape: [1], values: [7])
        let bytes = Safetensors.encode([("w", a), ("b", b)], metadata: ["format": "pt"])
        try bytes.withUnsafeBytes { file in
            let h = try Safetensors.parseHeader(file)
            XCTAssertEqual(h.dataOffset % 8, 0)
            XCTAssertEqual(h.metadata, ["format": "pt"])
            XCTAssertEqual(h.entries["w"], Safetensors.Entry(dtype: .f32, shape: [2, 3], bytes: 0..<24))
            XCTAssertEqual(h.entries["b"]?.bytes, 24..<28)
            XCTAssertEqual(Safetensors.floats(h.entries["w"]!, header: h, file: file), a.values)
            XCTAssertEqual(Safetensors.floats(h.entries["b"]!, header: h, file: file), b.values)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tdx-st-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write([("w", a)], to: url)
        XCTAssertEqual(try Safetensors.read(url), ["w": a])
    }

    /// F16 and BF16 files as torch writes them decode to the expected floats.
    func testHalfAndBFloat16Decode() throws {
        let halves: [(UInt16, Float)] = [(0x3c00, 1), (0xc000, -2), (0x3555, 0.333251953125), (0x0001, 0x1p-24),
                                         (0x8000, -0.0), (0x7c00, .infinity), (0x7bff, 65504)]
        let bf: [(UInt16, Float)] = [(0x3f80, 1), (0xc040, -3), (0x3e80, 0.25)]
        let header = #"{"h":{"dtype":"F16","shape":[7],"data_offsets":[0,14]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[14,20]}}"#
        var file: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file += $0 }
        file += Array(header.utf8)
        for (bits, _) in halves + bf { withUnsafeBytes(of: bits.littleEndian) { file += $0 } }
        try file.withUnsafeBytes { raw in
            let h = try Safetensors.parseHeader(raw)
            XCTAssertEqual(Safetensors.floats(h.entries["h"]!, header: h, file: raw), halves.map(\.1))
            XCTAssertEqual(Safetensors.floats(h.entries["b"]!, header: h, file: raw), bf.map(\.1))
        }
        XCTAssertTrue(FloatBits.half(0x7e00).isNaN)
    }

    func testMalformedFilesAreRejected() {
        func parse(_ header: String, data: Int = 0, length: UInt64? = nil) -> SafetensorsError? {
            var file: [UInt8] = []
            withUnsafeBytes(of: (length ?? UInt64(header.utf8.count)).littleEndian) { file += $0 }
            file += Array(header.utf8) + [UInt8](repeating: 0, count: data)
            do { _ = try file.withUnsafeBytes { try Safetensors.parseHeader($0) }; return nil } catch { return error as? SafetensorsError }
        }
        XCTAssertEqual(parse("{}", length: 1 << 40), .badHeaderLength(1 << 40))
        XCTAssertEqual(parse("[1,2]"), .headerNotJSON)
        XCTAssertEqual(parse(#"{"x":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#, data: 1), .unsupportedDType(tensor: "x", dtype: "I8"))
        XCTAssertEqual(parse(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 4), .sizeMismatch("x"))
        XCTAssertEqual(parse(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 4), .pastEnd("x"))
        XCTAssertEqual(parse(#"{"x":{"dtype":"F32","shape":"?"}}"#), .badEntry("x"))
        XCTAssertNil(parse(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8))
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 5).withUnsafeBytes { try Safetensors.parseHeader($0) })
    }
}
