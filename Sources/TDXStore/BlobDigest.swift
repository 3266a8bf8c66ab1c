import Dispatch
import TDXCore

/// The content address of a blob: SHA-256 of the concatenated SHA-256 digests of its consecutive
/// 1 MiB leaves (the last leaf may be shorter; an empty blob has no leaves). Hashing leaves
/// independently lets a writer hash on every core while SQLite writes, and lets `verify` name the
/// damaged region. (Same construction as Dropbox's content hash, with 1 MiB instead of 4 MiB leaves.)
public enum BlobDigest {
    public static let leafSize = 1 << 20

    /// Digest of bytes already in memory, hashing leaves on all cores.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var tree = TreeHasher()
        tree.appendLeaves(parallelLeafDigests(bytes))
        return tree.finalize()
    }

    public static func hex(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { hex($0) } }

    /// Leaf digests of `bytes` (leaf-aligned at its start), hashed concurrently.
    static func parallelLeafDigests(_ bytes: UnsafeRawBufferPointer) -> [[UInt8]] {
        let n = (bytes.count + leafSize - 1) / leafSize
        if n == 0 { return [] }
        var out = [[UInt8]](repeating: [], count: n)
        let input = SendableBox(bytes)
        out.withUnsafeMutableBufferPointer { slots in
            let slotsBox = SendableBox(slots)
            DispatchQueue.concurrentPerform(iterations: n) { i in
                slotsBox.value[i] = leafDigest(input.value, leaf: i)
            }
        }
        return out
    }

    static func leafDigest(_ bytes: UnsafeRawBufferPointer, leaf i: Int) -> [UInt8] {
        let lo = i * leafSize, hi = min(lo + leafSize, bytes.count)
        var h = SHA256()
        h.update(bytes: UnsafeRawBufferPointer(rebasing: bytes[lo..<hi]))
        return h.finalize()
    }
}

/// Accumulates leaf digests (in order) and combines them into the blob digest.
struct TreeHasher {
    private var root = SHA256()
    private(set) var leaves = 0

    mutating func appendLeaves(_ digests: [[UInt8]]) {
        for d in digests { root.update(d) }
        leaves += digests.count
    }

    func finalize() -> String { root.hexDigest() }
}

/// Moves a value across threads where the caller guarantees the accesses do not race
/// (disjoint slots of one buffer, or a connection used by one thread at a time).
struct SendableBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
