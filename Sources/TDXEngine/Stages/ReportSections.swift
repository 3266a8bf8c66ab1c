import Foundation
import TDXAnalysis
import TDXReport

/// SAE quality per block: held-out FVE, L0 and dead fraction (§5; the paper reports none of them).
struct SAEQualitySection {
    let metrics: [SAEMetrics]

    func write(_ r: inout ReportDraft) {
        guard !metrics.isEmpty else { return }
        r.md.heading("SAE quality")
        let m0 = metrics[0]
        r.md.paragraph("One SAE per block: d_in \(m0.dIn), \(m0.dSAE) latents, normalisation \(m0.normalisation), "
            + "\(m0.epochs.count) epochs; evaluated on held-out experiments.")
        var t = ReportTable(columns: ["block", "FVE (test)", "L0 (test)", "dead (test)", "FVE (train)", "final train loss"])
        for m in metrics.sorted(by: { $0.layer < $1.layer }) {
            t.append([.int(m.layer), .number(m.test?.fve ?? .nan), .number(m.test?.l0 ?? .nan, .fixed(decimals: 1)),
                      .number(m.test?.deadFraction ?? .nan), .number(m.train.fve), .number(m.epochs.last?.trainLoss ?? .nan)])
        }
        r.table("sae_quality.csv", t)
    }
}

/// Max |r| (r or −r under `correlate.sign`) over latents per block for each variable: raw and Gaussian-smoothed (σ in blocks), the
/// within-experiment permutation null's 95th percentile, and the raw-neuron baseline (§6.1).
struct CorrelationSection {
    let results: [CorrelationResult]
    let sigma: Double
    /// The rollout's task, for the paper's figure to read the curves against.
    let task: String?

    /// What the paper reports for this task's correlations (SCIENCE.md §6).
    static func paperReference(task: String?) -> String {
        switch task {
        case "two_step": " Paper (Llama 3 70B): TD error r ≈ 0.58 at block 34 of 80."
        case "grid_world": " Paper (Llama 3 70B): TD latents with r ≥ 0.75; the blocks are not given."
        case "graph": " Paper (Llama 3 70B): SR r ≈ 0.62, SR-TD error ≈ 0.60, transition probability ≈ 0.49, surprise ≈ 0.18."
        default: ""
        }
    }

    func write(_ r: inout ReportDraft) {
        guard !results.isEmpty else { return }
        let byLayer = results.sorted { $0.layer < $1.layer }
        let names = Array(Set(byLayer.flatMap { $0.variables.map(\.name) })).sorted()
        // `correlate.sign`: what every max here maximises (|r| unless set).
        let sign = byLayer.first?.variables.first?.correlationSign ?? .absolute
        let score = "max \(sign.label)", Score = "Max \(sign.label)"
        let largest = switch sign {
        case .absolute: "the largest |r|"
        case .positive: "the largest r (`correlate.sign = positive`)"
        case .negative: "the most negative r (`correlate.sign = negative`; plotted as −r)"
        }
        r.md.heading("Latent–variable correlations")
        r.md.paragraph("For every block, \(largest) between one SAE latent and the variable over all recorded positions; "
            + "smoothed with a Gaussian of σ = \(NumberFormat.format(sigma)) blocks as in the paper's figures (raw values kept). "
            + "The band is the 95th percentile of \(score) when the variable is shuffled within each experiment; the dotted "
            + "line is the best single raw residual dimension." + Self.paperReference(task: task))
        var t = ReportTable(columns: ["variable", "block", score, "smoothed", "signed r", "latent", "null 95 %",
                                      "neurons \(score)", "held-out r", "CI low", "CI high", "samples"])
        for name in names {
            let rows = byLayer.compactMap { c in c.variables.first { $0.name == name }.map { (c.layer, $0) } }
            guard !rows.isEmpty else { continue }
            let x = rows.map { Double($0.0) }
            let raw = rows.map(\.1.strength)
            let smooth = sigma > 0 ? GaussianSmoothing.filter1d(raw, sigma: sigma) : raw
            var series: [LinePlot.Series] = [
                .init("SAE latents (raw)", x: x, y: raw, band: rows.allSatisfy { $0.1.null95 != nil }
                      ? .init(lower: rows.map { _ in 0 }, upper: rows.map { $0.1.null95 ?? .nan }, label: "permutation null 95 %") : nil,
                      markers: true),
                .init("SAE latents (smoothed σ=\(NumberFormat.format(sigma)))", x: x, y: smooth, style: .dashed),
            ]
            if rows.contains(where: { $0.1.neuronStrength != nil }) {
                series.append(.init("raw neurons", x: x, y: rows.map { $0.1.neuronStrength ?? .nan }, style: .dotted, color: 6))
            }
            let file = "max_r_" + name.replacingOccurrences(of: ".", with: "_") + ".svg"
            r.figure(file, LinePlot(title: "\(Score) with \(name) per block", xLabel: "block", yLabel: score, series: series,
                                    yRange: min(0, (raw + smooth).filter(\.isFinite).min() ?? 0)...max(0.2, (raw + smooth).filter(\.isFinite).max() ?? 0.2)),
                     alt: "\(Score) with \(name) per block")
            let peak = rows.indices.max { smooth[$0] < smooth[$1] } ?? 0
            let partial = rows.first?.1.partialOut.map { " Partial r: \($0.joined(separator: ", ")) regressed out first." } ?? ""
            r.md.paragraph("**\(name)**: peak smoothed \(score) \(NumberFormat.format(smooth[peak])) at block \(rows[peak].0) "
                + "(raw \(NumberFormat.format(raw[peak])), latent \(rows[peak].1.bestLatent), signed r \(NumberFormat.format(rows[peak].1.bestR)))."
                + partial)
            for (i, (layer, v)) in rows.enumerated() {
                t.append([.text(name), .int(layer), .number(v.strength), .number(smooth[i]), .number(v.bestR), .int(v.bestLatent),
                          .number(v.null95 ?? .nan), .number(v.neuronStrength ?? .nan), .number(v.heldOut?.testR ?? .nan),
                          .number(v.bootstrap?.lower ?? .nan), .number(v.bootstrap?.upper ?? .nan), .int(v.samples)])
            }
        }
        r.table("correlations.csv", t)
    }
}

/// Interventions: behaviour with the TD latent edited, the control latent edited and the SAE's full
/// reconstruction, against the intact run, with bootstrap 95 % CIs over experiments (§7).
struct InterventionSection {
    let results: [InterventionResult]

    func write(_ r: inout ReportDraft) {
        guard !results.isEmpty else { return }
        r.md.heading("Interventions")
        if results.contains(where: { $0.conditions.contains { $0.name == "reconstruction" } }) {
            r.md.paragraph("`reconstruction` replaces the residual stream at the edited blocks by the SAE's reconstruction x̂ "
                + "(its error dropped) with no latent edited: what the SAE alone costs. The latent edits keep the error.")
        }
        var t = ReportTable(columns: ["intervention", "condition", "block", "latent", "edit", "metric", "mean", "CI low", "CI high",
                                      "Q-consistency", "Q NLL", "experiments"])
        for res in results {
            let file = "intervention_\(res.name).svg"
            if res.mode == "replay" {
                // Every condition read the same transcripts: the paired change shows what the spread between
                // experiments would hide.
                let edited = res.conditions.filter { $0.name != "intact" }
                let values = edited.map { c in BarChart.Value(c.versusIntact?[0] ?? .nan, lower: c.versusIntact?[1] ?? .nan, upper: c.versusIntact?[2] ?? .nan) }
                r.figure(file, BarChart(title: "\(res.name): change in \(res.metric) from intact (\(res.blocksText))",
                                        yLabel: "Δ mean log p of the intact run's choices", groups: edited.map(\.name),
                                        series: [.init("Δ " + res.metric, values: values)], showValues: true),
                         alt: "\(res.name): paired change from intact with 95 % CIs")
            } else {
                let values = res.conditions.map { BarChart.Value($0.mean, lower: $0.ciLow, upper: $0.ciHigh) }
                r.figure(file, BarChart(title: "\(res.name): \(res.metric) by condition (\(res.blocksText))",
                                        yLabel: res.metric == "points" ? "mean points after the random episodes" : "accuracy",
                                        groups: res.conditions.map(\.name), series: [.init(res.metric, values: values)], showValues: true),
                         alt: "\(res.name) by condition with 95 % CIs")
            }
            if let targets = res.targets {
                let each = targets.map { t in
                    "latent \(t.latent) at block \(t.block) (r = \(NumberFormat.format(t.r)); control "
                        + (t.control.map { "\($0), r = " + NumberFormat.format(t.controlR ?? .nan) } ?? "none") + ")"
                }
                let score = res.correlationSign.label
                let which = res.threshold.map { "with \(score) ≥ \(NumberFormat.format($0))" } ?? "with the highest \(score)"
                r.md.paragraph("**\(res.name)**: \(res.edit) of the \(targets.count) latent\(targets.count == 1 ? "" : "s") \(which) with \(res.variable), "
                    + "each edited at its block, at \(res.positions) positions: \(each.joined(separator: ", ")); "
                    + "the control condition edits the controls instead; \(res.experiments.count) experiments.")
            } else {
                r.md.paragraph("**\(res.name)**: \(res.edit) of latent \(res.latent) (r = \(NumberFormat.format(res.latentR)) with \(res.variable)) "
                    + "at block \(res.layer), at \(res.positions) positions; control latent \(res.control.map(String.init) ?? "none")"
                    + (res.controlR.map { " (r = \(NumberFormat.format($0)))" } ?? "") + "; \(res.experiments.count) experiments.")
            }
            if let largest = res.largest {
                r.md.paragraph("Largest activation of each edited latent over the rows its SAE was trained on (the clamp is a multiple of it): "
                    + largest.sorted { $0.key.split(separator: ".").compactMap { Int($0) }.lexicographicallyPrecedes($1.key.split(separator: ".").compactMap { Int($0) }) }
                        .map { "block.latent \($0.key): \(NumberFormat.format($0.value))" }.joined(separator: ", ") + ".")
            }
            if res.mode == "replay", res.name == results.first(where: { $0.mode == "replay" })?.name {
                r.md.paragraph("Replayed interventions (metric `log p(choice)`): the intact run's transcripts were read again under each condition (intact included), "
                    + "so every condition makes the same choices; the metric is the mean log p the model gives them. "
                    + "Q-consistency is Σ p(a)·p_Q(a) under the fitted Q-learner; `replay.csv` also gives the fraction of "
                    + "choices whose most probable answer differs from the intact replay's.")
            }
            for c in res.conditions {
                let q = c.qConsistency.map { v -> Double in let f = v.filter(\.isFinite); return f.reduce(0, +) / Double(max(1, f.count)) }
                let block: Cell, latent: Cell
                if let targets = res.targets {
                    // Several edited latents: `;`-separated, in the order of the paragraph above.
                    block = .text(targets.map { String($0.block) }.joined(separator: ";"))
                    latent = .text(targets.map { String(c.name == "control" ? ($0.control ?? -1) : $0.latent) }.joined(separator: ";"))
                } else {
                    block = .int(res.layer); latent = .int(c.name == "control" ? (res.control ?? -1) : res.latent)
                }
                t.append([.text(res.name), .text(c.name), block, latent,
                          .text(res.edit), .text(res.metric), .number(c.mean), .number(c.ciLow), .number(c.ciHigh),
                          .number(q ?? .nan), .number(c.qNLL ?? .nan, .fixed(decimals: 1)), .int(c.perExperiment.count)])
            }
        }
        r.table("interventions.csv", t)
        replays(&r)
        downstream(&r)
    }

    /// A replay's per-condition change against the intact replay, over the same choices.
    func replays(_ r: inout ReportDraft) {
        var t = ReportTable(columns: ["intervention", "condition", "mean log p(choice)", "Δ vs intact", "CI low", "CI high",
                                      "choices changed", "Q-consistency"])
        func mean(_ v: [Double]?) -> Double {
            let f = (v ?? []).filter(\.isFinite); return f.isEmpty ? .nan : f.reduce(0, +) / Double(f.count)
        }
        for res in results where res.mode == "replay" {
            for c in res.conditions {
                let d = c.versusIntact ?? [.nan, .nan, .nan]
                t.append([.text(res.name), .text(c.name), .number(c.mean), .number(d[0]), .number(d[1]), .number(d[2]),
                          .number(mean(c.changed)), .number(mean(c.qConsistency))])
            }
        }
        if !t.rows.isEmpty { r.table("replay.csv", t) }
    }

    /// Later blocks' max |r| (or `correlate.sign`'s) with the variable under each condition (the paper's "reduces the alignment of
    /// subsequent representations", §7), each computed along that condition's own trajectories.
    func downstream(_ r: inout ReportDraft) {
        let score = "max " + (results.first?.correlationSign ?? .absolute).label
        var t = ReportTable(columns: ["intervention", "condition", "block", score])
        for res in results where res.conditions.contains(where: { !($0.downstream ?? [:]).isEmpty }) {
            let blocks = Array(Set(res.conditions.flatMap { ($0.downstream ?? [:]).keys.compactMap(Int.init) })).sorted()
            let series = res.conditions.map { c in
                LinePlot.Series(c.name, x: blocks.map(Double.init), y: blocks.map { c.downstream?[String($0)] ?? .nan }, markers: true)
            }
            r.md.paragraph("M\(score.dropFirst()) with \(res.variable) in the blocks after block \(res.editedBlocks.last ?? res.layer), per condition:")
            r.figure("downstream_\(res.name).svg", LinePlot(title: "\(res.name): later blocks' \(score) with \(res.variable)",
                                                            xLabel: "block", yLabel: score, series: series, yRange: 0...1),
                     alt: "Later-block correlations per condition")
            for c in res.conditions { for b in blocks { t.append([.text(res.name), .text(c.name), .int(b), .number(c.downstream?[String(b)] ?? .nan)]) } }
        }
        if !t.rows.isEmpty { r.table("downstream.csv", t) }
    }
}

/// Metric MDS of node-averaged representations, intact and lesioned (§6.2).
struct GeometrySection {
    let result: GeometryResult

    func write(_ r: inout ReportDraft) {
        r.md.heading("Node geometry")
        func panel(_ title: String, _ g: GeometryMap) -> ScatterPlot.Panel {
            .init(title, points: g.nodes.indices.map { i in
                ScatterPlot.Point(x: g.coordinates[i][0], y: g.coordinates[i].count > 1 ? g.coordinates[i][1] : 0,
                                  label: String(g.nodes[i]), group: g.community.indices.contains(i) ? g.community[i] : 0)
            })
        }
        var panels = [panel("intact", result.intact)]
        if let l = result.lesioned { panels.append(panel("lesioned", l)) }
        r.figure("mds.svg", ScatterPlot(title: "Metric MDS of node representations (block \(result.layer), \(result.source))",
                                        groupNames: ["community 1", "community 2", "community 3"], panels: panels, equalAspect: true),
                 alt: "MDS of node representations")
        var t = ReportTable(columns: ["condition", "within", "between", "ratio", "silhouette", "stress", "RSA with SR"])
        for (name, g) in [("intact", result.intact)] + (result.lesioned.map { [("lesioned", $0)] } ?? []) {
            t.append([.text(name), .number(g.score?.meanWithin ?? .nan), .number(g.score?.meanBetween ?? .nan),
                      .number(g.score?.ratio ?? .nan), .number(g.score?.silhouette ?? .nan), .number(g.normalisedStress),
                      .number(g.srRSA ?? .nan)])
        }
        r.table("geometry.csv", t)
        if result.intact.srRSA != nil {
            r.md.paragraph("RSA with SR: Spearman r between the node dissimilarities above and those of the SR agent's M "
                + "(rows after each walk, averaged over the same experiments, same distance).")
        }
        if let note = result.note { r.md.paragraph(note) }
    }
}
