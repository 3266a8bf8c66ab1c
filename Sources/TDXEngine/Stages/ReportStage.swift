import Foundation
import TDXCore
import TDXLang
import TDXNumerics
import TDXPlan
import TDXReport
import TDXRL

/// `report`: Markdown, SVG figures and CSV tables built from every other stage's output. The files are
/// the artifact's blobs; `tdx run` writes them to Results/<spec>/.
struct ReportStage: StageBody {
    let kind = StageKind.report
    let codeVersion = 9

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in try ReportBuilder(ctx: ctx).build() }
    }
}

/// The report under construction: Markdown text plus the figure and table files it links.
struct ReportDraft {
    var md: MarkdownReport
    var files: StageOutput = StageOutput()

    mutating func figure(_ name: String, _ fig: some SVGFigure, alt: String) {
        files.text(name, fig.svg)
        md.image(name, alt: alt)
    }

    mutating func table(_ name: String, _ t: ReportTable) {
        md.table(t)
        files.text(name, t.csv)
    }
}

/// Assembles the report from the inputs that exist; a section is skipped when its stage is absent.
struct ReportBuilder {
    let ctx: StageContext

    func build() throws -> StageOutput {
        let title = ctx.stage.params["report.title"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ?? URL(fileURLWithPath: ctx.specPath).deletingPathExtension().lastPathComponent
        var r = ReportDraft(md: MarkdownReport(title: title))
        header(&r)
        let rollout = ctx.hasInput("rollout") ? try RolloutData.decode(try ctx.inputString("rollout", "rollout")) : nil
        if let rollout { BehaviourSection(rollout: rollout).write(&r) }
        if ctx.hasInput("behaviour"), let rollout {
            let report = try JSONDecoder().decode(BehaviourReport.self, from: try ctx.inputData("behaviour", "behaviour"))
            let differences = NLLComparison.all(report, experiments: rollout.steps,
                                                config: SpecConfigs.fit(Params(ctx.stage.params, prefix: "fit")),
                                                seed: try ctx.seed(of: "behaviour"))
            ModelComparisonSection(report: report, differences: differences).write(&r)
        }
        SAEQualitySection(metrics: try ctx.inputs(of: .sae).map { try ctx.saeMetrics($0) }).write(&r)
        CorrelationSection(results: try ctx.inputs(of: .correlate).map { try ctx.correlations($0) },
                           sigma: ctx.stage.params["correlate.smooth"]?.doubleValue ?? 0.5, task: rollout?.task).write(&r)
        InterventionSection(results: try ctx.inputs(of: .intervene).map {
            try InterventionResult.decode(try ctx.inputString($0, "intervention"))
        }).write(&r)
        if ctx.hasInput("geometry") {
            GeometrySection(result: try GeometryResult.decode(try ctx.inputString("geometry", "geometry"))).write(&r)
        }
        var out = r.files
        out.text("report.md", r.md.text)
        return out
    }

    func header(_ r: inout ReportDraft) {
        var pairs: [(key: String, value: String)] = [
            ("spec", URL(fileURLWithPath: ctx.specPath).lastPathComponent),
            ("spec digest", ctx.stage.params["spec.digest"]?.stringValue ?? ""),
        ]
        if let m = ctx.stage.params["model.identity"]?.stringValue { pairs.append(("model SHA-256", m)) }
        pairs.append(("tdx version", TDXVersion.string))
        r.md.keyValueTable(pairs, header: ("Provenance", ""), codeValues: true)
        r.md.heading("Stage keys", level: 3)
        var keys = ReportTable(columns: ["stage", "key"])
        for id in ctx.stage.inputs { keys.append([.text(id), .text(Markdown.code((try? ctx.inputKey(id)) ?? ""))]) }
        keys.append([.text("report"), .text(Markdown.code(ctx.stage.key))])
        r.md.table(keys)
    }
}

/// Behaviour against references: Two-Step returns per episode (random and optimal lines); prediction
/// accuracy for Grid World (with the random-reward control) and the graph task (with the 25 % ceiling).
struct BehaviourSection {
    let rollout: RolloutData

    static func meanCI(_ xs: [Double]) -> (Double, Double, Double) {
        let v = xs.filter(\.isFinite)
        guard !v.isEmpty else { return (.nan, .nan, .nan) }
        let m = v.reduce(0, +) / Double(v.count)
        let sd = v.count > 1 ? (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot() : 0
        // Student's t: the behaviour line averages as few as a handful of experiments.
        let h = v.count > 1 ? StudentT.quantile(0.975, df: Double(v.count - 1)) * sd / Double(v.count).squareRoot() : 0
        return (m, m - h, m + h)
    }

    func write(_ r: inout ReportDraft) {
        r.md.heading("Behaviour")
        let exps = rollout.experiments
        if rollout.task == "two_step", let episodes = exps.first?.returns?.count {
            let stats = (0..<episodes).map { ep in Self.meanCI(exps.compactMap { $0.returns?[ep] }) }
            let x = (1...episodes).map(Double.init)
            let optimal = Self.meanCI(exps.compactMap(\.optimalReturn)).0
            let random = Self.meanCI(exps.compactMap(\.randomReturn)).0
            r.figure("behaviour.svg", LinePlot(
                title: "Points per episode", xLabel: "episode", yLabel: "mean points",
                series: [.init("mean of \(exps.count) experiments", x: x, y: stats.map(\.0),
                               band: .init(lower: stats.map(\.1), upper: stats.map(\.2), label: "95 % CI"), markers: true)],
                references: [ReferenceLine(random, label: "random"), ReferenceLine(optimal, label: "optimal", style: .dotted)]),
                alt: "Points per episode with random and optimal references")
            // The model's own episodes only (up to the last 10), one mean per experiment: the CI is over experiments,
            // not over episodes, which share an experiment's task and history.
            let forced = Set(exps.first?.steps.filter(\.forcedRandom).map(\.episode) ?? []).count
            let last = min(10, episodes - forced)
            if last > 0 {
                let late = Self.meanCI(exps.compactMap { $0.returns.map { Array($0.suffix(last)).reduce(0, +) / Double(last) } })
                let after = forced > 0 ? " (after the \(forced) random one\(forced == 1 ? "" : "s"))" : ""
                r.md.paragraph("Mean points over the last \(last) episode\(last == 1 ? "" : "s")\(after): "
                    + "**\(NumberFormat.fixed(late.0, decimals: 2))** (95 % CI over the \(exps.count) experiments "
                    + "\(NumberFormat.fixed(late.1, decimals: 2))–\(NumberFormat.fixed(late.2, decimals: 2))); "
                    + "a random policy expects \(NumberFormat.fixed(random, decimals: 2)), the best option \(NumberFormat.fixed(optimal, decimals: 2)).")
            }
            var t = ReportTable(columns: ["episode", "mean points", "ci low", "ci high"])
            for (i, s) in stats.enumerated() { t.append([.int(i + 1), .number(s.0), .number(s.1), .number(s.2)]) }
            r.files.text("returns.csv", t.csv)
        } else {
            let acc = Self.meanCI(exps.map(\.accuracy))
            var groups = [rollout.control == nil ? "model" : "correct rewards"], values = [BarChart.Value(acc.0, lower: acc.1, upper: acc.2)]
            if let control = rollout.control {
                let c = Self.meanCI(control.map(\.accuracy))
                groups.append("control rewards"); values.append(BarChart.Value(c.0, lower: c.1, upper: c.2))
            }
            let refs = rollout.task == "graph" ? [ReferenceLine(0.25, label: "ceiling 25 %")] : []
            let what = rollout.task == "graph" ? "next-node" : "action"
            r.figure("behaviour.svg", BarChart(title: "Prediction accuracy (\(what))", yLabel: "accuracy", groups: groups,
                                               series: [.init("model", values: values)], references: refs, showValues: true),
                     alt: "Prediction accuracy with 95 % CIs")
            var t = ReportTable(columns: ["condition", "accuracy", "ci low", "ci high", "experiments"])
            for (g, v) in zip(groups, values) { t.append([.text(g), .number(v.value), .number(v.lower), .number(v.upper), .int(exps.count)]) }
            r.table("accuracy.csv", t)
        }
    }
}

struct ModelComparisonSection {
    let report: BehaviourReport
    let differences: [NLLComparison]

    func write(_ r: inout ReportDraft) {
        r.md.heading("Model comparison")
        r.md.paragraph("Maximum-likelihood fits to the choices: negative log-likelihood summed over experiments (lower is better), "
            + "AIC, BIC and the fitted parameters (SCIENCE.md §4.1; the paper reports NLL 2729 < 2864 < 5745 for Llama 3 70B).")
        let names = Array(Set(report.models.flatMap { $0.params.keys })).sorted()
        var t = ReportTable(columns: ["model", "NLL", "AIC", "BIC"] + names + ["choices"])
        for m in report.models.sorted(by: { $0.nll < $1.nll }) {
            t.append([.text(m.name), .number(m.nll, .fixed(decimals: 1)), .number(m.aic, .fixed(decimals: 1)),
                      .number(m.bic, .fixed(decimals: 1))] + names.map { .number(m.params[$0] ?? .nan) } + [.int(m.choices)])
        }
        r.table("model_comparison.csv", t)
        guard !differences.isEmpty else { return }
        r.md.paragraph("NLL differences between the fits, summed over experiments, with a bootstrap 95 % CI over experiments "
            + "(parameters held at each fit); \"reversed\" is the fraction of resamples in which the worse model fits at least as well.")
        var d = ReportTable(columns: ["better", "worse", "ΔNLL", "CI low", "CI high", "reversed", "experiments favouring better",
                                      "experiments favouring worse", "experiments"])
        for c in differences {
            d.append([.text(c.better), .text(c.worse), .number(c.difference, .fixed(decimals: 1)), .number(c.ciLow, .fixed(decimals: 1)),
                      .number(c.ciHigh, .fixed(decimals: 1)), .number(c.reversed), .int(c.favouring),
                      .int(c.favouringWorse), .int(c.experiments)])
        }
        r.table("nll_differences.csv", d)
    }
}
