import Foundation
import TDXAnalysis
import TDXCore
import TDXLang
import TDXNumerics
import TDXPlan

/// One variable (of one agent) against every latent of a block (SCIENCE.md §6.1). All r are signed Pearson
/// (or Spearman) correlations over the activation rows that carry a value of the variable.
public struct VariableCorrelation: Codable, Sendable, Equatable {
    /// A latent chosen on the SAE's training experiments and its r there and on the held-out experiments.
    public struct HeldOut: Codable, Sendable, Equatable {
        public var latent: Int
        public var trainR: Double
        public var testR: Double
        public var trainSamples: Int
        public var testSamples: Int
    }
    /// `<agent>.<variable>`, as in rl_variables.
    public var name: String
    public var agent: String
    public var variable: String
    public var samples: Int
    public var experiments: Int
    /// The strongest latent (largest |r|, or by `sign`), its |r| and its signed r. Readers use `strength`;
    /// `maxAbsR` stays so stored results keep their form.
    public var maxAbsR: Double
    public var bestLatent: Int
    public var bestR: Double
    /// `correlate.sign` when not `abs`: the best latent, the neurons' best, the null and the held-out
    /// selection maximise r (`positive`) or −r (`negative`) instead of |r|; the bootstrap CI is still that
    /// of the chosen latent's signed r.
    public var sign: String?
    /// Control: the latent with the lowest |r| among latents active on at least one of the rows the variable
    /// is measured at (a latent silent there has r = 0 exactly, and editing it would change nothing).
    public var controlLatent: Int?
    public var controlR: Double?
    /// Raw residual dimensions as a baseline (when `correlate.neurons`); the best one's |r| (as `maxAbsR`).
    public var neuronMaxAbsR: Double?
    public var bestNeuron: Int?
    public var neuronR: Double?
    public var heldOut: HeldOut?
    /// Columns regressed out of the variable before correlating (`correlate.partial`); nil when none.
    public var partialOut: [String]?
    /// 95th percentile of the max over latents of |r| (or r, −r by `sign`) when the variable is shuffled within
    /// experiments.
    public var null95: Double?
    public var permutations: Int
    /// Percentile bootstrap CI (resampling experiments) of the best latent's signed r.
    public var bootstrap: BootstrapCI?
    public var resamples: Int
    /// Blob holding r of every latent [d_sae], and of every residual dimension [d_model] when computed.
    public var rBlob: String
    public var neuronRBlob: String?

    public var correlationSign: CorrelationSign { sign.flatMap(CorrelationSign.init(rawValue:)) ?? .absolute }
    /// What the selection maximised for the best latent: |r|, r or −r (the scale of `null95`).
    public var strength: Double { correlationSign.score(bestR) }
    /// The same for the best residual dimension.
    public var neuronStrength: Double? { neuronR.map(correlationSign.score) }
}

/// The output of `correlate[L]` (blob `correlations`).
public struct CorrelationResult: Codable, Sendable, Equatable {
    public var layer: Int
    public var method: String
    public var dSAE: Int
    public var dModel: Int
    /// Latents active on at least one activation row of the block.
    public var activeLatents: Int
    public var variables: [VariableCorrelation]
    /// Requested variables that no agent provided, or with fewer than three aligned samples.
    public var skipped: [String]

    /// The entry for `agent.variable`, or for a bare variable name the first agent providing it
    /// (the first listed in `agent`, when given).
    public func variable(_ name: String, agent: String? = nil) -> VariableCorrelation? {
        if let agent, !agent.isEmpty { return variables.first { $0.agent == agent && $0.variable == name } }
        return variables.first { $0.name == name } ?? variables.first { $0.variable == name }
    }

    public func encoded() throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
    public static func decode(_ text: String) throws -> CorrelationResult {
        try JSONDecoder().decode(CorrelationResult.self, from: Data(text.utf8))
    }
}

extension StageContext {
    /// The result stored by an input `correlate[L]` stage.
    public func correlations(_ id: String) throws -> CorrelationResult {
        try CorrelationResult.decode(try inputString(id, "correlations"))
    }
}

/// `correlate[L]`: every SAE latent (and raw residual dimension) of block L against the requested variables.
struct CorrelateStage: StageBody {
    let kind = StageKind.correlate
    let codeVersion = 2

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map(correlate)
    }

    func correlate(_ ctx: StageContext) throws -> StageOutput {
        let layer = ctx.stage.layer ?? 0
        guard let saeID = ctx.inputs(of: .sae).first else { throw ExecutorError.missingInput(stage: ctx.stage.id, input: "sae[\(layer)]") }
        guard let actID = ctx.inputs(of: .activations).first else {
            throw ExecutorError.missingInput(stage: ctx.stage.id, input: "activations[\(layer)]")
        }
        let sae = try ctx.sae(saeID)
        let act = try ctx.activations(actID)
        guard sae.dIn == act.d else {
            throw ExecutorError.stageFailed(stage: ctx.stage.id, message: "\(saeID) expects width \(sae.dIn) but \(actID) has \(act.d)")
        }
        let vars = try VariablesData.decode(try ctx.inputString("rl_variables", "variables"))
        let p = Params(ctx.stage.params, prefix: "correlate")
        func names(_ v: Value?) -> [String] { v?.listValue?.compactMap { $0.symbolValue ?? $0.stringValue } ?? [] }
        let wanted = names(p["with"])
        let picked = Self.columns(available: vars.names, with: wanted, agents: names(p["agents"]))

        var options = CorrelationCore.Options()
        options.method = p.symbol("method", "pearson") == "spearman" ? .spearman : .pearson
        options.permutations = p["null"]?.head == "permutation" ? (p["null"]?.arguments.first?.intValue ?? 1000) : 0
        options.resamples = p.int("bootstrap", 1000)
        options.neurons = p.bool("neurons", true)
        options.sign = CorrelationSign(rawValue: p.symbol("sign", "abs")) ?? .absolute
        if p.bool("held_out", true) {
            let m = try ctx.saeMetrics(saeID)
            if !m.testExperiments.isEmpty { options.testExperiments = Set(m.testExperiments) }
        }
        let partial = names(p["partial"])
        var partialledOut: [String: [String]] = [:]
        let columns = picked.map { name in
            var a = Self.align(rows: act.rows, variables: vars, column: name)
            // A control anchored at other events (a reward against Q-values at the choice) says nothing there.
            let own = Set(a.rows)
            let controls = Self.controlColumns(for: name, partial: partial, available: vars.names)
                .map { ($0, Self.align(rows: act.rows, variables: vars, column: $0)) }
                .filter { !own.isDisjoint(with: $0.1.rows) }
            if !controls.isEmpty {
                a = Partial.residuals(a, controls: controls.map(\.1))
                partialledOut[name] = controls.map(\.0)
            }
            return CorrelationCore.Column(name: name, rows: a.rows, values: a.values)
        }
        let latents = sae.encode(act.x, rows: act.rows.count)
        var r = try CorrelationCore.run(latents: latents, dSAE: sae.dSAE, residuals: act.x, dModel: act.d,
                                        experiments: act.rows.experiment, columns: columns, options: options,
                                        seed: ctx.seed, progress: ctx.progress, cancelled: ctx.checkCancelled)
        for i in r.variables.indices { r.variables[i].partialOut = partialledOut[r.variables[i].name] }
        let provided = Set(r.variables.map { $0.variable })
        let done = Set(r.variables.map { $0.name })
        let skipped: [String] = wanted.filter { !provided.contains($0) } + picked.filter { !done.contains($0) }
        let result = CorrelationResult(layer: layer, method: options.method.rawValue, dSAE: sae.dSAE, dModel: act.d,
                                       activeLatents: r.activeLatents, variables: r.variables, skipped: skipped)
        var out = StageOutput()
        out.json("correlations", try result.encoded())
        for v in r.variables {
            out.floats(v.rBlob, r.latentR[v.name]!, shape: [sae.dSAE])
            if let nb = v.neuronRBlob { out.floats(nb, r.neuronR[v.name]!, shape: [act.d]) }
        }
        return out
    }

    /// The columns regressed out of `column` (`agent.variable`): for each variable of `partial` other than the
    /// column's own, the same agent's column, else the first agent's that has it.
    static func controlColumns(for column: String, partial: [String], available: [String]) -> [String] {
        let dot = column.lastIndex(of: ".") ?? column.startIndex
        let agent = String(column[..<dot]), own = column[column.index(after: dot)...]
        return partial.filter { $0 != own }.compactMap { v in
            available.contains("\(agent).\(v)") ? "\(agent).\(v)" : available.sorted().first { $0.hasSuffix(".\(v)") }
        }
    }

    /// rl_variables columns (`agent.variable`) for the requested variables, in request order, then agent order;
    /// `agents` (when not empty) restricts which agents count.
    static func columns(available: [String], with wanted: [String], agents: [String]) -> [String] {
        wanted.flatMap { v in
            available.filter { name in
                guard let dot = name.lastIndex(of: "."), name[name.index(after: dot)...] == v else { return false }
                return agents.isEmpty || agents.contains(String(name[..<dot]))
            }.sorted()
        }
    }

    /// The activation rows carrying a value of `column`: a value belongs to the row with the same experiment and
    /// transcript event. Rows come back in ascending order; non-finite values are dropped.
    static func align(rows: ActivationRows, variables: VariablesData, column: String) -> (rows: [Int], values: [Double]) {
        var value: [Int: [Int: Double]] = [:]
        for (e, cols) in variables.experiments.enumerated() {
            guard let c = cols[column] else { continue }
            var byEvent: [Int: Double] = [:]
            for (ev, v) in zip(c.events, c.values) where v.isFinite { byEvent[ev] = v }
            value[e] = byEvent
        }
        var out: (rows: [Int], values: [Double]) = ([], [])
        for r in 0..<rows.count {
            if let v = value[rows.experiment[r]]?[rows.event[r]] { out.rows.append(r); out.values.append(v) }
        }
        return out
    }
}

/// The numerical core of `correlate`, independent of the store (and tested directly).
enum CorrelationCore {
    struct Options {
        var method = CorrelationMethod.pearson
        var permutations = 0
        var resamples = 0
        var neurons = true
        /// Experiments the SAE held out; nil skips the held-out analysis.
        var testExperiments: Set<Int>?
        /// Pearson on latents with at most this fraction of non-zeros uses the sparse kernel.
        var sparseDensity = 0.05
        var sign = CorrelationSign.absolute
    }
    struct Column {
        var name: String
        var rows: [Int]
        var values: [Double]
    }
    struct Result {
        var variables: [VariableCorrelation] = []
        var latentR: [String: [Float]] = [:]
        var neuronR: [String: [Float]] = [:]
        var activeLatents = 0
    }

    /// `latents` [rows × dSAE] and `residuals` [rows × dModel] share rows with `experiments`. Columns with the same
    /// rows are correlated together (one matrix product, one set of shuffles).
    static func run(latents h: [Float], dSAE s: Int, residuals x: [Float], dModel d: Int, experiments: [Int],
                    columns: [Column], options: Options, seed: UInt64, progress: ProgressSink? = nil,
                    cancelled: () throws -> Void = {}) throws -> Result {
        let total = experiments.count
        var active = [Bool](repeating: false, count: s)
        for i in 0..<(total * s) where h[i] != 0 { active[i % s] = true }
        var result = Result(activeLatents: active.filter { $0 }.count)
        var groups: [[Int]: [Int]] = [:]
        var order: [[Int]] = []
        for (c, col) in columns.enumerated() where col.rows.count >= 3 {
            if groups[col.rows] == nil { order.append(col.rows) }
            groups[col.rows, default: []].append(c)
        }
        for (g, rows) in order.enumerated() {
            try cancelled()
            let members = groups[rows]!.map { columns[$0] }
            let (n, p) = (rows.count, members.count)
            var values = [Float](repeating: 0, count: n * p)
            for (j, col) in members.enumerated() { for i in 0..<n { values[i * p + j] = Float(col.values[i]) } }
            let hs = gather(h, cols: s, rows: rows)
            var activeHere = [Bool](repeating: false, count: s)   // active at one of these rows
            var nonZeros = 0
            for i in 0..<(n * s) where hs[i] != 0 { activeHere[i % s] = true; nonZeros += 1 }
            let exps = rows.map { experiments[$0] }
            let vs = StandardisedColumns(values, rows: n, cols: p, method: options.method)
            let sparse = options.method == .pearson && Double(nonZeros) <= options.sparseDensity * Double(max(hs.count, 1))
            let sparseZ = sparse ? SparseFeatures(hs, rows: n, cols: s) : nil
            let denseZ = sparse ? nil : StandardisedColumns(hs, rows: n, cols: s, method: options.method)
            let r = sparseZ.map { Correlation.matrix($0, vs) } ?? Correlation.matrix(denseZ!, vs)
            let best = Correlation.strongest(r, sign: options.sign)

            var null95: [Float]?
            if options.permutations > 0 {
                var rng = SeededRNG(seed: seed, stream: "null.\(g)")
                let null = sparseZ.map {
                    PermutationNull.compute(features: $0, variables: vs, experimentIDs: exps, permutations: options.permutations, rng: &rng,
                                            sign: options.sign)
                } ?? PermutationNull.compute(features: denseZ!, variables: vs, experimentIDs: exps,
                                             permutations: options.permutations, rng: &rng, sign: options.sign)
                null95 = null.percentile95
            }
            var ci: [BootstrapCI]?
            if options.resamples > 0 && Set(exps).count >= 2 {
                // Only the best latents matter: bootstrap their columns alone.
                let chosen = Array(Set(best.map(\.index))).sorted()
                let zs = StandardisedColumns(gather(hs, cols: s, columns: chosen), rows: n, cols: chosen.count, method: options.method)
                let sums = ExperimentCorrelationSums(features: zs, variables: vs, experimentIDs: exps)
                var rng = SeededRNG(seed: seed, stream: "bootstrap.\(g)")
                ci = Bootstrap.correlation(sums, features: best.map { chosen.firstIndex(of: $0.index)! },
                                           resamples: options.resamples, rng: &rng)
            }
            var heldOut: [HeldOutSelection]?
            if let test = options.testExperiments {
                let testRows = (0..<n).filter { test.contains(exps[$0]) }, trainRows = (0..<n).filter { !test.contains(exps[$0]) }
                if testRows.count >= 3 && trainRows.count >= 3 {
                    heldOut = Correlation.heldOut(features: hs, variables: values, samples: n, featureCount: s, variableCount: p,
                                                  trainRows: trainRows, testRows: testRows, method: options.method, sign: options.sign)
                }
            }
            var neuronR: Tensor?
            if options.neurons {
                let xs = StandardisedColumns(gather(x, cols: d, rows: rows), rows: n, cols: d, method: options.method)
                neuronR = Correlation.matrix(xs, vs)
            }
            let neuronBest = neuronR.map { Correlation.strongest($0, sign: options.sign) }
            let testCount = options.testExperiments.map { t in exps.filter { t.contains($0) }.count } ?? 0

            for (j, col) in members.enumerated() {
                let dot = col.name.lastIndex(of: ".") ?? col.name.startIndex
                let rj = (0..<s).map { r.data[$0 * p + j] }
                let control = (0..<s).filter { activeHere[$0] }.min { abs(rj[$0]) < abs(rj[$1]) }
                var v = VariableCorrelation(
                    name: col.name, agent: String(col.name[..<dot]),
                    variable: dot < col.name.endIndex ? String(col.name[col.name.index(after: dot)...]) : col.name,
                    samples: n, experiments: Set(exps).count,
                    maxAbsR: Double(best[j].absR), bestLatent: best[j].index, bestR: Double(best[j].r),
                    sign: options.sign == .absolute ? nil : options.sign.rawValue,
                    controlLatent: control, controlR: control.map { Double(rj[$0]) },
                    neuronMaxAbsR: neuronBest.map { Double($0[j].absR) }, bestNeuron: neuronBest?[j].index,
                    neuronR: neuronBest.map { Double($0[j].r) },
                    heldOut: heldOut.map { h in .init(latent: h[j].index, trainR: Double(h[j].trainR), testR: Double(h[j].testR),
                                                      trainSamples: n - testCount, testSamples: testCount) },
                    null95: null95.map { Double($0[j]) }, permutations: null95 == nil ? 0 : options.permutations,
                    bootstrap: ci?[j], resamples: ci == nil ? 0 : options.resamples,
                    rBlob: "r.\(col.name)", neuronRBlob: neuronR == nil ? nil : "r_neurons.\(col.name)")
                if v.bootstrap != nil { v.bootstrap!.estimate = Double(best[j].r) }
                result.variables.append(v)
                result.latentR[col.name] = rj
                if let nr = neuronR { result.neuronR[col.name] = (0..<d).map { nr.data[$0 * p + j] } }
            }
            progress?.update(g + 1, of: order.count)
        }
        // Keep the caller's column order.
        let rank = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) })
        result.variables.sort { rank[$0.name]! < rank[$1.name]! }
        return result
    }

    /// The given rows of a row-major matrix with `cols` columns.
    static func gather(_ a: [Float], cols: Int, rows: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * cols)
        for (i, r) in rows.enumerated() { for c in 0..<cols { out[i * cols + c] = a[r * cols + c] } }
        return out
    }

    /// The given columns of a row-major matrix with `cols` columns.
    static func gather(_ a: [Float], cols: Int, columns: [Int]) -> [Float] {
        let n = a.count / max(cols, 1)
        var out = [Float](repeating: 0, count: n * columns.count)
        for i in 0..<n { for (k, c) in columns.enumerated() { out[i * columns.count + k] = a[i * cols + c] } }
        return out
    }
}
