import Dispatch
import TDXCore

/// The content address of a blob: SHA-256 of the concatenated SHA-256 digests of its consecutive
/// 1 MiB leaves (the last leaf may be shorter; an empty blob has no leaves). Hashing leaves
/// independently lets eight leaves share one SIMD kernel (`SHA256x8`) and lets a writer hash
/// while SQLite writes. (Same construction as Dropbox's content hash, with 1 MiB instead of 4 MiB leaves.)
public enum BlobDigest {
    public static let leafSize = 1 << 20

    /// Digest of bytes already in memory, hashing on all cores.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var tree = TreeHasher()
        tree.appendLeaves(parallelLeafDigests(bytes))
        return tree.finalize()
    }

    public static func hex(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { hex($0) } }

    /// Leaf digests of `bytes` (leaf-aligned at its start): groups of eight full leaves go through
    /// the 8-lane kernel, the rest through the scalar SHA-256. Single-threaded.
    static func leafDigests(_ bytes: UnsafeRawBufferPointer) -> [[UInt8]] {
        let fullGroups = bytes.count / (8 * leafSize)
        var out: [[UInt8]] = []
        out.reserveCapacity((bytes.count + leafSize - 1) / leafSize)
        for g in 0..<fullGroups { out += groupDigests(bytes, group: g) }
        for leaf in (fullGroups * 8)..<((bytes.count + leafSize - 1) / leafSize) { out.append(leafDigest(bytes, leaf: leaf)) }
        return out
    }

    /// The same, with groups and leftover leaves spread over all cores.
    static func parallelLeafDigests(_ bytes: UnsafeRawBufferPointer) -> [[UInt8]] {
        let leaves = (bytes.count + leafSize - 1) / leafSize
        let groups = bytes.count / (8 * leafSize)
        let tasks = groups + (leaves - groups * 8)
        if tasks <= 1 { return leafDigests(bytes) }
        var out = [[UInt8]](repeating: [], count: leaves)
        let input = SendableBox(bytes)
        out.withUnsafeMutableBufferPointer { slots in
            let slotsBox = SendableBox(slots)
            DispatchQueue.concurrentPerform(iterations: tasks) { task in
                if task < groups {
                    for (i, d) in groupDigests(input.value, group: task).enumerated() { slotsBox.value[task * 8 + i] = d }
                } else {
                    let leaf = groups * 8 + (task - groups)
                    slotsBox.value[leaf] = leafDigest(input.value, leaf: leaf)
                }
            }
        }
        return out
    }

    static func groupDigests(_ bytes: UnsafeRawBufferPointer, group g: Int) -> [[UInt8]] {
        let base = bytes.baseAddress!
        return SHA256x8.digests((0..<8).map { UnsafeRawPointer(base + (g * 8 + $0) * leafSize) }, length: leafSize)
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
