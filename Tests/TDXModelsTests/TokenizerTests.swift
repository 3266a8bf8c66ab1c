import Foundation
import XCTest
@testable import TDXModels

final class TokenizerTests: XCTestCase {
    /// Every case of llama.cpp's test-tokenizer-0 (add_special = false, parse_special = false).
    func runVocabCases(_ name: String) throws {
        let dir = try TestData.vocabDir()
        let gguf = try GGUFFile(path: dir.appendingPathComponent("ggml-vocab-\(name).gguf").path)
        let tok = try Tokenizer(gguf: gguf)
        let raw = try String(decoding: Data(contentsOf: dir.appendingPathComponent("ggml-vocab-\(name).gguf.inp")), as: UTF8.self)
        let outLines = try String(decoding: Data(contentsOf: dir.appendingPathComponent("ggml-vocab-\(name).gguf.out")), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false)
        var inputs = raw.components(separatedBy: "\n__ggml_vocab_test__\n")
        if inputs.last == "" { inputs.removeLast() }
        XCTAssertGreaterThan(inputs.count, 30)
        var failures = 0
        for (i, text) in inputs.enumerated() {
            let want = outLines[i].split(separator: " ").map { Int($0)! }
            let got = tok.encode(text, parseSpecial: false)
            if got != want {
                failures += 1
                XCTFail("\(name) case \(i) \(text.debugDescription): got \(got), want \(want)")
            }
            XCTAssertEqual(tok.decode(got), text, "\(name) round trip of case \(i)")
        }
        XCTAssertEqual(failures, 0)
    }

    func testLlamaBPEVocab() throws { try runVocabCases("llama-bpe") }
    func testGPT2Vocab() throws { try runVocabCases("gpt-2") }
    func testQwen2Vocab() throws { try runVocabCases("qwen2") }

    func testLlamaBPEHelloWorld() throws {
        let tok = try Tokenizer(gguf: GGUFFile(path: TestData.vocabDir().appendingPathComponent("ggml-vocab-llama-bpe.gguf").path))
        XCTAssertEqual(tok.encode("Hello world"), [9906, 1917])
        XCTAssertEqual(tok.encode("Hello world", addSpecial: true).first, tok.bos)
    }

    func testSmolLM2Tokens() throws {
        let tok = try Tokenizer(gguf: GGUFFile(path: TestData.smolLM2()))
        let ids = tok.encode("The capital of France is")
        XCTAssertEqual(ids.map { tok.tokens[$0] }, ["The", "Ġcapital", "Ġof", "ĠFrance", "Ġis"])
        XCTAssertEqual(tok.encode("One, two, three, four,").map { tok.tokens[$0] },
                       ["One", ",", "Ġtwo", ",", "Ġthree", ",", "Ġfour", ","])
        // Digits are isolated by SmolLM's pre-tokenizer.
        XCTAssertEqual(tok.encode("2024").map { tok.tokens[$0] }, ["2", "0", "2", "4"])
        XCTAssertEqual(tok.encode("<|im_start|>user"), [1] + tok.encode("user"))
        for s in ["One, two, three, four,", "  spaces\n\nand\ttabs ", "naïve café — 東京 🙂"] {
            XCTAssertEqual(tok.decode(tok.encode(s)), s)
        }
    }

    func testPreTokenizerSplits() {
        func words(_ p: PreTokenizer, _ s: String) -> [String] { p.split(s).map { String(String.UnicodeScalarView($0)) } }
        XCTAssertEqual(words(.gpt2, "Hello world's  end"), ["Hello", " world", "'s", " ", " end"])
        XCTAssertEqual(words(.llama3, "abc 12345\n\n x"), ["abc", " ", "123", "45", "\n\n", " x"])
        XCTAssertEqual(words(.qwen2, "12a"), ["1", "2", "a"])
        XCTAssertEqual(words(.smollm, "a 12"), ["a", " ", "1", "2"])
    }
}

final class TokenizerJSONTests: XCTestCase {
    func testPreTokenizerGuessedFromTokenizerJSON() {
        func pre(_ regex: String) -> [String: Any] {
            ["pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": regex], "behavior": "Isolated"], ["type": "ByteLevel"]]]]
        }
        XCTAssertEqual(Tokenizer.guessPre(pre(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)), .llama3)
        XCTAssertEqual(Tokenizer.guessPre(pre(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)), .qwen2)
        XCTAssertEqual(Tokenizer.guessPre(["pre_tokenizer": ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], ["type": "ByteLevel"]]]]), .smollm)
        XCTAssertEqual(Tokenizer.guessPre(["pre_tokenizer": ["type": "ByteLevel"]]), .gpt2)
    }
}
