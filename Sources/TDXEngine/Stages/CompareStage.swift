import Foundation
import TDXCore
import TDXPlan
import TDXReport

/// `compare`: one page across the variants of a sweep (DESIGN §3: "reports compare them"), built from
/// the tables each variant's report wrote, so it shows exactly the numbers of those reports. Planned only
/// when a spec sweeps something; a `weights` sweep gives the paper's Fig 2A (one model against another).
struct CompareStage: StageBody {
    let kind = StageKind.compare
    let codeVersion = 2

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in try SweepComparison(ctx: ctx).build() }
    }
}

struct SweepComparison {
    let ctx: StageContext

    /// One variant's report: its label (the swept values) and the CSV tables it wrote, by file name.
    struct Variant {
        var label: String
        var reportID: String
        var tables: [String: (header: [String], rows: [[String]])]
    }

    /// The report tables the comparison merges, in page order.
    static let tableNames = ["returns.csv", "accuracy.csv", "model_comparison.csv", "nll_differences.csv", "sae_quality.csv",
                             "correlations.csv", "interventions.csv", "downstream.csv"]

    /// `report{sae.beta=1e-5,seed=2}` → `sae.beta=1e-5, seed=2`; the variant whose swept parameters were
    /// added later and left at their defaults has no tag.
    static func label(_ reportID: String) -> String {
        guard let open = reportID.firstIndex(of: "{"), reportID.hasSuffix("}") else { return "defaults" }
        let tag = String(reportID[reportID.index(after: open)..<reportID.index(before: reportID.endIndex)])
        var parts: [String] = [], depth = 0, current = ""
        for ch in tag {
            if ch == "[" { depth += 1 } else if ch == "]" { depth -= 1 }
            if ch == ",", depth == 0 { parts.append(current); current = "" } else { current.append(ch) }
        }
        return (parts + [current]).joined(separator: ", ")
    }

    func variants() throws -> [Variant] {
        try ctx.inputs(of: .report).map { id in
            var tables: [String: (header: [String], rows: [[String]])] = [:]
            // A table a variant's report did not write (no fit, no interventions) is simply absent.
            let written = Set(try ctx.inputBlobNames(id))
            for name in Self.tableNames where written.contains(name) { tables[name] = CSVTable.parse(try ctx.inputString(id, name)) }
            return Variant(label: Self.label(id), reportID: id, tables: tables)
        }
    }

    func build() throws -> StageOutput {
        let variants = try variants()
        let title = (ctx.stage.params["report.title"]?.stringValue).flatMap { $0.isEmpty ? nil : $0 }
            ?? URL(fileURLWithPath: ctx.specPath).deletingPathExtension().lastPathComponent
        var r = ReportDraft(md: MarkdownReport(title: title + ": the sweep compared"))
        r.md.keyValueTable([("spec", URL(fileURLWithPath: ctx.specPath).lastPathComponent),
                            ("spec digest", ctx.stage.params["spec.digest"]?.stringValue ?? ""),
                            ("tdx version", TDXVersion.string)], header: ("Provenance", ""), codeValues: true)
        r.md.paragraph("One row per variant of the sweep; each has its full report in the directory named. Every number "
            + "below is copied from those reports' tables, with a `variant` column added.")
        // Each variant's model (they differ under a `weights` sweep), as its report's header gives it.
        let models = variants.map { ctx.paramsByID[$0.reportID]?["model.identity"]?.stringValue }
        let showModels = models.contains { $0 != nil }
        var index = ReportTable(columns: ["variant", "directory"] + (showModels ? ["model SHA-256"] : []) + ["report key"])
        let directories = ReportDirectory.names(variants.map(\.reportID))
        for (v, model) in zip(variants, models) {
            index.append([.text(v.label), .text(Markdown.code(directories[v.reportID]! + "/"))]
                         + (showModels ? [.text(model.map { Markdown.code(String($0.prefix(16)) + "…") } ?? "")] : [])
                         + [.text(Markdown.code(try ctx.inputKey(v.reportID)))])
        }
        r.md.table(index)
        behaviour(variants, &r)
        fits(variants, &r)
        correlations(variants, &r)
        interventions(variants, &r)
        var out = r.files
        out.text("report.md", r.md.text)
        return out
    }

    /// Every variant's rows of one table, with a leading `variant` column, as the reports wrote them.
    struct Merged {
        var header: [String]
        var rows: [[String]]
        /// The fields exactly as the variants' CSV files hold them.
        var csv: String { CSVTable.render(header: header, rows: rows) }
        /// For the page: numbers rounded for reading.
        var table: ReportTable { ReportTable(columns: header, rows: rows.map { $0.map(SweepComparison.cell) }) }
    }

    /// A table's rows from every variant; columns a variant lacks stay empty. Nil when no variant wrote it.
    static func merged(_ name: String, _ variants: [Variant]) -> Merged? {
        let present = variants.filter { $0.tables[name] != nil }
        guard !present.isEmpty else { return nil }
        var columns: [String] = []
        for v in present { for c in v.tables[name]!.header where !columns.contains(c) { columns.append(c) } }
        var rows: [[String]] = []
        for v in present {
            let (header, own) = v.tables[name]!
            for row in own { rows.append([v.label] + columns.map { c in header.firstIndex(of: c).flatMap { row[safe: $0] } ?? "" }) }
        }
        return Merged(header: ["variant"] + columns, rows: rows)
    }

    /// Writes a merged table's file and, when `shown`, its rounded form on the page.
    static func put(_ name: String, _ variants: [Variant], shown: Bool, _ r: inout ReportDraft) {
        guard let m = merged(name, variants) else { return }
        r.files.text(name, m.csv)
        if shown { r.md.table(m.table) }
    }

    /// A CSV field as a cell: integers and numbers keep their exact value (the CSV round-trips).
    static func cell(_ s: String) -> Cell {
        if let i = Int(s) { return .int(i) }
        if let x = Double(s), s.first.map({ $0.isNumber || $0 == "-" || $0 == "N" || $0 == "i" }) == true { return .number(x) }
        return .text(s)
    }

    /// The correlation table's score column (the report names it after `correlate.sign`).
    static func scoreColumn(_ header: [String]) -> String { header.first { $0.hasPrefix("max ") } ?? "max |r|" }

    static func column(_ t: (header: [String], rows: [[String]]), _ name: String) -> [Double] {
        guard let i = t.header.firstIndex(of: name) else { return [] }
        return t.rows.map { $0[safe: i].flatMap(Double.init) ?? .nan }
    }

    func behaviour(_ variants: [Variant], _ r: inout ReportDraft) {
        let returns = variants.filter { $0.tables["returns.csv"] != nil }
        let accuracy = variants.filter { $0.tables["accuracy.csv"] != nil }
        guard !returns.isEmpty || !accuracy.isEmpty else { return }
        r.md.heading("Behaviour")
        if !returns.isEmpty {
            let series = returns.map { v -> LinePlot.Series in
                let t = v.tables["returns.csv"]!
                return .init(v.label, x: Self.column(t, "episode"), y: Self.column(t, "mean points"),
                             band: .init(lower: Self.column(t, "ci low"), upper: Self.column(t, "ci high")), markers: true)
            }
            r.figure("behaviour.svg", LinePlot(title: "Points per episode", xLabel: "episode", yLabel: "mean points (95 % CI)", series: series),
                     alt: "Points per episode, one line per variant")
            Self.put("returns.csv", variants, shown: false, &r)
        }
        if !accuracy.isEmpty {
            var conditions: [String] = []
            for v in accuracy { for row in v.tables["accuracy.csv"]!.rows where !conditions.contains(row[0]) { conditions.append(row[0]) } }
            let series = conditions.map { c in
                BarChart.Series(c, values: accuracy.map { v in
                    let t = v.tables["accuracy.csv"]!
                    guard let i = t.rows.firstIndex(where: { $0.first == c }) else { return BarChart.Value(.nan) }
                    return BarChart.Value(Self.column(t, "accuracy")[safe: i] ?? .nan, lower: Self.column(t, "ci low")[safe: i] ?? .nan,
                                          upper: Self.column(t, "ci high")[safe: i] ?? .nan)
                })
            }
            r.figure("behaviour.svg", BarChart(title: "Prediction accuracy", yLabel: "accuracy (95 % CI)", groups: accuracy.map(\.label),
                                               series: series, showValues: true),
                     alt: "Prediction accuracy per variant")
            Self.put("accuracy.csv", variants, shown: true, &r)
        }
    }

    func fits(_ variants: [Variant], _ r: inout ReportDraft) {
        guard variants.contains(where: { $0.tables["model_comparison.csv"] != nil }) else { return }
        r.md.heading("Model comparison")
        r.md.paragraph("The behavioural models fitted to each variant's choices (NLL summed over experiments; lower is better).")
        Self.put("model_comparison.csv", variants, shown: true, &r)
        Self.put("nll_differences.csv", variants, shown: true, &r)
    }

    func correlations(_ variants: [Variant], _ r: inout ReportDraft) {
        guard variants.contains(where: { $0.tables["correlations.csv"] != nil }) else { return }
        r.md.heading("Correlations")
        r.md.paragraph("Max |r| over latents per block, one line per variant (the variants' reports add the smoothed curves, "
            + "permutation nulls, neuron baselines and held-out r; all are in `correlations.csv`).")
        var names: [String] = []
        for v in variants { for row in v.tables["correlations.csv"]?.rows ?? [] where !names.contains(row[0]) { names.append(row[0]) } }
        // `max |r|`, or `max r` / `max −r` where a variant's correlate block sets `sign`.
        let scores = Set(variants.compactMap { $0.tables["correlations.csv"].map { Self.scoreColumn($0.header) } })
        let score = scores.count == 1 ? scores.first! : "max score"
        for name in names {
            let series = variants.compactMap { v -> LinePlot.Series? in
                guard let t = v.tables["correlations.csv"] else { return nil }
                let rows = t.rows.filter { $0.first == name }
                guard !rows.isEmpty else { return nil }
                let sub = (header: t.header, rows: rows)
                return .init(v.label, x: Self.column(sub, "block"), y: Self.column(sub, Self.scoreColumn(t.header)), markers: rows.count < 12)
            }
            let file = "max_r_" + name.replacingOccurrences(of: ".", with: "_") + ".svg"
            r.figure(file, LinePlot(title: "\(score.prefix(1).uppercased() + score.dropFirst()) with \(name)", xLabel: "block",
                                    yLabel: "\(score) over latents", series: series, yRange: scores == ["max |r|"] ? 0...1 : nil),
                     alt: "\(score) with \(name) per block, one line per variant")
        }
        // Where each variant's curve peaks, and how far above its permutation null.
        var peaks = ReportTable(columns: ["variable", "variant", "peak block", score, "null 95 %", "held-out r", "latent"])
        for name in names {
            for v in variants {
                guard let t = v.tables["correlations.csv"] else { continue }
                let rows = t.rows.filter { $0.first == name }
                let sub = (header: t.header, rows: rows)
                let column = Self.scoreColumn(t.header), r = Self.column(sub, column)
                guard let best = r.indices.filter({ r[$0].isFinite }).max(by: { r[$0] < r[$1] }) else { continue }
                let value = { (c: String) in t.header.firstIndex(of: c).flatMap { rows[best][safe: $0] }.map(Self.cell) ?? .text("") }
                peaks.append([.text(name), .text(v.label), value("block"), value(column), value("null 95 %"), value("held-out r"), value("latent")])
            }
        }
        r.md.table(peaks)
        Self.put("correlations.csv", variants, shown: false, &r)
        Self.put("sae_quality.csv", variants, shown: false, &r)
    }

    func interventions(_ variants: [Variant], _ r: inout ReportDraft) {
        guard variants.contains(where: { $0.tables["interventions.csv"] != nil }) else { return }
        r.md.heading("Interventions")
        Self.put("interventions.csv", variants, shown: true, &r)
        Self.put("downstream.csv", variants, shown: false, &r)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
