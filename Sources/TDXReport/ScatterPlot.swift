/// Labelled points coloured by group, in one or more panels side by side (e.g. MDS of graph nodes,
/// intact vs lesioned), with an optional equal aspect so distances read true.
public struct ScatterPlot: SVGFigure, Equatable {
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public var label: String
        /// Index into `groupNames` and the palette.
        public var group: Int

        public init(x: Double, y: Double, label: String = "", group: Int = 0) {
            self.x = x; self.y = y; self.label = label; self.group = group
        }
    }

    public struct Panel: Sendable, Equatable {
        public var title: String
        public var points: [Point]

        public init(_ title: String, points: [Point]) { self.title = title; self.points = points }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Legend names of the groups (e.g. communities); empty hides the legend.
    public var groupNames: [String]
    public var panels: [Panel]
    /// One data unit is the same length on both axes.
    public var equalAspect: Bool
    /// All panels use the same ranges (so spread can be compared); otherwise each fits its own points.
    public var sharedAxes: Bool
    public var width: Double
    public var height: Double

    public init(title: String, xLabel: String = "", yLabel: String = "", groupNames: [String] = [],
                panels: [Panel], equalAspect: Bool = false, sharedAxes: Bool = false,
                width: Double = 760, height: Double = 420) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.groupNames = groupNames
        self.panels = panels; self.equalAspect = equalAspect; self.sharedAxes = sharedAxes
        self.width = width; self.height = height
    }

    public var svg: String {
        let legend = groupNames.enumerated().map { LegendEntry(swatch: .marker(color: Palette.color($0)), label: $1) }
        let shown = panels.isEmpty ? [Panel("", points: [])] : panels
        let top = Chrome.top(hasTitle: !title.isEmpty) + (shown.contains { !$0.title.isEmpty } ? 20 : 0)
        let (area, legendLayout) = Chrome.place(width: width, height: height, left: 0, top: top,
                                                bottomMargin: Chrome.bottomMargin(hasLabel: !xLabel.isEmpty),
                                                legend: legend)
        let panelW = (area.right + 4) / Double(shown.count)
        let allPoints = shown.flatMap(\.points)

        var b = SVGBuilder()
        Chrome.title(title, width: width, into: &b)
        for (k, panel) in shown.enumerated() {
            let pts = (sharedAxes ? allPoints : panel.points).filter { $0.x.isFinite && $0.y.isFinite }
            // A provisional y axis sizes the left margin; the final one depends on the plot's shape.
            let probe = Axis.covering(padded(pts.map(\.y)))
            let x0 = Double(k) * panelW
            let r = PlotRect(left: x0 + Chrome.leftMargin(probe, hasLabel: k == 0 && !yLabel.isEmpty),
                             right: x0 + panelW - 12, top: area.top, bottom: area.bottom)
            let (xAxis, yAxis) = axes(pts, rect: r)
            if !panel.title.isEmpty {
                b.text(panel.title, x: (r.left + r.right) / 2, y: top - 10, size: Chrome.labelSize,
                       anchor: .middle, weight: "bold")
            }
            Chrome.yAxis(yAxis, rect: r, label: k == 0 ? yLabel : "", into: &b)
            Chrome.xAxis(xAxis, rect: r, label: xLabel, into: &b)
            let visible = panel.points.filter { $0.x.isFinite && $0.y.isFinite }
            let centres = visible.map { (xAxis.map($0.x, r.left, r.right), yAxis.map($0.y, r.bottom, r.top)) }
            for (p, c) in zip(visible, centres) { b.circle(c.0, c.1, r: 5, fill: Palette.color(p.group)) }
            // Labels after all points so no point covers a label.
            let labels = visible.map(\.label)
            for (i, spot) in LabelPlacer.place(labels, at: centres, in: r).enumerated() where !labels[i].isEmpty {
                b.text(labels[i], x: spot.x, y: spot.y, size: 10, anchor: spot.anchor, halo: true)
            }
        }
        Chrome.legend(legend, legendLayout, into: &b)
        return b.document(width: width, height: height, title: title)
    }

    private func axes(_ pts: [Point], rect r: PlotRect) -> (Axis, Axis) {
        let xs = padded(pts.map(\.x)), ys = padded(pts.map(\.y))
        guard equalAspect, let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else {
            return (Axis.covering(xs), Axis.covering(ys))
        }
        let unit = max((x1 - x0) / r.width, (y1 - y0) / r.height)
        let (cx, cy) = ((x0 + x1) / 2, (y0 + y1) / 2)
        let (hw, hh) = (unit * r.width / 2, unit * r.height / 2)
        // Both axes share one tick step so the grid is square too.
        let step = Axis.niceStep(2 * max(hw, hh) / 5)
        return (Axis.fixed(cx - hw, cx + hw, step: step), Axis.fixed(cy - hh, cy + hh, step: step))
    }
}

/// The range of `values` widened by 10 % on each side (a unit when there is no spread), so
/// points do not sit on the axes.
func padded(_ values: [Double]) -> [Double] {
    let v = values.filter(\.isFinite)
    guard let lo = v.min(), let hi = v.max() else { return [] }
    let pad = hi > lo ? (hi - lo) * 0.1 : max(abs(lo) * 0.1, 1)
    return [lo - pad, hi + pad]
}
