/// Several named series against a numeric x axis, each with an optional shaded band (a CI or a
/// permutation-null 95 % band), plus labelled horizontal reference lines. NaN points break a line.
public struct LinePlot: SVGFigure, Equatable {
    public struct Band: Sendable, Equatable {
        public var lower: [Double]
        public var upper: [Double]
        /// Legend text for the band alone; nil draws it under the series' own legend entry.
        public var label: String?

        public init(lower: [Double], upper: [Double], label: String? = nil) {
            self.lower = lower; self.upper = upper; self.label = label
        }
    }

    public struct Series: Sendable, Equatable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var band: Band?
        public var style: LineStyle
        /// Draws a dot at every point (useful for sparse series).
        public var markers: Bool
        /// Palette index; nil uses the series' position.
        public var color: Int?

        public init(_ name: String, x: [Double], y: [Double], band: Band? = nil, style: LineStyle = .solid,
                    markers: Bool = false, color: Int? = nil) {
            self.name = name; self.x = x; self.y = y; self.band = band
            self.style = style; self.markers = markers; self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var references: [ReferenceLine]
    /// A fixed y range (e.g. 0…1 for accuracies); nil fits the data, bands and references.
    public var yRange: ClosedRange<Double>?
    public var width: Double
    public var height: Double

    public init(title: String, xLabel: String, yLabel: String, series: [Series] = [],
                references: [ReferenceLine] = [], yRange: ClosedRange<Double>? = nil,
                width: Double = 640, height: Double = 400) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series
        self.references = references; self.yRange = yRange; self.width = width; self.height = height
    }

    public var svg: String {
        let xAxis = Axis.covering(series.flatMap(\.x))
        let yValues = series.flatMap { s in s.y + (s.band.map { $0.lower + $0.upper } ?? []) } + references.map(\.value)
        let yAxis = yRange.map { Axis.fixed($0.lowerBound, $0.upperBound) } ?? Axis.covering(yValues)

        var legend: [LegendEntry] = []
        for (i, s) in series.enumerated() {
            let c = Palette.color(s.color ?? i)
            if let band = s.band, let label = band.label {
                legend.append(LegendEntry(swatch: .line(color: c, dash: s.style.dashArray), label: s.name))
                legend.append(LegendEntry(swatch: .band(color: c), label: label))
            } else {
                let swatch: LegendEntry.Swatch = s.band == nil ? .line(color: c, dash: s.style.dashArray)
                    : .lineWithBand(color: c, dash: s.style.dashArray)
                legend.append(LegendEntry(swatch: swatch, label: s.name))
            }
        }
        if series.count == 1 && series[0].band == nil { legend = [] }

        let (r, legendLayout) = Chrome.place(
            width: width, height: height, left: Chrome.leftMargin(yAxis, hasLabel: !yLabel.isEmpty),
            top: Chrome.top(hasTitle: !title.isEmpty), bottomMargin: Chrome.bottomMargin(hasLabel: !xLabel.isEmpty),
            legend: legend, referenceLabels: Chrome.visible(references, yAxis).map(\.label))

        var b = SVGBuilder()
        Chrome.title(title, width: width, into: &b)
        Chrome.yAxis(yAxis, rect: r, label: yLabel, into: &b)
        Chrome.xAxis(xAxis, rect: r, label: xLabel, into: &b)
        b.raw("<clipPath id=\"plot-area\"><rect x=\"\(n(r.left))\" y=\"\(n(r.top - 1))\" width=\"\(n(r.width + 1))\" height=\"\(n(r.height + 2))\"/></clipPath>")
        b.raw("<g clip-path=\"url(#plot-area)\">")
        let px = { (v: Double) in xAxis.map(v, r.left, r.right) }
        let py = { (v: Double) in yAxis.map(v, r.bottom, r.top) }
        // Bands first so every line is drawn over every band.
        for (i, s) in series.enumerated() {
            guard let band = s.band else { continue }
            let c = Palette.color(s.color ?? i)
            let m = min(s.x.count, band.lower.count, band.upper.count)
            for run in finiteRuns(m, { s.x[$0].isFinite && band.lower[$0].isFinite && band.upper[$0].isFinite }) {
                let top = run.map { (px(s.x[$0]), py(band.upper[$0])) }
                let bottom = run.reversed().map { (px(s.x[$0]), py(band.lower[$0])) }
                if run.count == 1 {
                    b.line(top[0].0, top[0].1, bottom[0].0, bottom[0].1, stroke: c, width: 4, opacity: 0.25)
                } else {
                    b.polygon(top + bottom, fill: c, opacity: 0.2)
                }
            }
        }
        for (i, s) in series.enumerated() {
            let c = Palette.color(s.color ?? i)
            let m = min(s.x.count, s.y.count)
            for run in finiteRuns(m, { s.x[$0].isFinite && s.y[$0].isFinite }) {
                let pts = run.map { (px(s.x[$0]), py(s.y[$0])) }
                // A lone point between gaps would otherwise vanish.
                if pts.count == 1 { b.circle(pts[0].0, pts[0].1, r: 3, fill: c, stroke: nil) }
                b.polyline(pts, stroke: c, width: 2, dash: s.style.dashArray)
                if s.markers && pts.count > 1 { for p in pts { b.circle(p.0, p.1, r: 3, fill: c) } }
            }
        }
        b.raw("</g>")
        Chrome.references(references, axis: yAxis, rect: r, into: &b)
        Chrome.legend(legend, legendLayout, into: &b)
        return b.document(width: width, height: height, title: title)
    }
}

/// Maximal runs of consecutive indices in 0..<count where `ok` holds.
func finiteRuns(_ count: Int, _ ok: (Int) -> Bool) -> [[Int]] {
    var runs: [[Int]] = [], cur: [Int] = []
    for i in 0..<count {
        if ok(i) { cur.append(i) } else if !cur.isEmpty { runs.append(cur); cur = [] }
    }
    if !cur.isEmpty { runs.append(cur) }
    return runs
}
