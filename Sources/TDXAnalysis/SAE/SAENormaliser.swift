import TDXNumerics

/// Fitted normalisation constants: x̃ = (x − mean) / scale, per dimension (a scalar scale is stored repeated).
public struct SAENormaliser: Codable, Equatable, Sendable {
    public var kind: SAENormalisation
    public var mean: [Float]
    public var scale: [Float]

    public init(kind: SAENormalisation, mean: [Float], scale: [Float]) {
        precondition(mean.count == scale.count)
        self.kind = kind; self.mean = mean; self.scale = scale
    }

    /// The identity normalisation for d dimensions.
    public static func identity(dIn: Int) -> SAENormaliser {
        SAENormaliser(kind: .none, mean: .init(repeating: 0, count: dIn), scale: .init(repeating: 1, count: dIn))
    }

    /// Fits constants on `rows` of a samples × d matrix (statistics in Double).
    public static func fit(_ kind: SAENormalisation, data: [Float], dIn d: Int, rows: [Int]) -> SAENormaliser {
        guard kind != .none, !rows.isEmpty else { return .identity(dIn: d) }
        var sum = [Double](repeating: 0, count: d)
        for r in rows { for j in 0..<d { sum[j] += Double(data[r * d + j]) } }
        let mean = sum.map { $0 / Double(rows.count) }
        var sq = [Double](repeating: 0, count: d)
        for r in rows { for j in 0..<d { let c = Double(data[r * d + j]) - mean[j]; sq[j] += c * c } }
        let scale: [Float]
        switch kind {
        case .none: scale = .init(repeating: 1, count: d)
        case .scalarRMS:
            let rms = (sq.reduce(0, +) / Double(rows.count * d)).squareRoot()
            scale = .init(repeating: Float(rms > 0 ? rms : 1), count: d)
        case .perDimension:
            // A constant dimension keeps scale 1 so it maps to 0 instead of NaN.
            scale = sq.map { let s = ($0 / Double(rows.count)).squareRoot(); return Float(s > 1e-12 ? s : 1) }
        }
        return SAENormaliser(kind: kind, mean: mean.map { Float($0) }, scale: scale)
    }

    /// Normalises a rows × d buffer in place.
    public func apply(_ x: FloatPtr, rows: Int) {
        guard kind != .none else { return }
        let inv = scale.map { 1 / $0 }
        mean.withUnsafeBufferPointer { m in inv.withUnsafeBufferPointer { s in
            Kernels.affineColumns(x, rows: rows, cols: mean.count, mean: m.baseAddress!, invScale: s.baseAddress!)
        } }
    }

    /// Maps a rows × d buffer from normalised space back to activation space in place.
    public func invert(_ x: inout [Float], rows: Int) {
        guard kind != .none else { return }
        let d = mean.count
        for r in 0..<rows { for j in 0..<d { x[r * d + j] = x[r * d + j] * scale[j] + mean[j] } }
    }
}
