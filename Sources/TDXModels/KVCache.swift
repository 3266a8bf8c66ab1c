/// Keys and values of one sequence's processed prefix, per block, so later tokens can be appended
/// without recomputing it. Keys are stored after RoPE.
public final class KVCache: @unchecked Sendable {
    public let config: LlamaConfig
    /// Number of positions cached.
    public internal(set) var count = 0
    var keys: [[Float]]     // per block: [count × KV·hd]
    var values: [[Float]]   // per block: [count × KV·hd]

    public init(config: LlamaConfig) {
        self.config = config
        keys = Array(repeating: [], count: config.blockCount)
        values = Array(repeating: [], count: config.blockCount)
    }

    /// Makes room for `tokens` positions in every block, so appending never copies the cache to grow it.
    public func reserve(tokens: Int) {
        let n = tokens * config.kvHeadCount * config.headDim
        for l in keys.indices { keys[l].reserveCapacity(n); values[l].reserveCapacity(n) }
    }

    /// Whether block `l` holds every cached position (a sequence that resumed after a block skipped it).
    func holds(block l: Int) -> Bool { keys[l].count == count * config.kvHeadCount * config.headDim }

    /// Takes `source`'s keys and values of blocks 0...b at its first `positions` positions, in place of what
    /// this cache holds there: the lower blocks a resumed sequence skipped, once it leaves the shared prefix.
    public func adopt(blocksThrough b: Int, from source: KVCache, positions: Int) {
        let n = positions * config.kvHeadCount * config.headDim
        precondition(positions <= source.count && source.keys[b].count >= n, "the source holds fewer positions")
        for l in 0...b {
            keys[l].removeAll(keepingCapacity: true); keys[l] += source.keys[l][0..<n]
            values[l].removeAll(keepingCapacity: true); values[l] += source.values[l][0..<n]
        }
    }

    /// An independent copy (to branch several continuations from one prefix).
    public func copy() -> KVCache {
        let c = KVCache(config: config)
        c.count = count; c.keys = keys; c.values = values
        return c
    }

    public var byteCount: Int { keys.reduce(0) { $0 + $1.count } * 8 }
}
