import Foundation
@testable import TDXReport

/// A made-up Two-Step report with every section the report stage writes; the golden test pins
/// its files and it doubles as a usage example of the TDXReport API.
enum ExampleReport {
    static let blocks = (0..<31).map(Double.init)

    static func build(into directory: URL) -> ReportWriter {
        var w = ReportWriter(directory: directory)
        var md = MarkdownReport(title: "Two-Step Task — quick")
        md.keyValueTable([
            ("spec", "specs/quick.tdx"),
            ("spec digest", "3f1c9a0e5b7d2c4a"),
            ("model", "SmolLM2-135M-Instruct"),
            ("model SHA-256", "9d2e4b6a8c0f1e3d5b7a9c1e3f5d7b9a1c3e5f7d9b1a3c5e7f9d1b3a5c7e9f1d"),
            ("tdx version", "0.1.0"),
        ], header: ("Provenance", ""), codeValues: true)
        md.heading("Stage keys", level: 3)
        let stages = ReportTable(columns: ["stage", "key"], rows: [
            ["rollout", .text(Markdown.code("a1b2c3d4e5f60718"))],
            ["behaviour", .text(Markdown.code("0f1e2d3c4b5a6978"))],
            ["sae[12]", .text(Markdown.code("1122334455667788"))],
            ["correlate[12]", .text(Markdown.code("8877665544332211"))],
            ["intervene", .text(Markdown.code("deadbeefcafef00d"))],
        ])
        md.table(stages)

        // Behaviour
        md.heading("Behaviour")
        let episodes = (1...30).map(Double.init)
        let mean = episodes.map { 0.5 + 0.12 * (1 - exp(-$0 / 8)) }
        let returns = LinePlot(
            title: "Return per episode", xLabel: "episode", yLabel: "mean return",
            series: [.init("model (mean of 100 experiments)", x: episodes, y: mean,
                           band: .init(lower: mean.map { $0 - 0.04 }, upper: mean.map { $0 + 0.04 }, label: "95 % CI"))],
            references: [ReferenceLine(0.5, label: "random"), ReferenceLine(0.68, label: "optimal", style: .dotted)],
            yRange: 0.3...0.8)
        w.add("behaviour.svg", figure: returns)
        md.image("behaviour.svg", alt: "Return per episode with random and optimal references")
        md.paragraph("Mean return over the last 10 episodes: **0.617** (random 0.500, optimal 0.680).")

        // Model comparison
        md.heading("Model comparison")
        let models = ReportTable(columns: ["model", "NLL", "AIC", "BIC", "α", "β", "γ"], rows: [
            ["Q-learning", .number(2729.41, .fixed(decimals: 1)), .number(5464.82, .fixed(decimals: 1)),
             .number(5482.2, .fixed(decimals: 1)), 0.1, 4.2, 0.99],
            ["myopic", .number(2864.07, .fixed(decimals: 1)), .number(5732.14, .fixed(decimals: 1)),
             .number(5743.7, .fixed(decimals: 1)), 0.12, 3.9, .number(.nan)],
            ["repetition", .number(5745.5, .fixed(decimals: 1)), .number(11493.0, .fixed(decimals: 1)),
             .number(11498.8, .fixed(decimals: 1)), .number(.nan), 0.8, .number(.nan)],
        ])
        md.table(models)
        w.add("model_comparison.csv", table: models)

        // Representations
        md.heading("Latent–variable correlations")
        let raw = blocks.map { 0.18 + 0.4 * exp(-pow(($0 - 20) / 6, 2)) }
        let smooth = raw.indices.map { i in
            let lo = max(0, i - 1), hi = min(raw.count - 1, i + 1)
            return raw[lo...hi].reduce(0, +) / Double(hi - lo + 1)
        }
        var neurons = blocks.map { 0.12 + 0.15 * exp(-pow(($0 - 20) / 8, 2)) }
        neurons[5] = .nan  // a block whose baseline was not computed: the line breaks
        let maxR = LinePlot(
            title: "Max |r| with TD error per block", xLabel: "block", yLabel: "max |r|",
            series: [
                .init("SAE latents (raw)", x: blocks, y: raw,
                      band: .init(lower: blocks.map { _ in 0 }, upper: blocks.map { 0.1 + 0.001 * $0 },
                                  label: "permutation null 95 %")),
                .init("SAE latents (smoothed)", x: blocks, y: smooth, style: .dashed),
                .init("raw neurons", x: blocks, y: neurons, style: .dotted, color: 6),
            ])
        w.add("max_r_td.svg", figure: maxR)
        md.image("max_r_td.svg", alt: "Max |r| with TD error per block")
        var maxRTable = ReportTable(columns: ["block", "max |r| raw", "smoothed", "null 95 %", "neurons"])
        for i in stride(from: 0, to: blocks.count, by: 10) {
            maxRTable.append([.int(Int(blocks[i])), .number(raw[i]), .number(smooth[i]),
                              .number(0.1 + 0.001 * blocks[i]), .number(neurons[i])])
        }
        md.table(maxRTable)
        w.add("max_r_td.csv", table: maxRTable)
        md.paragraph("Held-out r of the best latent (block 20, latent 417): **0.552**.")

        // SAE quality
        md.heading("SAE quality")
        let sae = ReportTable(columns: ["block", "FVE", "L0", "dead latents"], rows: [
            [12, 0.912, .number(31.4, .fixed(decimals: 1)), .number(0.021, .percent(decimals: 1))],
            [20, 0.874, .number(44.9, .fixed(decimals: 1)), .number(0.0004, .percent(decimals: 1))],
        ])
        md.table(sae)
        w.add("sae_quality.csv", table: sae)

        // Interventions
        md.heading("Interventions")
        let conditions = ["intact", "TD-latent lesion", "control lesion", "full reconstruction"]
        let effects: [[BarChart.Value]] = [
            [.init(0.617, lower: 0.60, upper: 0.634), .init(0.81, lower: 0.78, upper: 0.84)],
            [.init(0.531, lower: 0.512, upper: 0.55), .init(0.52, lower: 0.48, upper: 0.56)],
            [.init(0.611, lower: 0.593, upper: 0.629), .init(0.79, lower: 0.76, upper: 0.82)],
            [.init(0.605, lower: 0.587, upper: 0.623), .init(0.77, lower: 0.74, upper: 0.80)],
        ]
        let bars = BarChart(
            title: "Lesion effects (95 % bootstrap CI)", yLabel: "value", groups: ["mean return", "Q-learning consistency"],
            series: zip(conditions, effects).map { BarChart.Series($0, values: $1) },
            references: [ReferenceLine(0.5, label: "random")], showValues: true, yRange: 0...1)
        w.add("interventions.svg", figure: bars)
        md.image("interventions.svg", alt: "Lesion effects with bootstrap CIs")
        var effTable = ReportTable(columns: ["condition", "return", "CI low", "CI high", "Q consistency"])
        for (c, e) in zip(conditions, effects) {
            effTable.append([.text(c), .number(e[0].value), .number(e[0].lower), .number(e[0].upper), .number(e[1].value)])
        }
        md.table(effTable)
        w.add("interventions.csv", table: effTable)

        // Geometry
        md.heading("Geometry (graph task)")
        let nodes = (0..<15).map { i -> ScatterPlot.Point in
            let community = i / 5, k = Double(i % 5)
            let angle = Double(community) * 2 * Double.pi / 3
            return .init(x: 2 * cos(angle) + 0.5 * cos(k * 1.3), y: 2 * sin(angle) + 0.5 * sin(k * 1.3),
                         label: ["dog", "cat", "horse", "cow", "sheep", "car", "bus", "train", "boat", "plane",
                                 "apple", "pear", "plum", "grape", "lemon"][i], group: community)
        }
        let lesioned = nodes.enumerated().map { i, p in
            ScatterPlot.Point(x: p.x * 0.4 + 0.3 * sin(Double(i)), y: p.y * 0.4 + 0.3 * cos(Double(i) * 2),
                              label: p.label, group: p.group)
        }
        let mds = ScatterPlot(
            title: "MDS of node representations (block 20)", xLabel: "MDS 1", yLabel: "MDS 2",
            groupNames: ["animals", "vehicles", "fruit"],
            panels: [.init("intact (community score 0.91)", points: nodes),
                     .init("TD-latent lesion (0.34)", points: lesioned)],
            equalAspect: true, sharedAxes: true)
        w.add("mds.svg", figure: mds)
        md.image("mds.svg", alt: "MDS intact vs lesioned")
        md.codeBlock("tdx run specs/quick.tdx\n", language: "sh")

        w.add("report.md", text: md.text)
        return w
    }
}
