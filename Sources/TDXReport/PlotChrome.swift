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

    /// Where the legend goes: a column right of the plot when it is narrow, else rows under the x label
    /// (so long series names do not squeeze the plot).
    enum LegendLayout {
        case none
        case right(x: Double, y: Double, width: Double)
        case below(x: Double, y: Double, rows: [[Int]])
    }

    static func entryWidth(_ e: LegendEntry) -> Double { 30 + textWidth(e.label, size: legendSize) + 18 }

    /// Lays out the plot rectangle, reference-label margin and legend on a `width` × `height` canvas.
    /// `bottomMargin` is what the x axis needs (ticks and label) below the plot.
    static func place(width: Double, height: Double, left: Double, top: Double, bottomMargin: Double,
                      legend entries: [LegendEntry], referenceLabels: [String] = []) -> (PlotRect, LegendLayout) {
        let refMargin = referenceLabels.map { textWidth($0, size: 10) + 8 }.max() ?? 0
        guard !entries.isEmpty else {
            return (PlotRect(left: left, right: width - 16 - refMargin, top: top, bottom: height - bottomMargin), .none)
        }
        let column = 30 + (entries.map { textWidth($0.label, size: legendSize) }.max() ?? 0) + 12
        if column <= width * 0.28 {
            let r = PlotRect(left: left, right: width - 12 - column - refMargin - 12, top: top, bottom: height - bottomMargin)
            return (r, .right(x: width - 12 - column, y: top, width: column))
        }
        let available = width - left - 16
        var rows: [[Int]] = [[]], used = 0.0
        for (i, e) in entries.enumerated() {
            let w = entryWidth(e)
            if !rows[rows.count - 1].isEmpty && used + w > available { rows.append([]); used = 0 }
            rows[rows.count - 1].append(i); used += w
        }
        let below = Double(rows.count) * legendRow + 6
        let r = PlotRect(left: left, right: width - 16 - refMargin, top: top, bottom: height - bottomMargin - below)
        return (r, .below(x: left, y: height - below, rows: rows))
    }

    static func legend(_ entries: [LegendEntry], _ layout: LegendLayout, into b: inout SVGBuilder) {
        switch layout {
        case .none: return
        case .right(let x, let y, let width):
            let maxChars = max(4, Int((width - 42) / (legendSize * 0.58) + 0.5))
            for (i, e) in entries.enumerated() {
                legendEntry(e, x: x, cy: y + Double(i) * legendRow + legendRow / 2, maxChars: maxChars, into: &b)
            }
        case .below(let x, let y, let rows):
            for (k, row) in rows.enumerated() {
                var cx = x
                for i in row {
                    legendEntry(entries[i], x: cx, cy: y + Double(k) * legendRow + legendRow / 2, maxChars: 80, into: &b)
                    cx += entryWidth(entries[i])
                }
            }
        }
    }

    private static func legendEntry(_ e: LegendEntry, x: Double, cy: Double, maxChars: Int, into b: inout SVGBuilder) {
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

    /// The labels of the reference lines that fall inside the axis range.
    static func visible(_ refs: [ReferenceLine], _ axis: Axis) -> [ReferenceLine] {
        refs.filter { $0.value.isFinite && $0.value >= axis.lo && $0.value <= axis.hi }
    }

    /// Horizontal reference lines labelled just outside the plot's right edge (so labels never cover
    /// data), nudged apart vertically when they crowd.
    static func references(_ refs: [ReferenceLine], axis: Axis, rect r: PlotRect, into b: inout SVGBuilder) {
        var lastY = -Double.infinity
        for ref in visible(refs, axis).sorted(by: { $0.value > $1.value }) {
            let y = axis.map(ref.value, r.bottom, r.top)
            b.line(r.left, y, r.right, y, stroke: ref.color, width: 1.5, dash: ref.style.dashArray)
            let ty = max(y + 3.5, lastY + 12)
            lastY = ty
            b.text(ref.label, x: r.right + 5, y: ty, size: 10, fill: ref.color)
        }
    }

    static func truncate(_ s: String, _ maxChars: Int) -> String {
        s.count <= maxChars ? s : String(s.prefix(max(1, maxChars - 1))) + "…"
    }
}
