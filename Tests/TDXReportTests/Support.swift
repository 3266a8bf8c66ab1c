import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// What an SVG parse found: element counts, the text of every `<text>`, and the root's attributes.
struct ParsedSVG {
    var elements: [String: Int] = [:]
    var texts: [String] = []
    var rootAttributes: [String: String] = [:]
}

private final class SVGCollector: NSObject, XMLParserDelegate {
    var parsed = ParsedSVG()
    private var inText = false
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "svg" && parsed.elements.isEmpty { parsed.rootAttributes = attributes }
        parsed.elements[name, default: 0] += 1
        if name == "text" { inText = true; current = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { parsed.texts.append(current); inText = false }
    }
}

/// Parses `svg` as XML, failing the test when it is not well formed or not an SVG document.
@discardableResult
func assertValidSVG(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> ParsedSVG {
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = SVGCollector()
    parser.delegate = collector
    let ok = parser.parse()
    XCTAssertTrue(ok, "SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", file: file, line: line)
    XCTAssertTrue(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), file: file, line: line)
    XCTAssertEqual(collector.parsed.rootAttributes["font-family"], "sans-serif", file: file, line: line)
    for bad in ["nan", "inf"] {
        XCTAssertNil(svg.range(of: "=\"[^\"]*\\b\(bad)\\b", options: [.regularExpression, .caseInsensitive]),
                     "SVG has a non-finite number in an attribute", file: file, line: line)
    }
    return collector.parsed
}

/// Compares `actual` with a golden file; `TDX_UPDATE_GOLDEN=1` rewrites it.
func assertGolden(_ actual: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)").path
    if ProcessInfo.processInfo.environment["TDX_UPDATE_GOLDEN"] == "1" {
        try? actual.write(toFile: path, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
        XCTFail("missing golden file \(name); run with TDX_UPDATE_GOLDEN=1 to create it", file: file, line: line)
        return
    }
    XCTAssertEqual(actual, expected, "golden \(name) differs; run with TDX_UPDATE_GOLDEN=1 if the change is intended",
                   file: file, line: line)
}

/// A fresh empty temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tdx-report-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}
