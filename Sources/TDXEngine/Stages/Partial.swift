/// Partial correlation's first half (SCIENCE.md §9.7 asks what a latent tracks beyond a confound): the
/// variable minus its least-squares fit on an intercept and the control variables, over the rows where all
/// are defined. Controls that add nothing (constant, or collinear with earlier ones) are skipped.
enum Partial {
    typealias Aligned = (rows: [Int], values: [Double])

    static func residuals(_ y: Aligned, controls: [Aligned]) -> Aligned {
        let lookups = controls.map { c in Dictionary(uniqueKeysWithValues: zip(c.rows, c.values)) }
        var rows: [Int] = [], target: [Double] = [], basis: [[Double]] = [[Double]](repeating: [], count: controls.count)
        for (r, v) in zip(y.rows, y.values) {
            let cs = lookups.map { $0[r] }
            guard cs.allSatisfy({ $0 != nil }) else { continue }
            rows.append(r); target.append(v)
            for k in cs.indices { basis[k].append(cs[k]!) }
        }
        guard !rows.isEmpty else { return ([], []) }
        // Gram–Schmidt: an orthonormal basis of [1, controls…], then subtract y's projection on it.
        var ortho: [[Double]] = []
        for column in [[Double](repeating: 1, count: rows.count)] + basis {
            var u = column
            for q in ortho { let c = dot(u, q); for i in u.indices { u[i] -= c * q[i] } }
            let norm = dot(u, u).squareRoot(), scale = dot(column, column).squareRoot()
            guard norm > 1e-9 * max(scale, 1e-300) else { continue }
            ortho.append(u.map { $0 / norm })
        }
        var out = target
        for q in ortho { let c = dot(out, q); for i in out.indices { out[i] -= c * q[i] } }
        return (rows, out)
    }

    private static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }
}
