import Foundation
import XCTest
@testable import TDXReport

final class GoldenReportTests: XCTestCase {
    func testExampleReportMatchesGoldenFiles() throws {
        let dir = try temporaryDirectory(self).appendingPathComponent("Results/quick")
        let written = try ExampleReport.build(into: dir).write()
        let names = written.map(\.lastPathComponent)
        XCTAssertEqual(names.sorted(), ["behaviour.svg", "interventions.csv", "interventions.svg", "max_r_td.csv",
                                        "max_r_td.svg", "mds.svg", "model_comparison.csv", "report.md",
                                        "sae_quality.csv"])
        for url in written {
            let text = try String(contentsOf: url, encoding: .utf8)
            if url.pathExtension == "svg" { assertValidSVG(text) }
            assertGolden(text, url.lastPathComponent)
        }
        // Every image the report links to was written.
        let report = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        let links = report.components(separatedBy: "](").dropFirst().compactMap { $0.split(separator: ")").first }
        XCTAssertEqual(links.count, 4)
        for l in links { XCTAssertTrue(names.contains(String(l)), "dangling link \(l)") }
    }
}
