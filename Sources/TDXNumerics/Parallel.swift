import Dispatch
import Foundation

/// Splits index ranges over the machine's cores for memory-bound kernels (Adam, row normalisation).
public enum Parallel {
    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` on contiguous sub-ranges of 0..<count, concurrently when each part has at least `minChunk`
    /// elements. `body` must only touch its own range.
    public static func chunks(_ count: Int, minChunk: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
        let parts = split(count, minChunk: minChunk, cores: cores)
        if parts.count <= 1 { body(0..<count); return }
        withoutActuallyEscaping(body) { b in
            let box = UncheckedBox(b)
            DispatchQueue.concurrentPerform(iterations: parts.count) { i in box.value(parts[i]) }
        }
    }

    /// Contiguous, non-empty sub-ranges covering 0..<count: at most `cores`, each at least `minChunk` long
    /// (except when there is only one).
    static func split(_ count: Int, minChunk: Int, cores: Int) -> [Range<Int>] {
        let wanted = min(cores, count / max(minChunk, 1))
        guard wanted > 1 else { return count > 0 ? [0..<count] : [] }
        let per = (count + wanted - 1) / wanted
        return stride(from: 0, to: count, by: per).map { $0..<min(count, $0 + per) }
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
