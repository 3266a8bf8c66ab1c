import Foundation
import XCTest
import TDXCore
@testable import TDXLang

/// Mutates the shipped specs 10,000 times at byte and token level. The front end must never crash or
/// hang, and must return either a valid spec or diagnostics whose positions lie inside the file.
final class FuzzTests: XCTestCase {
    static let pieces = ["{", "}", "[", "]", "(", ")", "=", ",", "..", " by ", " in ", "\"", "\"\"\"", "\n", "/*", "*/", "//",
                         "γ", "β", "-", "1e-5", "1e", "0..29", "99999999999999999999", "task", "sae", "let", "import", "tdx",
                         "peak(td_error)", "common(", "true", "\u{0}", "\t", "é", "\u{FFFD}", "0.", ".5", "x", "all"]

    func testMutatedSpecsNeverCrashOrHang() throws {
        var corpus = try Repo.specs.map { try String(contentsOfFile: $0, encoding: .utf8) }
        XCTAssertFalse(corpus.isEmpty)
        corpus.append("tdx 1\ntask two_step {}\n")
        var rng = SeededRNG(seed: 20251126)
        let start = Date()
        var valid = 0, invalid = 0
        var slowest = 0.0
        for i in 0..<10_000 {
            let base = corpus[rng.int(below: corpus.count)]
            let text = i % 2 == 0 ? mutateBytes(base, &rng) : mutateTokens(base, &rng)
            let t0 = Date()
            let r = Frontend.check(text: text, path: "fuzz.tdx", reader: { _ in throw CocoaError(.fileReadNoSuchFile) })
            slowest = max(slowest, Date().timeIntervalSince(t0))
            if r.spec != nil {
                XCTAssertFalse(r.hasErrors)
                valid += 1
            } else {
                XCTAssertTrue(r.hasErrors, "no spec and no error for:\n\(text)")
                invalid += 1
            }
            for d in r.diagnostics {
                guard let f = r.sources[d.range.file] else { XCTFail("diagnostic in unknown file: \(d.message)"); continue }
                XCTAssertTrue(0 <= d.range.start && d.range.start <= d.range.end && d.range.end <= f.bytes.count,
                              "range \(d.range) outside file of \(f.bytes.count) bytes: \(d.message)")
                let loc = f.location(of: d.range.start)
                XCTAssertTrue(loc.line >= 1 && loc.line <= f.lineStarts.count && loc.column >= 1)
                _ = DiagnosticRenderer(sources: r.sources).render(d)
            }
            if i % 2 == 1 && r.ast != nil {
                // The formatter must not crash on anything that parsed.
                _ = Formatter().format(r.ast!)
            }
        }
        XCTAssertLessThan(slowest, 2.0, "one check took \(slowest) s: a near-hang")
        XCTAssertGreaterThan(valid, 0)
        XCTAssertGreaterThan(invalid, 0)
        print("fuzz: \(valid) valid, \(invalid) invalid, \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }

    private func mutateBytes(_ s: String, _ rng: inout SeededRNG) -> String {
        var b = Array(s.utf8)
        for _ in 0..<(1 + rng.int(below: 4)) {
            guard !b.isEmpty else { break }
            let p = rng.int(below: b.count)
            switch rng.int(below: 5) {
            case 0: b[p] = UInt8(truncatingIfNeeded: rng.next())
            case 1: b.remove(at: p)
            case 2: b.insert(contentsOf: Array(Self.pieces[rng.int(below: Self.pieces.count)].utf8), at: p)
            case 3:
                let n = min(b.count - p, rng.int(below: 40))
                b.removeSubrange(p..<(p + n))
            default:
                let n = min(b.count - p, rng.int(below: 40))
                b.insert(contentsOf: b[p..<(p + n)], at: rng.int(below: b.count))
            }
        }
        return String(decoding: b, as: UTF8.self)
    }

    private func mutateTokens(_ s: String, _ rng: inout SeededRNG) -> String {
        let f = SourceFile(path: "m", text: s)
        var toks = Lexer.tokenize(f, fileID: 0).tokens.dropLast().map { f.slice($0.range) }
        for _ in 0..<(1 + rng.int(below: 3)) {
            guard !toks.isEmpty else { break }
            let p = rng.int(below: toks.count)
            switch rng.int(below: 4) {
            case 0: toks.remove(at: p)
            case 1: toks.insert(toks[rng.int(below: toks.count)], at: p)
            case 2: toks.swapAt(p, rng.int(below: toks.count))
            default: toks[p] = Self.pieces[rng.int(below: Self.pieces.count)]
            }
        }
        var out = ""
        for t in toks { out += t; out += rng.int(below: 6) == 0 ? "\n" : " " }
        return out
    }
}
