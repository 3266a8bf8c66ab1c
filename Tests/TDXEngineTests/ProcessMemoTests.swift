import XCTest
@testable import TDXEngine

final class ProcessMemoTests: XCTestCase {
    /// An entry holding `floats` recorded floats.
    private static func entry(_ floats: Int) -> IntactReplay {
        IntactReplay(data: RolloutData(task: "two_step", experiments: []),
                     captured: CapturedActivations(blocks: [0], rows: ActivationRows(experiment: [], event: [], position: []),
                                                   x: [[Float](repeating: 1, count: floats)]))
    }

    /// Past the byte budget the oldest replay is dropped (and computed again when asked for); the newest is
    /// kept even when it alone is over the budget.
    func testDropsTheOldestReplayPastItsBudget() {
        let memo = IntactReplayMemo(budget: 1000 * MemoryLayout<Float>.size)
        var computed: [String] = []
        func get(_ key: String, _ floats: Int) { _ = memo.value(key) { computed.append(key); return Self.entry(floats) } }
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

    /// Two stages asking for the same replay at once (engine jobs > 1): one computes it, the other waits
    /// and reads it; a failed computation leaves the waiter to compute it itself.
    func testConcurrentAsksShareOneComputation() {
        let memo = IntactReplayMemo()
        let calls = Counter()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            _ = memo.value("k") { calls.add(); Thread.sleep(forTimeInterval: 0.3); return Self.entry(10) }
        }
        XCTAssertEqual(calls.value, 1)
        XCTAssertEqual(memo.hits, 1)
        struct Failed: Error {}
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            _ = try? memo.value("f") { calls.add(); Thread.sleep(forTimeInterval: 0.2); if i == 0 { throw Failed() }; return Self.entry(10) }
        }
        XCTAssertGreaterThanOrEqual(calls.value, 2)
        XCTAssertEqual(memo.count, 2)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}
