import Foundation
import TDXCore
import TDXLang
import TDXPlan
import TDXRL

/// `report`: Markdown, SVG figures and CSV tables built from every other stage's output. The files are
/// the artifact's blobs; `tdx run` writes them to Results/<spec>/.
struct ReportStage: StageBody {
    let kind = StageKind.report
    let codeVersion = 1

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in try ReportBuilder(ctx: ctx).build() }
    }
}

/// Assembles the report from the inputs that exist; each section is skipped when its stage is absent.
struct ReportBuilder {
    let ctx: StageContext

    func build() throws -> StageOutput {
        var out = StageOutput()
        var md = ReportMarkdown()
        let title = ctx.stage.params["report.title"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ?? URL(fileURLWithPath: ctx.specPath).deletingPathExtension().lastPathComponent
        md.heading(1, title)
        md.table(["", ""], header(), alignLeft: true)

        if ctx.stage.inputs.contains("rollout") {
            let rollout = try RolloutData.decode(try ctx.inputString("rollout", "rollout"))
            try BehaviourSection(rollout: rollout).write(into: &md, output: &out)
        }
        if ctx.stage.inputs.contains("behaviour") {
            let report = try JSONDecoder().decode(BehaviourReport.self, from: try ctx.inputData("behaviour", "behaviour"))
            md.heading(2, "Model comparison")
            md.paragraph("Maximum-likelihood fits to the choices (NLL summed over experiments; lower is better).")
            let rows = report.models.sorted { $0.nll < $1.nll }.map { m in
                [m.name, ReportMarkdown.num(m.nll, 1), ReportMarkdown.num(m.aic, 1), ReportMarkdown.num(m.bic, 1),
                 m.params.keys.sorted().map { "\($0) = \(ReportMarkdown.num(m.params[$0]!, 3))" }.joined(separator: ", "),
                 String(m.choices)]
            }
            md.table(["model", "NLL", "AIC", "BIC", "fitted parameters", "choices"], rows)
            out.text("model_comparison.csv", CSV.render(["model", "nll", "aic", "bic", "params", "choices"], rows))
        }
        out.text("report.md", md.text)
        return out
    }

    func header() -> [[String]] {
        var rows: [[String]] = [
            ["spec", URL(fileURLWithPath: ctx.specPath).lastPathComponent],
            ["spec digest", "`\(ctx.stage.params["spec.digest"]?.stringValue ?? "")`"],
            ["tdx version", TDXVersion.string],
        ]
        if let m = ctx.stage.params["model.identity"]?.stringValue { rows.append(["model SHA-256", "`\(m)`"]) }
        for id in ctx.stage.inputs {
            rows.append(["stage \(id)", "`\((try? ctx.inputKey(id)) ?? "")`"])
        }
        rows.append(["stage report", "`\(ctx.stage.key)`"])
        return rows
    }
}

/// Behaviour: returns per episode against random and optimal references (Two-Step), or accuracy.
struct BehaviourSection {
    let rollout: RolloutData

    func write(into md: inout ReportMarkdown, output: inout StageOutput) throws {
        md.heading(2, "Behaviour")
        let exps = rollout.experiments
        if rollout.task == "two_step", let episodes = exps.first?.returns?.count {
            var rows: [[String]] = []
            for ep in 0..<episodes {
                let r = exps.compactMap { $0.returns?[ep] }
                let mean = r.reduce(0, +) / Double(max(1, r.count))
                let opt = exps.compactMap(\.optimalReturn).reduce(0, +) / Double(max(1, exps.count))
                rows.append([String(ep + 1), ReportMarkdown.num(mean, 2), ReportMarkdown.num(opt, 2)])
            }
            md.paragraph("Mean points per episode over \(exps.count) experiments, and the best expected return.")
            md.table(["episode", "mean points", "optimal"], rows)
            output.text("returns.csv", CSV.render(["episode", "mean_points", "optimal"], rows))
        } else {
            let acc = exps.map(\.accuracy).filter { !$0.isNaN }
            let mean = acc.reduce(0, +) / Double(max(1, acc.count))
            md.paragraph("Prediction accuracy: \(ReportMarkdown.num(mean, 3)) over \(exps.count) experiments.")
            if let control = rollout.control {
                let c = control.map(\.accuracy).filter { !$0.isNaN }
                md.paragraph("Random-reward control: \(ReportMarkdown.num(c.reduce(0, +) / Double(max(1, c.count)), 3)).")
            }
        }
    }
}
