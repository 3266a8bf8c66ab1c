import Dispatch
import Foundation

/// Splits index ranges over the machine's cores for memory-bound kernels (Adam, row normalisation).
public enum Parallel {
    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` on contiguous sub-ranges of 0..<count, concurrently when each part has at least `minChunk`
    /// elements. `body` must only touch its own range.
    public static func chunks(_ count: Int, minChunk: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
        let parts = min(cores, count / max(minChunk, 1))
        if parts <= 1 { body(0..<count); return }
        let per = (count + parts - 1) / parts
        withoutActuallyEscaping(body) { b in
            let box = UncheckedBox(b)
            DispatchQueue.concurrentPerform(iterations: parts) { i in
                let lo = i * per
                box.value(lo..<min(count, lo + per))
            }
        }
    }
}

/// Carries a non-Sendable closure into `concurrentPerform`; callers guarantee disjoint work per iteration.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A raw pointer that may cross into `Parallel.chunks` workers, each touching a disjoint part.
public struct UncheckedPointer<T>: @unchecked Sendable {
    public let value: UnsafeMutablePointer<T>
    public init(_ value: UnsafeMutablePointer<T>) { self.value = value }
}
