import Foundation
import TDXCore

/// Turning logits into answers: log-probabilities, restricted softmax, sampling.
public enum ReadOut {
    public static func argmax<C: Collection>(_ logits: C) -> Int where C.Element == Float, C.Index == Int {
        var best = logits.startIndex
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best - logits.startIndex
    }

    /// log softmax over the whole row, in double for the normaliser.
    public static func logSoftmax<C: Collection>(_ logits: C) -> [Float] where C.Element == Float {
        let row = Array(logits)
        let lse = row.withUnsafeBufferPointer(logSumExp)
        return row.map { Float(Double($0) - lse) }
    }

    /// The log-probabilities of only the token ids `ids` (−∞ for nil), equal bit for bit to those entries of
    /// `logSoftmax`; a closed loop needs two of a 49,152-token row, and building the whole row took 6 % of a
    /// rollout's cycles, on one core while the other waited.
    public static func logProbabilities(_ logits: ArraySlice<Float>, of ids: [Int?]) -> [Float] {
        logits.withUnsafeBufferPointer { row in
            let lse = logSumExp(row)
            return ids.map { $0.map { Float(Double(row[$0]) - lse) } ?? -.infinity }
        }
    }

    /// log Σ exp over a row: max-shifted, summed in double in index order.
    static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Double {
        guard var mx = row.first else { return log(0.0) }
        for v in row where v > mx { mx = v }
        var sum = 0.0
        for v in row { sum += exp(Double(v - mx)) }
        return Double(mx) + log(sum)
    }

    /// Softmax over only the given token ids (the valid options), in their order.
    public static func restrictedSoftmax<C: Collection>(_ logits: C, to ids: [Int]) -> [Float]
    where C.Element == Float, C.Index == Int {
        let vals = ids.map { Double(logits[logits.startIndex + $0]) }
        let mx = vals.max() ?? 0
        let e = vals.map { exp($0 - mx) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }

    /// Samples an index from softmax(logits / temperature) with a seeded generator; temperature 0 is argmax.
    public static func sample<C: Collection>(_ logits: C, temperature: Float, rng: inout SeededRNG) -> Int
    where C.Element == Float, C.Index == Int {
        if temperature <= 0 { return argmax(logits) }
        let mx = logits.max() ?? 0
        let w = logits.map { exp(Double(($0 - mx) / temperature)) }
        var u = rng.uniform() * w.reduce(0, +)
        for (i, x) in w.enumerated() {
            u -= x
            if u < 0 { return i }
        }
        return w.count - 1
    }
}

extension LanguageModel {
    /// Summed log-probability of each answer's tokens continuing `prefix` (token ids). The prefix runs once;
    /// each answer continues from a copy of its KV cache.
    public func answerLogProbs(prefix: [Int], answers: [[Int]]) throws -> [Double] {
        guard !prefix.isEmpty else { throw ModelError.badRequest("the prompt is empty") }
        let cache = KVCache(config: config)
        let first = try forward(ForwardRequest(sequences: [prefix]), caches: [cache])
        let firstLP = ReadOut.logSoftmax(first.logits[0])
        let multi = answers.enumerated().filter { $0.element.count > 1 }
        var scores = answers.map { $0.isEmpty ? 0 : Double(firstLP[$0[0]]) }
        if !multi.isEmpty {
            let seqs = multi.map { Array($0.element.dropLast()) }
            let caches: [KVCache?] = multi.map { _ in cache.copy() }
            let P = prefix.count
            let r = try forward(ForwardRequest(sequences: seqs, logitPositions: seqs.map { Array(P..<(P + $0.count)) }),
                                caches: caches)
            let V = config.vocabSize
            for (k, (ai, ans)) in multi.enumerated() {
                for i in 1..<ans.count {
                    let lp = ReadOut.logSoftmax(r.logits[k][((i - 1) * V)..<(i * V)])
                    scores[ai] += Double(lp[ans[i]])
                }
            }
        }
        return scores
    }

    /// Answer strings scored after a text prompt (answers tokenized as they would follow the prompt).
    public func answerLogProbs(prompt: String, answers: [String]) throws -> [Double] {
        try answerLogProbs(prefix: tokenizer.encode(prompt, addSpecial: true),
                           answers: answers.map { tokenizer.encode($0, parseSpecial: false) })
    }
}
