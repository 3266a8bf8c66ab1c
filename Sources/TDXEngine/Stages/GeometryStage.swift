import Foundation
import TDXAnalysis
import TDXCore
import TDXLang
import TDXPlan
import TDXRL

/// How clearly node representations separate into communities (codable form of TDXAnalysis's CommunityScore).
public struct CommunitySummary: Codable, Sendable, Equatable {
    public var meanWithin: Double
    public var meanBetween: Double
    /// meanWithin / meanBetween (below 1: communities are tighter than the space between them).
    public var ratio: Double
    public var silhouette: Double

    init(_ s: CommunityScore) {
        meanWithin = s.meanWithin; meanBetween = s.meanBetween; silhouette = s.silhouette
        ratio = s.ratio.isFinite ? s.ratio : 0
    }
}

/// Node-averaged representations of one run, embedded in 2-D by metric MDS.
public struct GeometryMap: Codable, Sendable, Equatable {
    /// Nodes with at least one occurrence after `skip` (indices into the graph's nodes).
    public var nodes: [Int]
    /// Community of each listed node (Schapiro graph: node / 5); empty for other graphs.
    public var community: [Int]
    /// Occurrences averaged per listed node (over all experiments).
    public var occurrences: [Int]
    public var experiments: Int
    /// MDS coordinates per listed node: [x, y].
    public var coordinates: [[Double]]
    public var stress: Double
    public var normalisedStress: Double
    /// Community separation of the representation dissimilarities, and of the 2-D MDS distances.
    public var score: CommunitySummary?
    public var mdsScore: CommunitySummary?
    /// Float blob holding the dissimilarity matrix [nodes × nodes].
    public var distanceBlob: String
    /// Spearman r between these node dissimilarities and the SR agent's (rows of its M after each walk,
    /// averaged over the same experiments, same distance): RSA, SCIENCE.md §6.1 (d). Nil without an sr agent.
    public var srRSA: Double?
}

/// The output of `geometry` (blob `geometry`).
public struct GeometryResult: Codable, Sendable, Equatable {
    public var layer: Int
    /// How the layer was chosen: `"12"` or `"peak(sr_td_error)"`, and for a peak the max |r| there (r or −r
    /// under `correlate.sign`).
    public var layerChoice: String
    public var peakR: Double?
    public var source: String
    public var distance: String
    public var skip: Int
    public var intact: GeometryMap
    /// The intervention compared with intact, and its map when its artifact provides lesioned activations.
    public var lesion: String?
    public var lesioned: GeometryMap?
    /// Why a requested comparison is missing.
    public var note: String?

    public func encoded() throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
    public static func decode(_ text: String) throws -> GeometryResult {
        try JSONDecoder().decode(GeometryResult.self, from: Data(text.utf8))
    }
}

/// `geometry` (graph task, SCIENCE.md §6.2): average the chosen block's SAE latents (or residuals) over the
/// occurrences of each node, compare nodes by a distance, embed by metric MDS, score the communities.
struct GeometryStage: StageBody {
    let kind = StageKind.geometry
    let codeVersion = 3

    /// Blobs an `intervene[…]` artifact is expected to hold for geometry: the lesioned run's activations at
    /// block L, laid out as `activations[L]`'s `x` and `rows` (one pair per edited block).
    static func lesionedBlobs(layer: Int) -> (x: String, rows: String) { ("lesioned.x.\(layer)", "lesioned.rows.\(layer)") }

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map(geometry)
    }

    /// The rows of x [rows × d] that belong to the given experiments, in order.
    static func rows(_ x: [Float], _ rows: ActivationRows, d: Int, of experiments: Set<Int>) -> ([Float], ActivationRows) {
        var fx: [Float] = [], fr = ActivationRows(experiment: [], event: [], position: [])
        for i in 0..<rows.count where experiments.contains(rows.experiment[i]) {
            fx += x[(i * d)..<((i + 1) * d)]
            fr.experiment.append(rows.experiment[i]); fr.event.append(rows.event[i]); fr.position.append(rows.position[i])
        }
        return (fx, fr)
    }

    func geometry(_ ctx: StageContext) throws -> StageOutput {
        let p = Params(ctx.stage.params, prefix: "geometry")
        func fail(_ m: String) -> ExecutorError { .stageFailed(stage: ctx.stage.id, message: m) }
        let rollout = try RolloutData.decode(try ctx.inputString("rollout", "rollout"))
        guard rollout.experiments.contains(where: { $0.walk != nil }) else { throw fail("geometry needs the graph task's walks") }

        // The block: a number, or the peak of a variable's max-|r| (or `correlate.sign`'s) curve over the correlate stages.
        let layerValue = p["layer"] ?? .call("peak", [.symbol("sr_td_error")])
        let layer: Int
        var peakR: Double?
        if let l = layerValue.intValue {
            layer = l
        } else {
            let variable = layerValue.arguments.first?.symbolValue ?? "sr_td_error"
            var best: (layer: Int, r: Double)?
            for id in ctx.inputs(of: .correlate) {
                let c = try ctx.correlations(id)
                for v in c.variables where v.variable == variable && v.strength > (best?.r ?? -.infinity) { best = (c.layer, v.strength) }
            }
            guard let best else { throw fail("no correlate stage measured `\(variable)`, so peak(\(variable)) has no layer") }
            layer = best.layer; peakR = best.r
        }
        let source = p.symbol("source", "sae")
        let actID = "activations[\(layer)]"
        guard ctx.hasInput(actID) else { throw fail("block \(layer) was not recorded (no \(actID))") }
        let saeID = "sae[\(layer)]"
        if source == "sae" && !ctx.hasInput(saeID) { throw fail("source = sae needs \(saeID)") }
        let sae = source == "sae" ? try ctx.sae(saeID) : nil

        var options = GeometryCore.Options(distance: p.symbol("distance", "euclidean") == "correlation" ? .correlation : .euclidean,
                                           skip: p.int("skip", 100), inits: p.int("inits", 4), seed: ctx.seed)
        func features(_ x: [Float], _ rows: ActivationRows) -> (values: [Float], cols: Int) {
            if let sae { return (sae.encode(x, rows: rows.count), sae.dSAE) }
            return (x, rows.count > 0 ? x.count / rows.count : 0)
        }
        var out = StageOutput()
        var act = try ctx.activations(actID)
        // The lesioned run's activations, when the intervention stored them for this block.
        var lesioned: (x: [Float], rows: ActivationRows)?
        var note: String?
        let lesionID = ctx.inputs(of: .intervene).first
        if let lesionID {
            let blobs = Self.lesionedBlobs(layer: layer)
            let names = Set(try ctx.store.artifact(try ctx.inputKey(lesionID))?.blobs.map(\.name) ?? [])
            if names.contains(blobs.x) && names.contains(blobs.rows) {
                let rows = try ActivationRows.decode(try ctx.inputString(lesionID, blobs.rows))
                lesioned = (try ctx.inputFloats(lesionID, blobs.x), rows)
                // A lesion that re-ran only some experiments is compared with intact over the same experiments.
                let subset = Set(rows.experiment)
                if !subset.isEmpty && subset.count < Set(act.rows.experiment).count {
                    (act.x, act.rows) = Self.rows(act.x, act.rows, d: act.d, of: subset)
                    note = "intact and lesioned both over the \(subset.count) experiments \(lesionID) re-ran"
                }
            } else {
                note = "\(lesionID) stores no lesioned activations for block \(layer) (blobs \(blobs.x), \(blobs.rows))"
            }
        }
        // The SR agent's view of the same experiments, for RSA.
        if let agent = Params.agentNames(ctx.stage.params).first(where: { Params(ctx.stage.params, prefix: "agent.\($0)").symbol("kind") == "sr" }) {
            let config = SpecConfigs.sr(Params(ctx.stage.params, prefix: "agent.\(agent)"))
            let used = Set(act.rows.experiment)
            options.reference = GeometryCore.srDissimilarity(config, experiments: rollout.experiments.filter { used.contains($0.experiment) },
                                                            distance: options.distance)
        }
        let f = features(act.x, act.rows)
        guard let intact = GeometryCore.map(features: f.values, cols: f.cols, rows: act.rows, experiments: rollout.experiments,
                                            options: options, distanceBlob: "distance.intact", output: &out) else {
            throw fail("fewer than three nodes occur after the first \(options.skip) walk steps")
        }
        ctx.progress.update(1, of: 2)

        var result = GeometryResult(layer: layer, layerChoice: layerValue.canonical, peakR: peakR, source: source,
                                    distance: options.distance.rawValue, skip: options.skip, intact: intact)
        result.lesion = lesionID
        result.note = note
        if let l = lesioned {
            let lf = features(l.x, l.rows)
            result.lesioned = GeometryCore.map(features: lf.values, cols: lf.cols, rows: l.rows, experiments: rollout.experiments,
                                               options: options, distanceBlob: "distance.lesioned", output: &out)
            if result.lesioned == nil { result.note = "the lesioned run has fewer than three nodes after the skipped steps" }
        }
        ctx.progress.update(2, of: 2)
        out.json("geometry", try result.encoded())
        return out
    }
}

/// The numerical core of `geometry`, independent of the store.
enum GeometryCore {
    enum Distance: String { case euclidean, correlation }
    struct Options {
        var distance = Distance.euclidean
        var skip = 100
        var inits = 4
        var seed: UInt64 = 0
        /// Reference dissimilarities over all nodes [nodeCount × nodeCount] for RSA.
        var reference: (matrix: [Double], nodeCount: Int)?
    }

    /// Dissimilarities between the rows of the SR agent's M after each walk, averaged over experiments.
    static func srDissimilarity(_ config: SRConfig, experiments: [ExperimentRecord], distance: Distance) -> (matrix: [Double], nodeCount: Int)? {
        var mean: [Double] = [], count = 0, n = 0
        for e in experiments {
            guard let walk = e.walk, let events = e.nodeEvents, let names = e.names else { continue }
            let m = SuccessorRepresentation.run(config, walk: walk, nodeCount: names.count, nodeEvents: events).sr
            if mean.isEmpty { n = names.count; mean = m } else if names.count == n { for i in m.indices { mean[i] += m[i] } } else { continue }
            count += 1
        }
        guard count > 0 else { return nil }
        return (dissimilarity(mean.map { $0 / Double(count) }, n: n, cols: n, distance), n)
    }

    /// Per node, the mean feature vector over its occurrences at walk steps ≥ `skip`: averaged within each
    /// experiment, then over the experiments where the node occurs. Returns nodeCount × cols means (zero
    /// rows for absent nodes), total occurrences, and the number of experiments each node occurs in.
    static func nodeAverages(features: [Float], cols: Int, rows: ActivationRows, experiments: [ExperimentRecord],
                             skip: Int) -> (means: [Double], occurrences: [Int], present: [Int]) {
        let nodeCount = experiments.compactMap { $0.names?.count ?? $0.walk.map { ($0.max() ?? -1) + 1 } }.max() ?? 0
        var rowOf: [Int: [Int: Int]] = [:]
        for r in 0..<rows.count { rowOf[rows.experiment[r], default: [:]][rows.event[r]] = r }
        var means = [Double](repeating: 0, count: nodeCount * cols)
        var occurrences = [Int](repeating: 0, count: nodeCount), present = occurrences
        for e in experiments {
            guard let walk = e.walk, let events = e.nodeEvents, let rowsOf = rowOf[e.experiment] else { continue }
            var sum = [Double](repeating: 0, count: nodeCount * cols)
            var count = [Int](repeating: 0, count: nodeCount)
            for t in skip..<max(skip, min(walk.count, events.count)) {
                guard let r = rowsOf[events[t]] else { continue }
                let node = walk[t]
                for c in 0..<cols { sum[node * cols + c] += Double(features[r * cols + c]) }
                count[node] += 1
            }
            for node in 0..<nodeCount where count[node] > 0 {
                for c in 0..<cols { means[node * cols + c] += sum[node * cols + c] / Double(count[node]) }
                occurrences[node] += count[node]; present[node] += 1
            }
        }
        for node in 0..<nodeCount where present[node] > 0 {
            for c in 0..<cols { means[node * cols + c] /= Double(present[node]) }
        }
        return (means, occurrences, present)
    }

    /// n × n dissimilarities between the rows of an n × cols matrix: Euclidean, or 1 − Pearson r.
    static func dissimilarity(_ a: [Double], n: Int, cols: Int, _ kind: Distance) -> [Double] {
        var rows = (0..<n).map { Array(a[($0 * cols)..<(($0 + 1) * cols)]) }
        if kind == .correlation {
            rows = rows.map { v in
                let m = v.reduce(0, +) / Double(max(cols, 1))
                let c = v.map { $0 - m }
                let norm = c.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return norm > 0 ? c.map { $0 / norm } : c
            }
        }
        var d = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) {
            var s = 0.0
            if kind == .correlation {
                for c in 0..<cols { s += rows[i][c] * rows[j][c] }
                s = max(0, 1 - s)
            } else {
                for c in 0..<cols { let t = rows[i][c] - rows[j][c]; s += t * t }
                s = s.squareRoot()
            }
            d[i * n + j] = s; d[j * n + i] = s
        } }
        return d
    }

    /// Node averages → dissimilarities → MDS and community scores; the dissimilarity matrix goes to `output`
    /// as `distanceBlob`. Nil when fewer than three nodes occur.
    static func map(features: [Float], cols: Int, rows: ActivationRows, experiments: [ExperimentRecord], options: Options,
                    distanceBlob: String, output: inout StageOutput) -> GeometryMap? {
        let avg = nodeAverages(features: features, cols: cols, rows: rows, experiments: experiments, skip: options.skip)
        let nodes = avg.present.indices.filter { avg.present[$0] > 0 }
        guard nodes.count >= 3 else { return nil }
        let n = nodes.count
        var kept = [Double](repeating: 0, count: n * cols)
        for (i, node) in nodes.enumerated() { for c in 0..<cols { kept[i * cols + c] = avg.means[node * cols + c] } }
        let delta = dissimilarity(kept, n: n, cols: cols, options.distance)
        var rng = SeededRNG(seed: options.seed, stream: "mds")
        let mds = MDS.smacof(delta, n: n, components: 2, starts: max(1, options.inits), rng: &rng)
        // Schapiro's graph: three communities of five consecutive nodes.
        let total = avg.present.count
        let labels = total == 15 ? nodes.map { $0 / 5 } : []
        let scorable = Set(labels).count >= 2
        output.floats(distanceBlob, delta.map { Float($0) }, shape: [n, n])
        var rsa: Double?
        if let ref = options.reference, nodes.allSatisfy({ $0 < ref.nodeCount }) {
            let sub = nodes.flatMap { i in nodes.map { j in ref.matrix[i * ref.nodeCount + j] } }
            rsa = RSA.spearman(delta, sub, n: n)
        }
        return GeometryMap(
            nodes: nodes, community: labels, occurrences: nodes.map { avg.occurrences[$0] },
            experiments: Set(experiments.filter { $0.walk != nil }.map(\.experiment)).count,
            coordinates: (0..<n).map { [mds.coordinates[$0 * 2], mds.coordinates[$0 * 2 + 1]] },
            stress: mds.stress, normalisedStress: mds.normalisedStress,
            score: scorable ? CommunitySummary(CommunityScore(distance: delta, labels: labels)) : nil,
            mdsScore: scorable ? CommunitySummary(CommunityScore(distance: MDS.distances(mds.coordinates, n: n, k: 2), labels: labels)) : nil,
            distanceBlob: distanceBlob, srRSA: rsa)
    }
}
