import Foundation
import XCTest
@testable import TDXReport

final class FormatTests: XCTestCase {
    func testNumberStyles() {
        XCTAssertEqual(NumberFormat.format(0.58123), "0.581")
        XCTAssertEqual(NumberFormat.format(3.2e-7), "3.2e-07")
        XCTAssertEqual(NumberFormat.format(0), "0.000")
        XCTAssertEqual(NumberFormat.format(2729.4, .fixed(decimals: 1)), "2729.4")
        XCTAssertEqual(NumberFormat.format(1.23e9), "1.2e+09")
        XCTAssertEqual(NumberFormat.format(-0.0001, .fixed(decimals: 2)), "0.00")
        XCTAssertEqual(NumberFormat.format(0.243, .percent(decimals: 1)), "24.3 %")
        XCTAssertEqual(NumberFormat.format(12345, .scientific(digits: 3)), "1.23e+04")
        XCTAssertEqual(NumberFormat.format(.nan), "—")
        XCTAssertEqual(NumberFormat.format(-.infinity), "−∞")
    }

    func testExactNumbersKeepFifteenDigits() {
        for x in [0.1, 1.0 / 3, -2.5e-12, 1e300, 7.0, -0.0, 123456789012.0, Double(Float(0.58))] {
            let back = Double(NumberFormat.exact(x))!
            XCTAssertEqual(back, x, accuracy: abs(x) * 1e-14, "\(x)")
        }
        XCTAssertEqual(NumberFormat.exact(7), "7")
        XCTAssertEqual(NumberFormat.exact(0.1 * 1.2), "0.12")
        XCTAssertEqual(NumberFormat.exact(-0.0), "0")
        XCTAssertEqual(NumberFormat.exact(3e-9), "3e-09")
        XCTAssertEqual(NumberFormat.exact(.nan), "NaN")
        XCTAssertEqual(NumberFormat.exact(.infinity), "inf")
    }

    func testCSVQuotesOnlyWhenNeeded() {
        XCTAssertEqual(CSVTable.field("plain"), "plain")
        XCTAssertEqual(CSVTable.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVTable.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVTable.field("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(CSVTable.field("crlf\r\n"), "\"crlf\r\n\"")
        XCTAssertEqual(CSVTable.field(" padded"), "\" padded\"")
        XCTAssertEqual(CSVTable.field(""), "")
    }

    /// `parse` reads back what `render` writes, awkward fields included, and plain RFC 4180 with CRLF.
    func testCSVParseInvertsRender() {
        let header = ["name", "value"]
        let rows = [["plain", "1"], ["a,b", ""], ["say \"hi\"", "two\nlines"], [" padded", "crlf\r\nend"], ["", ""]]
        let parsed = CSVTable.parse(CSVTable.render(header: header, rows: rows))
        XCTAssertEqual(parsed.header, header)
        XCTAssertEqual(parsed.rows, rows)
        XCTAssertEqual(CSVTable.parse("a,b\r\n1,\"x\"\"y\"\r\n2,3").rows, [["1", "x\"y"], ["2", "3"]])
        XCTAssertEqual(CSVTable.parse("").header, [])
    }

    func testTableRendersExactCSVAndRoundedMarkdown() {
        var t = ReportTable(columns: ["model", "NLL", "p", "n"])
        t.append(["Q-learning", .number(2729.4567, .fixed(decimals: 1)), .number(3e-9), 100])
        t.append(["a|b, c", .number(.nan), 0.5])  // short row is padded
        XCTAssertEqual(t.csv, "model,NLL,p,n\nQ-learning,2729.4567,3e-09,100\n\"a|b, c\",NaN,0.5,\n")
        XCTAssertEqual(t.markdown, """
            | model | NLL | p | n |
            | --- | ---: | ---: | --- |
            | Q-learning | 2729.5 | 3.0e-09 | 100 |
            | a\\|b, c | — | 0.500 |  |

            """)
    }

    func testMarkdownBuilder() {
        var md = MarkdownReport(title: "Two-step [quick]")
        md.keyValueTable([("spec digest", "ab|cd"), ("tdx version", "0.1.0")], codeValues: true)
        md.heading("Behaviour")
        md.paragraph("Returns per episode.")
        md.bullets(["one", "two\nlines"])
        md.image("returns plot.svg", alt: "Returns")
        md.codeBlock("a ``` b\n", language: "text")
        XCTAssertEqual(md.text, """
            # Two-step \\[quick\\]

            | Key | Value |
            | --- | --- |
            | spec digest | `ab\\|cd` |
            | tdx version | `0.1.0` |

            ## Behaviour

            Returns per episode.

            - one
            - two lines

            ![Returns](returns%20plot.svg)

            ````text
            a ``` b
            ````

            """)
    }
}
