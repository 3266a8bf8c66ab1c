import Foundation
import XCTest
@testable import TDXLang

final class SchemaDocsTests: XCTestCase {
    static let begin = "<!-- BEGIN GENERATED PARAMETERS (tdx help --tables) -->\n"
    static let end = "<!-- END GENERATED PARAMETERS -->"

    /// Grammar/README.md's tables are generated from the schema; this keeps them current.
    func testGrammarReadmeTablesAreCurrent() throws {
        let path = Repo.path("Grammar/README.md")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let b = text.range(of: Self.begin), let e = text.range(of: Self.end) else {
            return XCTFail("Grammar/README.md lacks the generated-table markers")
        }
        let current = String(text[b.upperBound..<e.lowerBound])
        let generated = Schema.markdownTables()
        if current != generated, ProcessInfo.processInfo.environment["TDX_UPDATE_GOLDEN"] == "1" {
            try (String(text[..<b.upperBound]) + generated + String(text[e.lowerBound...])).write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertEqual(current, generated, "Grammar/README.md tables are stale: run `tdx help --tables` or TDX_UPDATE_GOLDEN=1")
    }

    func testEveryParameterHasDocAndValidDefault() {
        for b in [Schema.topLevel] + Schema.blocks {
            for p in b.params {
                XCTAssertFalse(p.doc.isEmpty, "\(b.name).\(p.name) has no doc")
                // The default must pass its own type check (blockRef defaults are "").
                if case .blockRef = p.type { continue }
                for value in [p.defaultValue] + p.kindDefaults.values {
                    var tc = TypeChecker(lets: [:])
                    let text = value.canonical
                    let f = SourceFile(path: "d", text: "x = \(text)")
                    let (ast, _) = Parser.parse(f, fileID: 0)
                    guard case .setting(let e)? = ast.items.first?.kind else { return XCTFail("default of \(p.name) does not parse: \(text)") }
                    XCTAssertNotNil(tc.check(e.value, p.type, key: p.name), "default of \(b.name).\(p.name) fails its type: \(text)")
                }
                for kind in p.kindDefaults.keys {
                    XCTAssertTrue(b.subKinds.contains { $0.name == kind } && p.applies(toKind: kind), "\(b.name).\(p.name): default for unknown kind \(kind)")
                }
            }
        }
    }
}
