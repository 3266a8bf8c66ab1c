import Foundation
import XCTest
@testable import TDXModels

final class ModelFormatTests: XCTestCase {
    func write(_ bytes: [UInt8], _ name: String = "m.gguf") throws -> String {
        let url = scratchDirectory().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func testDequantMatchesGGUFPy() throws {
        struct Case: Decodable { var hex: String; var values: [Float] }
        let cases = try JSONDecoder().decode([String: Case].self,
                                             from: Data(contentsOf: TestData.fixtures.appendingPathComponent("dequant_golden.json")))
        let types: [String: GGMLType] = ["F16": .f16, "BF16": .bf16, "Q4_0": .q4_0, "Q4_1": .q4_1, "Q8_0": .q8_0,
                                         "Q4_K": .q4_K, "Q5_K": .q5_K, "Q6_K": .q6_K]
        XCTAssertEqual(Set(cases.keys), Set(types.keys))
        for (name, c) in cases {
            var raw = [UInt8]()
            var it = c.hex.makeIterator()
            while let a = it.next(), let b = it.next() { raw.append(UInt8(String([a, b]), radix: 16)!) }
            var out = [Float](repeating: .nan, count: c.values.count)
            raw.withUnsafeBytes { r in out.withUnsafeMutableBufferPointer { Dequantize.run(types[name]!, r, into: $0.baseAddress!, count: c.values.count) } }
            for (i, (a, b)) in zip(out, c.values).enumerated() where abs(a - b) > 1e-6 * max(1, abs(b)) {
                XCTFail("\(name)[\(i)]: \(a) vs \(b)"); break
            }
        }
    }

    func testMetadataTypesAndAlignment() throws {
        var w = GGUFWriter()
        w.alignment = 64
        w.meta = [("a.u8", .u8(200)), ("a.i8", .i8(-5)), ("a.u16", .u16(60000)), ("a.i16", .i16(-300)),
                  ("a.u32", .u32(4_000_000_000)), ("a.i32", .i32(-7)), ("a.f32", .f32(1.5)), ("a.bool", .bool(true)),
                  ("a.str", .str("héllo")), ("a.arr", .arr([.str("x"), .str("y")])), ("a.u64", .u64(1 << 40)),
                  ("a.i64", .i64(-(1 << 40))), ("a.f64", .f64(2.25)), ("general.alignment", .u32(64))]
        w.tensors = [.init(name: "t", dims: [3], type: 0, data: GGUFWriter.encode([1, 2, 3], as: .f32)),
                     .init(name: "u", dims: [32, 2], type: 8, data: GGUFWriter.encode((0..<64).map { Float($0) / 8 }, as: .q8_0))]
        let g = try GGUFFile(path: write(w.bytes()))
        XCTAssertEqual(g.metadata["a.u8"], .uint8(200)); XCTAssertEqual(g.metadata["a.i8"], .int8(-5))
        XCTAssertEqual(g.int("a.u16"), 60000); XCTAssertEqual(g.int("a.i16"), -300)
        XCTAssertEqual(g.int("a.u32"), 4_000_000_000); XCTAssertEqual(g.int("a.i32"), -7)
        XCTAssertEqual(g.double("a.f32"), 1.5); XCTAssertEqual(g.metadata["a.bool"], .bool(true))
        XCTAssertEqual(g.string("a.str"), "héllo"); XCTAssertEqual(g.metadata["a.arr"], .array([.string("x"), .string("y")]))
        XCTAssertEqual(g.int("a.u64"), 1 << 40); XCTAssertEqual(g.int("a.i64"), -(1 << 40)); XCTAssertEqual(g.double("a.f64"), 2.25)
        XCTAssertEqual(g.dataOffset % 64, 0)
        XCTAssertEqual(try g.floats("t"), [1, 2, 3])
        XCTAssertEqual(try g.floats("u", dims: [32, 2]).count, 64)
    }

    /// The same effective weights in GGUF (F32 and each quantised type) and safetensors give the same outputs.
    func testFormatsAgree() throws {
        let prompt = [5, 260, 33, 72, 101, 299, 7, 261]
        let req = ForwardRequest(sequences: [prompt], logitPositions: [[3, 7]], captureBlocks: [0, 1], capturePositions: [[0, 7]])
        for type in [GGMLType.q8_0, .q4_1, .q4_K] {
            let tiny = TinyModel(seed: 11, quantizedAs: type)
            let quant = try LanguageModel.load(path: write(tiny.gguf(type)))
            let f32 = try LanguageModel.load(path: write(tiny.gguf(.f32)))
            let dir = scratchDirectory()
            try tiny.writeSafetensors(to: dir)
            let st = try LanguageModel.load(path: dir.path)
            XCTAssertEqual(quant.config, f32.config)
            let a = try quant.forward(req), b = try f32.forward(req), c = try st.forward(req)
            XCTAssertEqual(a.logits, b.logits, "\(type) GGUF vs F32 GGUF")
            XCTAssertEqual(a.residuals, b.residuals)
            for (x, y) in zip(a.logits[0], c.logits[0]) { XCTAssertEqual(x, y, accuracy: 1e-4, "\(type) GGUF vs safetensors") }
            for (x, y) in zip(a.residuals[0], c.residuals[0]) { XCTAssertEqual(x, y, accuracy: 1e-4) }
            XCTAssertEqual(quant.tokenizer.encode("the cat"), st.tokenizer.encode("the cat"))
            XCTAssertEqual(st.tokenizer.decode(st.tokenizer.encode("the cat")), "the cat")
        }
    }

    func assertUserError(_ body: @autoclosure () throws -> Any, _ check: (ModelError) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        do { _ = try body(); XCTFail("no error", file: file, line: line) } catch let e as ModelError {
            XCTAssertTrue(check(e), "unexpected \(e)", file: file, line: line)
            XCTAssertFalse(e.message.isEmpty)
        } catch { XCTFail("not a ModelError: \(error)", file: file, line: line) }
    }

    func testBadFiles() throws {
        let tiny = TinyModel(seed: 3, quantizedAs: .q8_0)
        let good = tiny.gguf(.q8_0)
        assertUserError(try LanguageModel.load(path: self.write(Array(good.prefix(good.count - 1000))))) {
            if case .truncated = $0 { return true }; return false
        }
        assertUserError(try LanguageModel.load(path: self.write(Array(good.prefix(30))))) {
            if case .truncated = $0 { return true }; return false
        }
        var bad = good; bad[0] = 0x7f; bad[1] = 0x45
        assertUserError(try LanguageModel.load(path: self.write(bad))) { if case .badMagic = $0 { return true }; return false }
        assertUserError(try LanguageModel.load(path: self.write(tiny.gguf(.q8_0, architecture: "gpt2")))) {
            if case .unknownArchitecture(_, "gpt2") = $0 { return true }; return false
        }
        assertUserError(try LanguageModel.load(path: self.write(tiny.gguf(.q8_0, tensorType: ["blk.0.attn_q.weight": 19])))) {
            if case .unknownTensorType(_, "blk.0.attn_q.weight", 19) = $0 { return true }; return false
        }
        assertUserError(try LanguageModel.load(path: self.write(tiny.gguf(.q8_0, drop: "blk.1.ffn_up.weight")))) {
            if case .missingTensor(_, "blk.1.ffn_up.weight") = $0 { return true }; return false
        }
        assertUserError(try LanguageModel.load(path: self.write(tiny.gguf(.q8_0, dims: ["blk.0.attn_v.weight": [256, 32, 2]])))) {
            if case .shapeMismatch(_, "blk.0.attn_v.weight", _, _) = $0 { return true }; return false
        }
        let dir = scratchDirectory()
        try tiny.writeSafetensors(to: dir, hiddenSize: 128)
        assertUserError(try LanguageModel.load(path: dir.path)) { if case .configMismatch = $0 { return true }; return false }
        assertUserError(try LanguageModel.load(path: "/nonexistent/x.gguf")) { if case .fileNotFound = $0 { return true }; return false }
    }
}
