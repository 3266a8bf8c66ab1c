import XCTest
@testable import TDXLang

final class LexerTests: XCTestCase {
    private func kinds(_ s: String) -> [TokenKind] {
        Lexer.tokenize(SourceFile(path: "t", text: s), fileID: 0).tokens.map(\.kind)
    }

    func testNumbers() {
        XCTAssertEqual(kinds("30 0.99 1e-5 -10 2.5E3 1_000"),
                       [.integer(30), .float(0.99), .float(1e-5), .integer(-10), .float(2500), .integer(1000), .eof])
        XCTAssertEqual(kinds("0..29 by 2"), [.integer(0), .dotdot, .integer(29), .identifier("by"), .integer(2), .eof])
    }

    func testUnicodeIdentifiersAndExactRanges() {
        let f = SourceFile(path: "t", text: "γ = 0.9  α=1")
        let toks = Lexer.tokenize(f, fileID: 0).tokens
        XCTAssertEqual(toks[0].kind, .identifier("γ"))
        XCTAssertEqual(toks[0].range.start, 0)
        XCTAssertEqual(toks[0].range.end, 2)  // γ is two UTF-8 bytes
        XCTAssertEqual(f.location(of: toks[3].range.start), SourceLocation(line: 1, column: 10))  // α
    }

    func testStringsAndComments() {
        let toks = Lexer.tokenize(SourceFile(path: "t", text: "// a\nx = \"q\\\"\\n\" /* b */ y"), fileID: 0).tokens
        XCTAssertEqual(toks[0].leadingComments.map(\.text), ["// a"])
        XCTAssertEqual(toks[2].kind, .string("q\"\n", triple: false))
        XCTAssertEqual(toks[3].leadingComments.map(\.text), ["/* b */"])
        XCTAssertFalse(toks[3].leadingComments[0].ownLine)
    }

    func testTripleQuotedStripsClosingIndentation() {
        let text = "p = \"\"\"\n    You will travel.\n      Indented.\n\n    End.\n    \"\"\""
        let toks = Lexer.tokenize(SourceFile(path: "t", text: text), fileID: 0).tokens
        XCTAssertEqual(toks[2].kind, .string("You will travel.\n  Indented.\n\nEnd.", triple: true))
    }

    func testLexicalErrorsAreReportedNotFatal() {
        let (toks, d) = Lexer.tokenize(SourceFile(path: "t", text: "x = \"open\ny = 3x\nz = $"), fileID: 0)
        XCTAssertEqual(d.items.map(\.code), ["E0001", "E0004", "E0003"])
        XCTAssertEqual(toks.last?.kind, .eof)
    }
}
