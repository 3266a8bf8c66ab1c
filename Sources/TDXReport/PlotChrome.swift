/// The plot rectangle in pixels (y grows downwards: `top` < `bottom`).
struct PlotRect {
    var left: Double, right: Double, top: Double, bottom: Double
    var width: Double { right - left }
    var height: Double { bottom - top }
}

/// One legend row: a swatch and its label.
struct LegendEntry {
    enum Swatch {
        case line(color: String, dash: String?)
        case band(color: String)
        case lineWithBand(color: String, dash: String?)
        case marker(color: String)
        case box(color: String)
    }
    var swatch: Swatch
    var label: String
}

/// Titles, axes and legends shared by every plot kind.
enum Chrome {
    static let titleSize = 15.0, labelSize = 12.0, tickSize = 11.0, legendSize = 11.0
    static let axisColor = "#333333", gridColor = "#e3e3e3"
    static let legendRow = 18.0

    /// Space the legend needs on the right; zero when there is nothing to explain.
    static func legendWidth(_ entries: [LegendEntry], canvasWidth: Double) -> Double {
        guard !entries.isEmpty else { return 0 }
        let widest = entries.map { textWidth($0.label, size: legendSize) }.max() ?? 0
        return min(34 + widest + 14, canvasWidth * 0.4)
    }

    static func legend(_ entries: [LegendEntry], x: Double, y: Double, maxWidth: Double, into b: inout SVGBuilder) {
        let maxChars = max(4, Int((maxWidth - 48) / (legendSize * 0.58) + 0.5))
        for (i, e) in entries.enumerated() {
            let cy = y + Double(i) * legendRow + legendRow / 2
            switch e.swatch {
            case .line(let c, let dash):
                b.line(x, cy, x + 24, cy, stroke: c, width: 2.5, dash: dash)
            case .band(let c):
                b.rect(x, cy - 6, 24, 12, fill: c, opacity: 0.2)
            case .lineWithBand(let c, let dash):
                b.rect(x, cy - 6, 24, 12, fill: c, opacity: 0.2)
                b.line(x, cy, x + 24, cy, stroke: c, width: 2.5, dash: dash)
            case .marker(let c):
                b.circle(x + 12, cy, r: 5, fill: c, stroke: nil)
            case .box(let c):
                b.rect(x + 4, cy - 6, 16, 12, fill: c)
            }
            b.text(truncate(e.label, maxChars), x: x + 30, y: cy + 4, size: legendSize)
        }
    }

    static func title(_ s: String, width: Double, into b: inout SVGBuilder) {
        guard !s.isEmpty else { return }
        b.text(s, x: width / 2, y: 22, size: titleSize, anchor: .middle, weight: "bold")
    }

    /// Top margin: room for the title when there is one.
    static func top(hasTitle: Bool) -> Double { hasTitle ? 40 : 14 }

    /// Left margin: the y label plus the widest tick label.
    static func leftMargin(_ axis: Axis, hasLabel: Bool) -> Double {
        let widest = axis.ticks.map { textWidth(axis.label($0), size: tickSize) }.max() ?? 0
        return (hasLabel ? 26 : 8) + widest + 10
    }

    static func bottomMargin(hasLabel: Bool) -> Double { hasLabel ? 50 : 30 }

    /// The y axis with tick labels and light horizontal grid lines across the plot.
    static func yAxis(_ axis: Axis, rect r: PlotRect, label: String, into b: inout SVGBuilder) {
        for t in axis.ticks {
            let y = axis.map(t, r.bottom, r.top)
            if abs(y - r.bottom) > 0.5 { b.line(r.left, y, r.right, y, stroke: gridColor) }
            b.line(r.left - 5, y, r.left, y, stroke: axisColor)
            b.text(axis.label(t), x: r.left - 8, y: y + 4, size: tickSize, anchor: .end)
        }
        b.line(r.left, r.top, r.left, r.bottom, stroke: axisColor)
        if !label.isEmpty {
            let x = 16.0, y = (r.top + r.bottom) / 2
            b.text(label, x: x, y: y, size: labelSize, anchor: .middle, rotate: -90)
        }
    }

    /// The x axis with tick labels; the label sits centred under the plot.
    static func xAxis(_ axis: Axis, rect r: PlotRect, label: String, into b: inout SVGBuilder) {
        b.line(r.left, r.bottom, r.right, r.bottom, stroke: axisColor)
        for t in axis.ticks {
            let x = axis.map(t, r.left, r.right)
            b.line(x, r.bottom, x, r.bottom + 5, stroke: axisColor)
            b.text(axis.label(t), x: x, y: r.bottom + 18, size: tickSize, anchor: .middle)
        }
        xLabel(label, rect: r, into: &b)
    }

    static func xLabel(_ label: String, rect r: PlotRect, into b: inout SVGBuilder) {
        guard !label.isEmpty else { return }
        b.text(label, x: (r.left + r.right) / 2, y: r.bottom + 40, size: labelSize, anchor: .middle)
    }

    /// Horizontal reference lines with labels at their right end, nudged apart when they crowd.
    static func references(_ refs: [ReferenceLine], axis: Axis, rect r: PlotRect, into b: inout SVGBuilder) {
        let visible = refs.filter { $0.value.isFinite && $0.value >= axis.lo && $0.value <= axis.hi }
        var placed: [Double] = []
        for ref in visible.sorted(by: { $0.value > $1.value }) {
            let y = axis.map(ref.value, r.bottom, r.top)
            b.line(r.left, y, r.right, y, stroke: ref.color, width: 1.5, dash: ref.style.dashArray)
            var ty = max(y - 4, r.top + 10)
            if let last = placed.last, ty < last + 12 { ty = last + 12 }
            placed.append(ty)
            b.text(ref.label, x: r.right - 4, y: ty, size: 10, anchor: .end, fill: ref.color, halo: true)
        }
    }

    static func truncate(_ s: String, _ maxChars: Int) -> String {
        s.count <= maxChars ? s : String(s.prefix(max(1, maxChars - 1))) + "…"
    }
}
