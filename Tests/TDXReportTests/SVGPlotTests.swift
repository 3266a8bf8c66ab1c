import XCTest
@testable import TDXReport

final class SVGPlotTests: XCTestCase {
    func testLinePlotHasAxesTicksLegendBandsAndReferences() {
        let x = (0..<31).map(Double.init)
        let plot = LinePlot(
            title: "Max |r| with TD error", xLabel: "block", yLabel: "max |r|",
            series: [
                .init("SAE latents", x: x, y: x.map { 0.2 + 0.01 * $0 },
                      band: .init(lower: x.map { _ in 0.05 }, upper: x.map { _ in 0.15 }, label: "null 95 %")),
                .init("neurons", x: x, y: x.map { 0.1 + 0.005 * $0 }, style: .dashed),
            ],
            references: [ReferenceLine(0.25, label: "ceiling 25 %"), ReferenceLine(0.26, label: "random")])
        let p = assertValidSVG(plot.svg)
        for t in ["Max |r| with TD error", "block", "max |r|", "SAE latents", "null 95 %", "neurons",
                  "ceiling 25 %", "random", "0", "10", "30", "0.1", "0.5"] {
            XCTAssertTrue(p.texts.contains(t), "missing text \(t): \(p.texts)")
        }
        XCTAssertEqual(p.elements["polygon"], 1, "one band")
        XCTAssertEqual(p.elements["path"], 2, "two lines")
        XCTAssertTrue(plot.svg.contains("stroke-dasharray=\"6 4\""))
    }

    func testNaNBreaksTheLine() {
        let plot = LinePlot(title: "t", xLabel: "x", yLabel: "y",
                            series: [.init("s", x: [0, 1, 2, 3, 4, 5, 6], y: [1, 2, .nan, 3, 4, .nan, 5])])
        let p = assertValidSVG(plot.svg)
        XCTAssertEqual(p.elements["path"], 2, "two segments")
        XCTAssertEqual(p.elements["circle"], 1, "the lone last point is a dot")
    }

    func testDegenerateLinePlotsStillRender() {
        let cases: [[LinePlot.Series]] = [
            [],
            [.init("one", x: [3], y: [0.5])],
            [.init("flat", x: [0, 1, 2], y: [2, 2, 2])],
            [.init("all nan", x: [0, 1], y: [.nan, .nan], band: .init(lower: [.nan, 0], upper: [1, .nan]))],
            [.init("ragged", x: [0, 1, 2, 3], y: [1, 2], band: .init(lower: [0], upper: [1, 2, 3]))],
            [.init("inf", x: [0, .infinity, 2], y: [1, 2, -.infinity])],
        ]
        for s in cases {
            let p = assertValidSVG(LinePlot(title: "", xLabel: "", yLabel: "", series: s).svg)
            XCTAssertGreaterThanOrEqual(p.elements["text"] ?? 0, 4, "ticks are drawn even without data")
        }
        let fixed = LinePlot(title: "fixed", xLabel: "x", yLabel: "y", series: [.init("a", x: [0, 1], y: [-5, 5])],
                             yRange: 0...1)
        XCTAssertTrue(assertValidSVG(fixed.svg).texts.contains("1.0"))
    }

    func testBarChartWithCIs() {
        let conditions = ["intact", "TD-latent lesion", "control lesion", "full reconstruction"]
        let chart = BarChart(
            title: "Lesion effects", yLabel: "value", groups: ["return", "consistency with Q-learning choices over all the episodes"],
            series: conditions.enumerated().map { i, c in
                .init(c, values: [.init(0.7 - 0.1 * Double(i), lower: 0.65 - 0.1 * Double(i), upper: 0.75 - 0.1 * Double(i)),
                                  .init(0.9 - 0.2 * Double(i))])
            },
            references: [ReferenceLine(0.5, label: "random")], showValues: true)
        let p = assertValidSVG(chart.svg)
        for t in conditions + ["return", "random", "0.70", "0.40", "Lesion effects"] {
            XCTAssertTrue(p.texts.contains(t), "missing \(t): \(p.texts)")
        }
        let wrapped = p.texts.filter { "consistency with Q-learning choices over all the episodes".contains($0) && $0.count > 3 }
        XCTAssertEqual(wrapped.joined(separator: " "), "consistency with Q-learning choices over all the episodes",
                       "a long group label wraps onto lines")
        XCTAssertGreaterThan(wrapped.count, 1)
        // 8 bars and 4 legend boxes (plus the background and clip rects).
        XCTAssertEqual(p.elements["rect"], 8 + 4 + 2)
        XCTAssertEqual(p.elements["line"].map { $0 >= 4 * 3 }, true, "error bars with caps")
    }

    func testBarChartNegativeAndDegenerate() {
        let neg = BarChart(title: "Δr", yLabel: "Δ max |r|", groups: ["a", "b"],
                           series: [.init("", values: [.init(-0.2, lower: -0.3, upper: -0.1), .init(0.1)])],
                           showValues: true)
        let p = assertValidSVG(neg.svg)
        XCTAssertTrue(p.texts.contains("-0.20"))
        XCTAssertTrue(p.texts.contains("0.0"), "zero tick on a range spanning zero")
        for chart in [
            BarChart(title: "", yLabel: "", groups: [], series: []),
            BarChart(title: "x", yLabel: "y", groups: ["g"], series: [.init("s", values: [.init(.nan)])], showValues: true),
            BarChart(title: "x", yLabel: "y", groups: ["g"], series: [.init("s", values: [.init(0)])]),
            BarChart(title: "x", yLabel: "y", groups: ["a", "b"], series: [.init("s", values: [.init(1)])], yRange: 0...0.5),
        ] {
            assertValidSVG(chart.svg)
        }
    }

    func testScatterPanelsWithLabelsAndLegend() {
        let nodes = (0..<15).map { i in
            ScatterPlot.Point(x: cos(Double(i)) + Double(i / 5) * 3, y: sin(Double(i)), label: "node \(i)", group: i / 5)
        }
        let plot = ScatterPlot(title: "MDS of node representations", xLabel: "MDS 1", yLabel: "MDS 2",
                               groupNames: ["community A", "community B", "community C"],
                               panels: [.init("intact", points: nodes),
                                        .init("lesioned", points: nodes.map { var p = $0; p.x *= 0.3; return p })],
                               equalAspect: true)
        let p = assertValidSVG(plot.svg)
        XCTAssertEqual(p.elements["circle"], 30 + 3)
        for t in ["intact", "lesioned", "community B", "node 14", "MDS 1", "MDS 2"] {
            XCTAssertTrue(p.texts.contains(t), "missing \(t)")
        }
        XCTAssertEqual(p.texts.filter { $0 == "MDS 2" }.count, 1, "y label only on the first panel")
    }

    func testScatterEqualAspectUsesOneScale() {
        let plot = ScatterPlot(title: "", panels: [.init("", points: [.init(x: 0, y: 0), .init(x: 10, y: 1)])],
                               equalAspect: true, width: 500, height: 400)
        // Pixels per unit along x equal pixels per unit along y: compare the spacing of consecutive ticks.
        let svg = plot.svg
        assertValidSVG(svg)
        func tickPositions(_ attr: String) -> [Double] {
            // Tick marks are 5 px long lines; pick their fixed coordinate.
            let pattern = attr == "x" ? "<line x1=\"([0-9.]+)\" y1=\"[0-9.]+\" x2=\"\\1\" y2=\"[0-9.]+\" stroke=\"#333333\""
                                      : "<line x1=\"[0-9.]+\" y1=\"([0-9.]+)\" x2=\"[0-9.]+\" y2=\"\\1\" stroke=\"#333333\""
            let re = try! NSRegularExpression(pattern: pattern)
            return re.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).compactMap {
                Range($0.range(at: 1), in: svg).flatMap { Double(svg[$0]) }
            }
        }
        let xs = tickPositions("x"), ys = tickPositions("y")
        XCTAssertGreaterThan(xs.count, 2)
        XCTAssertGreaterThan(ys.count, 2)
        XCTAssertEqual(abs(xs[2] - xs[1]), abs(ys[2] - ys[1]), accuracy: 0.05)
    }

    func testDegenerateScatter() {
        for panels in [[], [ScatterPlot.Panel("one", points: [.init(x: 1, y: 1, label: "only")])],
                       [ScatterPlot.Panel("nan", points: [.init(x: .nan, y: 1), .init(x: 2, y: 2), .init(x: 2, y: 2)])]] {
            for equal in [false, true] {
                assertValidSVG(ScatterPlot(title: "t", groupNames: ["g"], panels: panels, equalAspect: equal).svg)
            }
        }
    }

    func testTextIsEscaped() {
        let plot = LinePlot(title: "a < b & \"c\"", xLabel: "x'", yLabel: "y\u{1}",
                            series: [.init("<script>", x: [0, 1], y: [0, 1]), .init("b", x: [0], y: [1])])
        let p = assertValidSVG(plot.svg)
        XCTAssertTrue(p.texts.contains("a < b & \"c\""), "\(p.texts)")
        XCTAssertTrue(p.texts.contains("<script>"))
    }
}
