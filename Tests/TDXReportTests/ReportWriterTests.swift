import Foundation
import XCTest
@testable import TDXReport

final class ReportWriterTests: XCTestCase {
    func testWritesAndReplacesWholeDirectory() throws {
        let root = try temporaryDirectory(self)
        let dir = root.appendingPathComponent("Results/quick")
        var w = ReportWriter(directory: dir)
        w.add("report.md", text: "# v1\n")
        w.add("old.csv", table: ReportTable(columns: ["a"], rows: [[1]]))
        let first = try w.write()
        XCTAssertEqual(first.map(\.lastPathComponent), ["report.md", "old.csv"])
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("old.csv"), encoding: .utf8), "a\n1\n")

        var w2 = ReportWriter(directory: dir)
        w2.add("report.md", text: "# v2\n")
        w2.add("fig.svg", figure: LinePlot(title: "t", xLabel: "x", yLabel: "y"))
        try w2.write()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(names, ["fig.svg", "report.md"], "stale files from the last run are gone")
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8), "# v2\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.deletingLastPathComponent().path),
                       ["quick"], "no staging or retired directories left behind")
    }

    func testFailureMidWayLeavesOldReportIntact() throws {
        let root = try temporaryDirectory(self)
        let dir = root.appendingPathComponent("spec")
        var w = ReportWriter(directory: dir)
        w.add("report.md", text: "good\n")
        try w.write()

        var bad = ReportWriter(directory: dir)
        bad.add("report.md", text: "half\n")
        bad.add(String(repeating: "x", count: 300) + ".csv", text: "too long a name for the file system\n")
        XCTAssertThrowsError(try bad.write()) { e in
            guard case .cannotWrite? = e as? ReportError else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8), "good\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), ["spec"])
    }

    func testRejectsBadNamesBeforeWriting() throws {
        let root = try temporaryDirectory(self)
        for name in ["", "..", "a/b.svg"] {
            var w = ReportWriter(directory: root.appendingPathComponent("r"))
            w.add(name, text: "x")
            XCTAssertThrowsError(try w.write()) { XCTAssertEqual($0 as? ReportError, .badFileName(name)) }
        }
        var dup = ReportWriter(directory: root.appendingPathComponent("r"))
        dup.add("a.csv", text: "1")
        dup.add("a.csv", text: "2")
        XCTAssertThrowsError(try dup.write())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), [])
    }

    func testUnwritableParentIsAUserError() throws {
        let root = try temporaryDirectory(self)
        let file = root.appendingPathComponent("not-a-dir")
        try Data("x".utf8).write(to: file)
        var w = ReportWriter(directory: file.appendingPathComponent("spec"))
        w.add("report.md", text: "x")
        XCTAssertThrowsError(try w.write()) { e in
            let err = e as? ReportError
            XCTAssertNotNil(err)
            XCTAssertTrue(err?.message.contains("cannot write report") == true, "\(e)")
            XCTAssertNotNil(err?.help)
        }
    }
}
