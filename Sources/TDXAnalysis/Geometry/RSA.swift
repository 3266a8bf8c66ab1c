/// Representational similarity analysis (SCIENCE.md §6.1 (d)): whether two dissimilarity matrices over the
/// same nodes order the node pairs alike.
public enum RSA {
    /// Spearman rank correlation between the upper triangles (i < j) of two n × n matrices; NaN with fewer
    /// than three pairs or when either triangle is constant.
    public static func spearman(_ a: [Double], _ b: [Double], n: Int) -> Double {
        var x: [Double] = [], y: [Double] = []
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { x.append(a[i * n + j]); y.append(b[i * n + j]) } }
        guard x.count >= 3 else { return .nan }
        return pearson(StandardisedColumns.averageRanks(x), StandardisedColumns.averageRanks(y))
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices { let dx = x[i] - mx, dy = y[i] - my; sxy += dx * dy; sxx += dx * dx; syy += dy * dy }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
    }
}
