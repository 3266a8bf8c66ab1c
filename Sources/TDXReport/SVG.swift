import Foundation

/// A figure that renders itself as a standalone SVG document.
public protocol SVGFigure: Sendable {
    var svg: String { get }
}

/// Okabe–Ito colours, distinguishable with the common colour-vision deficiencies. Yellow comes last
/// because it is faint on white.
public enum Palette {
    public static let colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    public static func color(_ index: Int) -> String {
        colors[((index % colors.count) + colors.count) % colors.count]
    }
}

/// Line style of a series or reference line.
public enum LineStyle: Sendable, Equatable {
    case solid, dashed, dotted

    var dashArray: String? {
        switch self {
        case .solid: return nil
        case .dashed: return "6 4"
        case .dotted: return "2 3"
        }
    }
}

/// A horizontal line across the plot with a label at its right end ("ceiling 25 %", "random").
public struct ReferenceLine: Sendable, Equatable {
    public var value: Double
    public var label: String
    public var style: LineStyle
    /// A CSS colour; grey by default so references recede behind the data.
    public var color: String

    public init(_ value: Double, label: String, style: LineStyle = .dashed, color: String = "#555555") {
        self.value = value; self.label = label; self.style = style; self.color = color
    }
}

/// Accumulates SVG elements; coordinates are written with at most two decimals so output is
/// deterministic and compact.
struct SVGBuilder {
    private(set) var body: [String] = []

    mutating func raw(_ s: String) { body.append(s) }

    mutating func element(_ name: String, _ attrs: [(String, String?)], text: String? = nil) {
        var s = "<" + name
        for (k, v) in attrs { if let v { s += " \(k)=\"\(SVGBuilder.escape(v))\"" } }
        if let text { s += ">" + SVGBuilder.escape(text) + "</\(name)>" } else { s += "/>" }
        body.append(s)
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                       width: Double = 1, dash: String? = nil, opacity: Double? = nil) {
        element("line", [("x1", n(x1)), ("y1", n(y1)), ("x2", n(x2)), ("y2", n(y2)), ("stroke", stroke),
                         ("stroke-width", n(width)), ("stroke-dasharray", dash), ("stroke-opacity", opacity.map(n))])
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String,
                       stroke: String? = nil, opacity: Double? = nil) {
        element("rect", [("x", n(x)), ("y", n(y)), ("width", n(max(w, 0))), ("height", n(max(h, 0))),
                         ("fill", fill), ("fill-opacity", opacity.map(n)), ("stroke", stroke)])
    }

    mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String, stroke: String? = "#ffffff") {
        element("circle", [("cx", n(x)), ("cy", n(y)), ("r", n(r)), ("fill", fill), ("stroke", stroke),
                           ("stroke-width", stroke == nil ? nil : "1")])
    }

    /// A polyline through the points; draws nothing for fewer than two.
    mutating func polyline(_ pts: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        guard pts.count >= 2 else { return }
        let d = pts.enumerated().map { (i, p) in (i == 0 ? "M" : "L") + n(p.0) + " " + n(p.1) }.joined(separator: " ")
        element("path", [("d", d), ("fill", "none"), ("stroke", stroke), ("stroke-width", n(width)),
                         ("stroke-dasharray", dash), ("stroke-linejoin", "round"), ("stroke-linecap", "round")])
    }

    mutating func polygon(_ pts: [(Double, Double)], fill: String, opacity: Double) {
        guard pts.count >= 3 else { return }
        element("polygon", [("points", pts.map { n($0.0) + "," + n($0.1) }.joined(separator: " ")),
                            ("fill", fill), ("fill-opacity", n(opacity)), ("stroke", "none")])
    }

    enum Anchor: String { case start, middle, end }

    /// Text; `halo` draws a white outline under the glyphs so labels stay legible over lines.
    mutating func text(_ s: String, x: Double, y: Double, size: Double = 11, anchor: Anchor = .start,
                       weight: String? = nil, fill: String = "#222222", rotate: Double? = nil, halo: Bool = false) {
        element("text", [("x", n(x)), ("y", n(y)), ("font-size", n(size)), ("text-anchor", anchor.rawValue),
                         ("font-weight", weight), ("fill", fill),
                         ("transform", rotate.map { "rotate(\(n($0)) \(n(x)) \(n(y)))" }),
                         ("stroke", halo ? "#ffffff" : nil), ("stroke-width", halo ? "3" : nil),
                         ("paint-order", halo ? "stroke" : nil), ("stroke-linejoin", halo ? "round" : nil)],
                text: s)
    }

    func document(width: Double, height: Double, title: String) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
        out += "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"sans-serif\">\n"
        out += "<title>\(SVGBuilder.escape(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>\n"
        for b in body { out += b + "\n" }
        return out + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters even when escaped.
                if let a = ch.asciiValue, a < 0x20, a != 0x09, a != 0x0A, a != 0x0D { continue }
                out.append(ch)
            }
        }
        return out
    }
}

/// A coordinate with at most two decimals, no trailing zeros, no `-0`.
func n(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let r = (x * 100).rounded() / 100
    if r == r.rounded() { return String(Int64(r)) }
    var s = String(format: "%.2f", r)
    while s.hasSuffix("0") { s.removeLast() }
    return s
}

/// Rough text width for layout (sans-serif averages a little over half an em per glyph).
func textWidth(_ s: String, size: Double) -> Double {
    Double(s.count) * size * 0.58
}
