/// Greedy placement of point labels: each label takes whichever of eight spots around its point
/// overlaps least with the labels placed so far, the points, and the plot's edges.
enum LabelPlacer {
    struct Spot { var x: Double, y: Double, anchor: SVGBuilder.Anchor }

    private struct Box {
        var x0, y0, x1, y1: Double
        func overlap(_ o: Box) -> Double {
            max(0, min(x1, o.x1) - max(x0, o.x0)) * max(0, min(y1, o.y1) - max(y0, o.y0))
        }
    }

    static let size = 10.0

    static func place(_ labels: [String], at points: [(Double, Double)], in r: PlotRect) -> [Spot] {
        let dots = points.map { Box(x0: $0.0 - 5, y0: $0.1 - 5, x1: $0.0 + 5, y1: $0.1 + 5) }
        var taken: [Box] = []
        var spots: [Spot] = []
        // Right first, then left, above, below, then the diagonals: the reading order of a legend.
        let offsets: [(Double, Double, SVGBuilder.Anchor)] = [
            (8, 3.5, .start), (-8, 3.5, .end), (0, -9, .middle), (0, 15, .middle),
            (6, -7, .start), (-6, -7, .end), (6, 13, .start), (-6, 13, .end),
        ]
        for (label, p) in zip(labels, points) {
            let w = textWidth(label, size: size), h = size
            var best = (spot: Spot(x: p.0, y: p.1, anchor: .start), box: Box(x0: 0, y0: 0, x1: 0, y1: 0),
                        cost: Double.infinity)
            for (k, (dx, dy, anchor)) in offsets.enumerated() {
                let x = p.0 + dx, y = p.1 + dy
                let x0 = anchor == .start ? x : anchor == .end ? x - w : x - w / 2
                let box = Box(x0: x0, y0: y - h * 0.8, x1: x0 + w, y1: y + h * 0.2)
                var cost = taken.reduce(0) { $0 + box.overlap($1) } * 3 + dots.reduce(0) { $0 + box.overlap($1) }
                let inside = box.overlap(Box(x0: r.left, y0: r.top, x1: r.right, y1: r.bottom))
                cost += (w * h - inside) * 4 + Double(k) * 0.5
                if cost < best.cost { best = (Spot(x: x, y: y, anchor: anchor), box, cost) }
            }
            spots.append(best.spot)
            if !label.isEmpty { taken.append(best.box) }
        }
        return spots
    }
}
