/// Grouped bars with optional error bars (CIs): `groups` along the x axis, one bar per series in
/// each group, e.g. metrics × conditions {intact, TD-latent lesion, control lesion, full reconstruction}.
public struct BarChart: SVGFigure, Equatable {
    /// One bar: its height and an optional interval drawn as an error bar (NaN bounds mean none).
    public struct Value: Sendable, Equatable {
        public var value: Double
        public var lower: Double
        public var upper: Double

        public init(_ value: Double, lower: Double = .nan, upper: Double = .nan) {
            self.value = value; self.lower = lower; self.upper = upper
        }

        public static func == (a: Value, b: Value) -> Bool {
            same(a.value, b.value) && same(a.lower, b.lower) && same(a.upper, b.upper)
        }
        private static func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
    }

    public struct Series: Sendable, Equatable {
        public var name: String
        /// One value per group, in the order of `groups`; missing ones are left empty.
        public var values: [Value]
        /// Palette index; nil uses the series' position.
        public var color: Int?

        public init(_ name: String, values: [Value], color: Int? = nil) {
            self.name = name; self.values = values; self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var groups: [String]
    public var series: [Series]
    public var references: [ReferenceLine]
    /// Writes each bar's value above it.
    public var showValues: Bool
    public var valueStyle: NumberStyle
    /// A fixed y range; nil fits zero, the values, the intervals and the references.
    public var yRange: ClosedRange<Double>?
    public var width: Double
    public var height: Double

    public init(title: String, xLabel: String = "", yLabel: String, groups: [String], series: [Series],
                references: [ReferenceLine] = [], showValues: Bool = false,
                valueStyle: NumberStyle = .fixed(decimals: 2), yRange: ClosedRange<Double>? = nil,
                width: Double = 640, height: Double = 400) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.groups = groups
        self.series = series; self.references = references; self.showValues = showValues
        self.valueStyle = valueStyle; self.yRange = yRange; self.width = width; self.height = height
    }

    public var svg: String {
        var all = series.flatMap { $0.values.flatMap { [$0.value, $0.lower, $0.upper] } } + references.map(\.value)
        if showValues, let lo = (all + [0]).filter(\.isFinite).min(), let hi = (all + [0]).filter(\.isFinite).max() {
            // Headroom so value labels sit inside the plot rather than on the axis.
            all += [hi + 0.08 * (hi - lo), lo < 0 ? lo - 0.08 * (hi - lo) : 0]
        }
        let yAxis = yRange.map { Axis.fixed($0.lowerBound, $0.upperBound) } ?? Axis.covering(all, includeZero: true)
        let legend = series.count > 1 || (series.count == 1 && !series[0].name.isEmpty && groups.count > 1)
            ? series.enumerated().map { LegendEntry(swatch: .box(color: Palette.color($1.color ?? $0)), label: $1.name) }
            : []
        let left = Chrome.leftMargin(yAxis, hasLabel: !yLabel.isEmpty)
        let top = Chrome.top(hasTitle: !title.isEmpty)
        let refLabels = Chrome.visible(references, yAxis).map(\.label)
        let groupCount = max(groups.count, series.map(\.values.count).max() ?? 0, 1)
        // Group labels wrap to the band width, which depends on the legend; a first pass with one
        // line sizes the band.
        let (probe, _) = Chrome.place(width: width, height: height, left: left, top: top, bottomMargin: 0,
                                      legend: legend, referenceLabels: refLabels)
        let wrapped = (0..<groupCount).map { g in
            wrap(g < groups.count ? groups[g] : "", width: probe.width / Double(groupCount) - 4)
        }
        let labelLines = Double(wrapped.map(\.count).max() ?? 1)
        let (r, legendLayout) = Chrome.place(
            width: width, height: height, left: left, top: top,
            bottomMargin: 14 + labelLines * 13 + (xLabel.isEmpty ? 6 : 28), legend: legend, referenceLabels: refLabels)
        let band = r.width / Double(groupCount)

        var b = SVGBuilder()
        Chrome.title(title, width: width, into: &b)
        Chrome.yAxis(yAxis, rect: r, label: yLabel, into: &b)
        let py = { (v: Double) in yAxis.map(v, r.bottom, r.top) }
        let base = py(min(max(0, yAxis.lo), yAxis.hi))
        b.raw("<clipPath id=\"plot-area\"><rect x=\"\(n(r.left))\" y=\"\(n(r.top))\" width=\"\(n(r.width))\" height=\"\(n(r.height))\"/></clipPath>")
        b.raw("<g clip-path=\"url(#plot-area)\">")
        // Bars no wider than 90 px, centred in their group, so a lone bar does not fill the plot.
        let barW = min(band * 0.8 / Double(max(series.count, 1)), 90)
        let inset = (band - barW * Double(series.count)) / 2
        var valueLabels: [(String, Double, Double)] = []
        for (s, ser) in series.enumerated() {
            let c = Palette.color(ser.color ?? s)
            for (g, v) in ser.values.enumerated() where g < groupCount {
                let x = r.left + Double(g) * band + inset + Double(s) * barW
                let cx = x + barW / 2
                if v.value.isFinite {
                    let y = py(v.value)
                    b.rect(x + 1, min(y, base), barW - 2, abs(y - base), fill: c)
                }
                if v.lower.isFinite && v.upper.isFinite {
                    let cap = min(barW * 0.25, 6)
                    let (yl, yu) = (py(v.lower), py(v.upper))
                    b.line(cx, yl, cx, yu, stroke: "#222222", width: 1.5)
                    b.line(cx - cap, yl, cx + cap, yl, stroke: "#222222", width: 1.5)
                    b.line(cx - cap, yu, cx + cap, yu, stroke: "#222222", width: 1.5)
                }
                if showValues {
                    let text = NumberFormat.format(v.value, valueStyle)
                    let down = v.value.isFinite && v.value < 0
                    let edge = down ? [v.value, v.lower].filter(\.isFinite).min() ?? 0
                                    : [v.value, v.upper].filter(\.isFinite).max() ?? 0
                    let y = down ? py(edge) + 13 : py(edge) - 5
                    valueLabels.append((text, cx, min(max(y, r.top + 10), r.bottom - 3)))
                }
            }
        }
        b.raw("</g>")
        for (text, x, y) in valueLabels { b.text(text, x: x, y: y, size: 10, anchor: .middle, halo: true) }
        b.line(r.left, base, r.right, base, stroke: Chrome.axisColor)
        if base != r.bottom { b.line(r.left, r.bottom, r.right, r.bottom, stroke: Chrome.gridColor) }
        for (g, lines) in wrapped.enumerated() {
            let cx = r.left + (Double(g) + 0.5) * band
            for (k, line) in lines.enumerated() {
                b.text(line, x: cx, y: r.bottom + 16 + Double(k) * 13, size: Chrome.tickSize, anchor: .middle)
            }
        }
        if !xLabel.isEmpty {
            b.text(xLabel, x: (r.left + r.right) / 2, y: r.bottom + 16 + labelLines * 13 + 10,
                   size: Chrome.labelSize, anchor: .middle)
        }
        Chrome.references(references, axis: yAxis, rect: r, into: &b)
        Chrome.legend(legend, legendLayout, into: &b)
        return b.document(width: width, height: height, title: title)
    }
}

/// Greedy word wrap to lines of roughly `width` pixels at tick size, at most three lines.
func wrap(_ s: String, width: Double) -> [String] {
    let maxChars = max(3, Int(width / (Chrome.tickSize * 0.58)))
    var lines: [String] = [], cur = ""
    for word in s.split(separator: " ").map(String.init) {
        if cur.isEmpty { cur = word } else if cur.count + 1 + word.count <= maxChars { cur += " " + word } else {
            lines.append(cur); cur = word
        }
    }
    lines.append(cur)
    if lines.count > 3 { lines = Array(lines.prefix(3)); lines[2] = Chrome.truncate(lines[2] + "…", maxChars) }
    return lines.map { Chrome.truncate($0, maxChars) }
}
