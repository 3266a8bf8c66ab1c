import XCTest
@testable import TDXEngine

final class IntactReplayMemoTests: XCTestCase {
    /// An entry holding `floats` recorded floats.
    private func entry(_ floats: Int) -> IntactReplayMemo.Entry {
        (RolloutData(task: "two_step", experiments: []),
         CapturedActivations(blocks: [0], rows: ActivationRows(experiment: [], event: [], position: []),
                             x: [[Float](repeating: 1, count: floats)]))
    }

    /// Past the byte budget the oldest replay is dropped (and computed again when asked for); the newest is
    /// kept even when it alone is over the budget.
    func testDropsTheOldestReplayPastItsBudget() {
        let memo = IntactReplayMemo(budget: 1000 * MemoryLayout<Float>.size)
        var computed: [String] = []
        func get(_ key: String, _ floats: Int) { _ = memo.value(key) { computed.append(key); return entry(floats) } }
        get("a", 600); get("a", 600)
        XCTAssertEqual(memo.hits, 1)
        get("b", 300)
        XCTAssertEqual(memo.count, 2)
        get("c", 300)   // a + b + c = 1,200 floats: a goes
        XCTAssertEqual(memo.count, 2)
        get("b", 300); get("c", 300)
        XCTAssertEqual(memo.hits, 3)
        get("a", 600)   // recomputed; a + c = 900 after b goes
        XCTAssertEqual(computed, ["a", "b", "c", "a"])
        get("huge", 5000)
        XCTAssertEqual(memo.count, 1)
        get("huge", 5000)
        XCTAssertEqual(memo.hits, 4)
    }
}
