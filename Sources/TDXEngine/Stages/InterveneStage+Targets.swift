import TDXAnalysis
import TDXCore
import TDXLang

/// One latent an `intervene` block edits, with its r and the control latent of the same block.
public struct InterventionTarget: Codable, Sendable, Equatable {
    public var block: Int
    public var latent: Int
    /// Signed r of the latent with the variable (NaN for a latent given by index that is not the best).
    public var r: Double
    public var control: Int?
    public var controlR: Double?
}

extension [InterventionTarget] {
    /// The blocks the targets sit in, shallowest first.
    var blocks: [Int] { Set(self.map { $0.block }).sorted() }
}

extension InterveneStage {
    /// The |r| (or r, −r by `correlate.sign`) of `latent = above(variable, r)`; nil for other selections.
    static func threshold(_ p: Params) -> Double? {
        p["latent"]?.head == "above" ? p["latent"]?.arguments.dropFirst().first?.doubleValue : nil
    }

    /// The latents to edit: one block (`layer` a number or `peak(v)`) with one latent (an index or `top(v)`),
    /// or `top(v, n)`: the n latents with the highest |r| over the blocks `layer` names (one block, `all`, a
    /// range or a list), or `above(v, r)`: every latent there whose |r| reaches r, highest first. Each edited
    /// latent gets its own control in its block: the block's lowest-|r| active latent first, then the next lowest with r ≠ 0 (constant latents have r = 0 exactly), never an edited one;
    /// "highest |r|" reads "highest r" or "most negative r" under `correlate.sign`, whose choice the
    /// correlations carry;
    /// a missing control is an error rather than a control condition that edits fewer latents.
    static func targets(_ p: Params, variable: String, agent: String?, correlations: [Int: CorrelationResult],
                        ctx: StageContext) throws -> [InterventionTarget] {
        func entry(_ block: Int) -> VariableCorrelation? { correlations[block]?.variable(variable, agent: agent) }
        let wantsControl = p.symbol("control") != "none"
        let threshold = Self.threshold(p)
        let count = p["latent"]?.head == "top" ? (p["latent"]?.arguments.dropFirst().first?.intValue ?? 1) : 1
        let sign = correlations.values.lazy.compactMap { $0.variable(variable, agent: agent) }.first?.correlationSign ?? .absolute
        let pool: [Int]
        if let l = p["layer"]?.intValue {
            pool = [l]
        } else if p["layer"]?.head == "peak" || p["layer"] == nil {
            guard let best = correlations.keys.filter({ entry($0) != nil }).max(by: { a, b in
                (entry(a)!.strength, -a) < (entry(b)!.strength, -b)
            }) else { throw InterveneError.noCorrelations(variable) }
            pool = [best]
        } else {
            let named = Array(Set(p["layer"]?.intList ?? Array(correlations.keys))).sorted()   // `all`: every correlated block
            pool = named.filter { entry($0) != nil }
            guard !pool.isEmpty else {
                throw named.isEmpty ? InterveneError.noCorrelations(variable) : InterveneError.noCorrelationsInBlocks(variable, named)
            }
        }
        guard let first = entry(pool[0]) else { throw InterveneError.noCorrelations(variable) }

        // One block, one latent: what the correlate stage chose (no r vectors needed).
        if pool.count == 1 && count == 1 && threshold == nil {
            let latent = p["latent"]?.intValue ?? first.bestLatent
            return [InterventionTarget(block: pool[0], latent: latent, r: latent == first.bestLatent ? first.bestR : .nan,
                                       control: wantsControl ? first.controlLatent : nil,
                                       controlR: wantsControl ? first.controlR : nil)]
        }
        var r: [Int: [Float]] = [:]
        for b in pool { r[b] = try ctx.inputFloats("correlate[\(b)]", entry(b)!.rBlob) }
        // Highest score (|r|, r or −r) first; ties by block, then latent, so the choice does not depend on dictionary order.
        // Constant latents (r = 0 exactly) are never picked: editing them changes nothing.
        let ranked = pool.flatMap { b in r[b]!.indices.filter { r[b]![$0] != 0 && r[b]![$0].isFinite }.map { (block: b, latent: $0, r: r[b]![$0]) } }
            .sorted { (sign.score($0.r), -$0.block, -$0.latent) > (sign.score($1.r), -$1.block, -$1.latent) }
        let picked: [(block: Int, latent: Int, r: Float)]
        if let threshold {
            picked = ranked.filter { Double(sign.score($0.r)) >= threshold }
            guard !picked.isEmpty else {
                throw InterveneError.noneAbove(variable, threshold: threshold, best: ranked.first.map { (Double(sign.score($0.r)), $0.block) },
                                               sign: sign)
            }
        } else {
            picked = Array(ranked.prefix(count))
            guard picked.count == count else { throw InterveneError.tooFewLatents(variable, wanted: count, found: picked.count) }
        }
        let edited = Set(picked.map { "\($0.block).\($0.latent)" })
        var controls: [Int: [Int]] = [:]   // block → controls handed out so far
        return try picked.map { t in
            var target = InterventionTarget(block: t.block, latent: t.latent, r: Double(t.r), control: nil, controlR: nil)
            guard wantsControl else { return target }
            let rb = r[t.block]!, used = controls[t.block] ?? []
            let candidates = [entry(t.block)?.controlLatent].compactMap { $0 }
                + rb.indices.filter { rb[$0] != 0 && rb[$0].isFinite }.sorted { (abs(rb[$0]), $0) < (abs(rb[$1]), $1) }
            guard let c = candidates.first(where: { !used.contains($0) && !edited.contains("\(t.block).\($0)") }) else {
                throw InterveneError.noControlLeft(block: t.block)
            }
            target.control = c; target.controlR = Double(rb[c])
            controls[t.block, default: []].append(c)
            return target
        }
    }
}
