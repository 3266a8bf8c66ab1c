import Foundation
import XCTest
@testable import TDXLang

/// Paths inside the repository, found from this file's location.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ rel: String) -> String { root.appendingPathComponent(rel).path }
    static var specs: [String] {
        let dir = path("specs")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".tdx") && !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
    }
}

/// Checks in-memory files; `files` maps paths to contents (imports read from it too).
func checkText(_ text: String, path: String = "test.tdx", files: [String: String] = [:]) -> CheckResult {
    let all = files
    return Frontend.check(text: text, path: path, reader: { p in
        let key = URL(fileURLWithPath: p).lastPathComponent
        if let t = all[p] ?? all[key] { return t }
        throw CocoaError(.fileReadNoSuchFile)
    })
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
    XCTAssertEqual(actual, expected, "golden \(name) differs; run with TDX_UPDATE_GOLDEN=1 if the change is intended", file: file, line: line)
}

/// Inline error markers: `«text»E0301` in a test spec marks the exact span of an expected diagnostic
/// and its code. Returns the clean source and the expected (start, end, code) triples.
func stripMarkers(_ marked: String) -> (String, [(Int, Int, String)]) {
    var out: [UInt8] = []
    var expected: [(Int, Int, String)] = []
    var starts: [Int] = []
    let b = Array(marked.utf8)
    var i = 0
    let open = Array("«".utf8), close = Array("»".utf8)
    while i < b.count {
        if b[i...].starts(with: open) { starts.append(out.count); i += open.count; continue }
        if b[i...].starts(with: close) {
            i += close.count
            let code = String(decoding: b[i..<min(i + 5, b.count)], as: UTF8.self)
            i += 5
            expected.append((starts.removeLast(), out.count, code))
            continue
        }
        out.append(b[i]); i += 1
    }
    return (String(decoding: out, as: UTF8.self), expected)
}

func assertMarkedDiagnostics(_ marked: String, file: StaticString = #filePath, line: UInt = #line) {
    let (clean, expected) = stripMarkers(marked)
    let r = checkText(clean)
    let got = r.diagnostics.map { ($0.range.start, $0.range.end, $0.code) }
    let fmt: ([(Int, Int, String)]) -> String = { $0.map { "\($0.2)@\($0.0)..<\($0.1)" }.sorted().joined(separator: ", ") }
    XCTAssertEqual(fmt(got), fmt(expected),
                   "diagnostics differ:\n" + DiagnosticRenderer(sources: r.sources).render(r.diagnostics), file: file, line: line)
}
