/// One batched forward pass: several token sequences of different lengths, with read-outs and edits.
///
/// Positions are absolute indices in a sequence, counting any prefix already in its KV cache; read-outs
/// and edits can only name the positions computed in this pass. Negative positions count from the end
/// (−1 is the last token of the sequence), which is the default for logits. Block numbering: block 0 is the first
/// transformer block; "after block b" is the residual stream leaving block b (before block b+1's norm).
public struct ForwardRequest: Sendable, Codable {
    public var sequences: [[Int]]
    /// Per sequence, positions whose next-token logits are returned (empty: none).
    public var logitPositions: [[Int]]
    /// Blocks after which the residual stream is captured.
    public var captureBlocks: [Int]
    /// Per sequence, positions captured (empty: none).
    public var capturePositions: [[Int]]
    public var edits: [ResidualEdit]
    /// Sequences whose new tokens skip the first blocks (in-process engine only): nil runs every block.
    public var resume: Resume?
    /// Runs blocks 0...b only, extending the caches in those blocks alone, and returns no logits (in-process
    /// engine only): a prefix's lower blocks, computed once for sequences that later `resume` after b.
    public var stopAfter: Int?

    /// Sequences that enter after block `after` with a stream computed elsewhere (the lower blocks of a prefix
    /// they share with another run): blocks 0...after are neither run for them nor read from or added to
    /// their caches.
    public struct Resume: Sendable, Codable {
        public var after: Int
        /// Per sequence: the residual stream after block `after` at its new tokens [count × d], or nil to run
        /// every block.
        public var streams: [[Float]?]
        public init(after: Int, streams: [[Float]?]) { self.after = after; self.streams = streams }
    }

    public init(sequences: [[Int]], logitPositions: [[Int]]? = nil, captureBlocks: [Int] = [],
                capturePositions: [[Int]]? = nil, edits: [ResidualEdit] = [], resume: Resume? = nil, stopAfter: Int? = nil) {
        self.sequences = sequences
        self.logitPositions = logitPositions ?? sequences.map { _ in [-1] }
        self.captureBlocks = captureBlocks
        self.capturePositions = capturePositions ?? sequences.map { _ in [] }
        self.edits = edits
        self.resume = resume
        self.stopAfter = stopAfter
    }
}

/// A change to the residual stream after a block at some positions of some sequences. Captures at the
/// same block see the edited stream.
extension ForwardRequest {
    /// The request with negative positions made absolute, given each sequence's cached prefix length.
    func resolved(prefix: [Int]) -> ForwardRequest {
        var r = self
        func abs(_ p: Int, _ s: Int) -> Int { p < 0 ? prefix[s] + sequences[s].count + p : p }
        if logitPositions.count == sequences.count {
            r.logitPositions = logitPositions.enumerated().map { s, ps in ps.map { abs($0, s) } }
        }
        if capturePositions.count == sequences.count {
            r.capturePositions = capturePositions.enumerated().map { s, ps in ps.map { abs($0, s) } }
        }
        // An edit with negative positions and several sequences resolves per sequence.
        r.edits = edits.flatMap { e -> [ResidualEdit] in
            guard e.positions.contains(where: { $0 < 0 }) else { return [e] }
            return (e.sequences ?? Array(sequences.indices)).filter { sequences.indices.contains($0) }.map { s in
                var e2 = e
                e2.sequences = [s]
                e2.positions = e.positions.map { abs($0, s) }
                return e2
            }
        }
        return r
    }

    /// The same request with its sequences in `order` (old indices, new order); edits name the new indices.
    func reordered(_ order: [Int]) -> ForwardRequest {
        var r = self
        var moved = [Int](repeating: 0, count: order.count)
        for (k, s) in order.enumerated() { moved[s] = k }
        r.sequences = order.map { sequences[$0] }
        r.logitPositions = order.map { logitPositions[$0] }
        r.capturePositions = order.map { capturePositions[$0] }
        if let streams = resume?.streams { r.resume?.streams = order.map { streams[$0] } }
        r.edits = edits.map { e in
            var e = e
            e.sequences = e.sequences?.map { moved[$0] }
            return e
        }
        return r
    }
}

public struct ResidualEdit: Sendable, Codable {
    public enum Operation: Sendable, Codable {
        /// x ← x + v  (v: [d])
        case add([Float])
        /// x ← x̂, the SAE's reconstruction with its error dropped: the full-reconstruction baseline, which
        /// measures what replacing the stream by the SAE's code alone costs (SCIENCE.md §7).
        case saeReconstruct(SAEDictionary)
        /// x ← decode(f′) + error, f′ = f with the listed latents changed: only their decoder contribution moves.
        case saeLatents(SAEDictionary, [LatentEdit])
    }
    public var block: Int
    /// Sequence indices in the request; nil applies to every sequence.
    public var sequences: [Int]?
    public var positions: [Int]
    public var operation: Operation

    public init(block: Int, sequences: [Int]? = nil, positions: [Int], operation: Operation) {
        self.block = block; self.sequences = sequences; self.positions = positions; self.operation = operation
    }
}

public struct ForwardResult: Sendable, Codable {
    /// Per sequence: [logitPositions.count × V].
    public var logits: [[Float]]
    /// Per sequence: [captureBlocks.count × capturePositions.count × d].
    public var residuals: [[Float]]

    /// Logits of sequence s at its i-th requested position.
    public func logits(sequence s: Int, index i: Int, vocab: Int) -> ArraySlice<Float> {
        logits[s][(i * vocab)..<((i + 1) * vocab)]
    }
}
