import TDXCore

extension LanguageModel {
    /// Continues each prompt by up to `maxNewTokens` tokens, batched, with one KV cache per sequence.
    /// Sequence i samples from its own generator `SeededRNG(seed: seed, stream: "generate/i")`, so results do
    /// not depend on how prompts are batched. Temperature 0 is greedy. A sequence stops after a stop token.
    public func generate(_ prompts: [[Int]], maxNewTokens: Int, temperature: Float = 0, seed: UInt64 = 0,
                         stop: Set<Int> = []) throws -> [[Int]] {
        let caches = prompts.map { _ in KVCache(config: config) }
        var rngs = prompts.indices.map { SeededRNG(seed: seed, stream: "generate/\($0)") }
        var out = prompts.map { _ in [Int]() }
        guard maxNewTokens > 0, !prompts.isEmpty else { return out }
        var active = Array(prompts.indices)
        var r = try forward(ForwardRequest(sequences: prompts), caches: caches)
        while true {
            var next: [Int] = []
            for (k, i) in active.enumerated() {
                let t = ReadOut.sample(r.logits[k], temperature: temperature, rng: &rngs[i])
                out[i].append(t)
                if !stop.contains(t) && out[i].count < maxNewTokens && caches[i].count < config.contextLength { next.append(i) }
            }
            active = next
            if active.isEmpty { return out }
            r = try forward(ForwardRequest(sequences: active.map { [out[$0].last!] }), caches: active.map { caches[$0] })
        }
    }
}
