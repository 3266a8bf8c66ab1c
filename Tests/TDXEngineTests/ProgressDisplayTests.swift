import Foundation
import XCTest
import TDXCore
@testable import TDXEngine

final class ProgressDisplayTests: XCTestCase {
    /// Plain lines (a log, not a terminal) give the time left at the pace since the previous line, so a
    /// stage resumed from saved parts does not promise too soon an end.
    func testPlainLinesGiveTheTimeLeftAtTheRecentPace() {
        final class Lines: @unchecked Sendable { var text = "" }
        final class Clock: @unchecked Sendable { var t = Date(timeIntervalSince1970: 3600) }
        let lines = Lines(), clock = Clock()
        let d = ProgressDisplay(io: CommandIO(out: { _ in }, err: { lines.text += $0 }), total: 3, now: { clock.t })
        d.started("rollout")
        let sink = d.sink(for: "rollout")
        sink.update(20, of: 100)              // 20 loaded from saved parts at once
        clock.t += 40
        sink.update(21, of: 100)              // the first line: its window holds the loaded parts, so no pace
        clock.t += 3 * 3600
        sink.update(30, of: 100)              // 9 in 3 h: 20 min each, 70 to go
        clock.t += 10
        sink.update(31, of: 100)              // within 30 s of the last line and no new quarter: quiet
        XCTAssertEqual(lines.text.split(separator: "\n").map(String.init), [
            "01:00:00 start  rollout",
            "01:00:40 rollout 21/100 (21%)",
            "04:00:40 rollout 30/100 (30%, about 23h20m left)",
        ])
        d.finished("rollout", status: "done", seconds: 3 * 3600 + 125)
        XCTAssertTrue(lines.text.hasSuffix("04:00:50 [1/3] done   rollout (3h02m)\n"), lines.text)
    }
}
