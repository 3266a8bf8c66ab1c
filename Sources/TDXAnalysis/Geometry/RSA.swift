/// Representational similarity analysis (SCIENCE.md §6.1 (d)): whether two dissimilarity matrices over the
/// same nodes order the node pairs alike.
public enum RSA {
    /// Spearman rank correlation between the upper triangles (i < j) of two n × n matrices; NaN with fewer
    /// than three pairs or when either triangle is constant.
    public static func spearman(_ a: [Double], _ b: [Double], n: Int) -> Double {
        var x: [Double] = [], y: [Double] = []
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { x.append(a[i * n + j]); y.append(b[i * n + j]) } }
        guard x.count >= 3 else { return .nan }
        return pearson(ranks(x), ranks(y))
    }

    /// 1-based ranks, ties averaged (scipy.stats.rankdata's "average").
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var out = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var k = i
            while k + 1 < order.count && x[order[k + 1]] == x[order[i]] { k += 1 }
            for t in i...k { out[order[t]] = Double(i + k) / 2 + 1 }
            i = k + 1
        }
        return out
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices { let dx = x[i] - mx, dy = y[i] - my; sxy += dx * dy; sxx += dx * dx; syy += dy * dy }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
    }
}
