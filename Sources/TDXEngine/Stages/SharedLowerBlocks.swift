import Foundation
import TDXModels

/// The intact run's blocks 0...after for each experiment a closed-loop intervention plays again: its token
/// ids, its residual stream after block `after` at every position [T × d], and a cache holding those blocks.
/// A condition whose edits all come after that block computes the same numbers there for as long as its
/// transcript is the intact one, which is most of it (Two-Step's choices are drawn with the intact run's
/// random numbers, so a small edit changes few of them): its new tokens enter after block `after` with this
/// stream, and from its first token that differs its cache adopts these blocks and it runs every block.
struct SharedLowerBlocks: MemoEntry {
    struct Experiment {
        let ids: [Int]
        let stream: [Float]
        let cache: KVCache
    }
    let after: Int
    let experiments: [Int: Experiment]

    /// One pass per experiment over its intact transcript, through block `after` only.
    init(model: ModelRunner, records: [ExperimentRecord], after: Int, checkCancelled: () throws -> Void) throws {
        self.after = after
        var out: [Int: Experiment] = [:]
        for rec in records {
            try checkCancelled()
            guard let ids = rec.tokens?.ids, !ids.isEmpty, let cache = model.makeCache() else { continue }
            cache.reserve(tokens: ids.count)
            let r = try model.forward(ForwardRequest(sequences: [ids], logitPositions: [[]], captureBlocks: [after],
                                                     capturePositions: [Array(ids.indices)], stopAfter: after),
                                      caches: [cache])
            out[rec.experiment] = Experiment(ids: ids, stream: r.residuals[0], cache: cache)
        }
        experiments = out
    }

    /// What the shared blocks of `tokens` positions take: keys and values of blocks 0...after, and the stream.
    static func bytes(tokens: Int, after: Int, config c: LlamaConfig) -> Int {
        tokens * ((after + 1) * 2 * c.kvHeadCount * c.headDim + c.dModel) * MemoryLayout<Float>.size
    }

    var memoBytes: Int {
        experiments.values.reduce(0) { n, e in
            n + e.stream.count * MemoryLayout<Float>.size + e.cache.byteCount + e.ids.count * MemoryLayout<Int>.size
        }
    }

    /// The stream for positions `range` of a transcript whose tokens so far are `ids`, if they are still the
    /// intact ones through the end of the range (positions before `range` were checked when they were sent).
    func stream(experiment e: Int, ids: [Int], range: Range<Int>) -> [Float]? {
        guard let x = experiments[e], range.upperBound <= x.ids.count,
              ids[range].elementsEqual(x.ids[range]) else { return nil }
        let d = x.stream.count / x.ids.count
        return Array(x.stream[(range.lowerBound * d)..<(range.upperBound * d)])
    }
}

typealias SharedLowerBlocksMemo = ProcessMemo<SharedLowerBlocks>

extension ProcessMemo where Entry == SharedLowerBlocks {
    /// The intact lower blocks are about 1.5 GB for 25 Two-Step experiments at block 20: one set is kept.
    static func shared(_ services: EngineServices) -> SharedLowerBlocksMemo {
        services.get("shared-lower-blocks") { SharedLowerBlocksMemo(budget: 0) }
    }
}
