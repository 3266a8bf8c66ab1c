// Fused elementwise kernels over flat row-major buffers. SIMD8 main loops (AVX2 + FMA are compiled in)
// with scalar tails; each has a naive twin in `Reference` that the tests compare against.

public typealias FloatPtr = UnsafeMutablePointer<Float>
public typealias ConstFloatPtr = UnsafePointer<Float>

@inline(__always) public func load8(_ p: ConstFloatPtr) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) public func store8(_ v: SIMD8<Float>, _ p: FloatPtr) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Lane-wise √ of non-negative x. Plain `squareRoot()` keeps sqrtf's errno branch for negative input, which
/// stops LLVM from vectorising (eight vsqrtss plus compares); `magnitude`, a no-op here, proves x ≥ 0 so it
/// emits one vsqrtps. Same bits as `squareRoot()` for x ≥ 0.
@inline(__always) public func sqrtNonNegative(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var r = x
    for j in 0..<8 { r[j] = x[j].magnitude.squareRoot() }
    return r
}

public enum Kernels {
    /// x[r, c] = max(0, x[r, c] + bias[c]) in place, x is rows × cols with row stride `ld` (default cols).
    /// Returns Σ of the result (the L1 norm).
    @discardableResult
    public static func addBiasReLU(_ x: FloatPtr, rows: Int, cols: Int, ld: Int? = nil, bias: ConstFloatPtr) -> Double {
        var total: Double = 0
        let zero = SIMD8<Float>(repeating: 0)
        for r in 0..<rows {
            let row = x + r * (ld ?? cols)
            var acc = SIMD8<Float>(repeating: 0)
            var j = 0
            while j + 8 <= cols {
                let pre = load8(row + j) + load8(bias + j)
                let v = pre.replacing(with: zero, where: pre .< zero)
                store8(v, row + j)
                acc += v
                j += 8
            }
            var tail: Float = 0
            while j < cols {
                let v = max(0, row[j] + bias[j]); row[j] = v; tail += v; j += 1
            }
            total += Double(acc.sum() + tail)
        }
        return total
    }

    /// x[r, c] += bias[c] in place.
    public static func addBias(_ x: FloatPtr, rows: Int, cols: Int, bias: ConstFloatPtr) {
        for r in 0..<rows {
            let row = x + r * cols
            var j = 0
            while j + 8 <= cols { store8(load8(row + j) + load8(bias + j), row + j); j += 8 }
            while j < cols { row[j] += bias[j]; j += 1 }
        }
    }

    /// e[r, c] = xhat[r, c] + bias[c] − target[r, c], written over `xhat`. Returns Σ e² (in Double).
    @discardableResult
    public static func biasedResidual(_ xhat: FloatPtr, target: ConstFloatPtr, rows: Int, cols: Int,
                                      bias: ConstFloatPtr) -> Double {
        var total: Double = 0
        for r in 0..<rows {
            let row = xhat + r * cols
            let t = target + r * cols
            var acc = SIMD8<Float>(repeating: 0)
            var j = 0
            while j + 8 <= cols {
                let e = load8(row + j) + load8(bias + j) - load8(t + j)
                store8(e, row + j)
                acc.addProduct(e, e)
                j += 8
            }
            var tail: Float = 0
            while j < cols { let e = row[j] + bias[j] - t[j]; row[j] = e; tail += e * e; j += 1 }
            total += Double(acc.sum() + tail)
        }
        return total
    }

    /// Back through ReLU plus the L1 term: g = (h > 0) ? g + l1 : 0, in place over `g`.
    public static func reluBackwardL1(_ g: FloatPtr, h: ConstFloatPtr, count n: Int, l1: Float) {
        let zero = SIMD8<Float>(repeating: 0)
        let l = SIMD8<Float>(repeating: l1)
        var i = 0
        while i + 8 <= n {
            let mask = load8(h + i) .> zero
            store8(zero.replacing(with: load8(g + i) + l, where: mask), g + i)
            i += 8
        }
        while i < n { g[i] = h[i] > 0 ? g[i] + l1 : 0; i += 1 }
    }

    /// out[c] = scale · Σ_r x[r, c] (a bias gradient).
    public static func columnSums(_ x: ConstFloatPtr, rows: Int, cols: Int, scale: Float, out: FloatPtr) {
        out.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let row = x + r * cols
            var j = 0
            while j + 8 <= cols { store8(load8(out + j) + load8(row + j), out + j); j += 8 }
            while j < cols { out[j] += row[j]; j += 1 }
        }
        for j in 0..<cols { out[j] *= scale }
    }

    /// Scales each row of a rows × cols matrix to unit L2 norm (rows of norm 0 stay 0).
    public static func normaliseRows(_ x: FloatPtr, rows: Int, cols: Int) {
        let xs = UncheckedBox(x)
        Parallel.chunks(rows, minChunk: max(1, (1 << 16) / max(cols, 1))) { range in
            normaliseRowsSerial(xs.value, rows: range, cols: cols)
        }
    }

    static func normaliseRowsSerial(_ x: FloatPtr, rows: Range<Int>, cols: Int) {
        for r in rows { normaliseRow(x + r * cols, count: cols) }
    }

    /// Scales one row to unit L2 norm (an all-zero row stays zero).
    @inline(__always) public static func normaliseRow(_ row: FloatPtr, count n: Int) {
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= n { let v = load8(row + j); acc.addProduct(v, v); j += 8 }
        var ss = acc.sum()
        while j < n { ss += row[j] * row[j]; j += 1 }
        guard ss > 0 else { return }
        let inv = 1 / ss.squareRoot()
        let vinv = SIMD8<Float>(repeating: inv)
        j = 0
        while j + 8 <= n { store8(load8(row + j) * vinv, row + j); j += 8 }
        while j < n { row[j] *= inv; j += 1 }
    }

    /// Σ x² in Double.
    public static func sumOfSquares(_ x: ConstFloatPtr, count n: Int) -> Double {
        var acc = SIMD8<Float>(repeating: 0)
        var total: Double = 0
        var i = 0
        // Flush to Double every 4096 elements to bound float accumulation error.
        while i + 8 <= n {
            let v = load8(x + i); acc.addProduct(v, v); i += 8
            if i & 4095 == 0 { total += Double(acc.sum()); acc = .zero }
        }
        total += Double(acc.sum())
        while i < n { total += Double(x[i] * x[i]); i += 1 }
        return total
    }

    /// x = (x − mean[c]) · invScale[c] per column, in place (normalisation of activations).
    public static func affineColumns(_ x: FloatPtr, rows: Int, cols: Int, mean: ConstFloatPtr, invScale: ConstFloatPtr) {
        for r in 0..<rows {
            let row = x + r * cols
            var j = 0
            while j + 8 <= cols { store8((load8(row + j) - load8(mean + j)) * load8(invScale + j), row + j); j += 8 }
            while j < cols { row[j] = (row[j] - mean[j]) * invScale[j]; j += 1 }
        }
    }

    /// Keeps the k largest entries of each row (ties broken by lower index), zeroing the rest. k ≥ cols is a no-op.
    public static func topKRows(_ x: FloatPtr, rows: Int, cols: Int, k: Int) {
        guard k < cols else { return }
        var idx = [Int](repeating: 0, count: cols)
        for r in 0..<rows {
            let row = x + r * cols
            for j in 0..<cols { idx[j] = j }
            // Partial selection: quickselect the k-th largest position.
            var lo = 0, hi = cols - 1
            let target = k - 1
            while lo < hi {
                let pivot = row[idx[(lo + hi) / 2]]
                let pivotIndex = idx[(lo + hi) / 2]
                var i = lo, j = hi
                while i <= j {
                    while greater(row[idx[i]], idx[i], pivot, pivotIndex) { i += 1 }
                    while greater(pivot, pivotIndex, row[idx[j]], idx[j]) { j -= 1 }
                    if i <= j { idx.swapAt(i, j); i += 1; j -= 1 }
                }
                if target <= j { hi = j } else if target >= i { lo = i } else { break }
            }
            for p in k..<cols { row[idx[p]] = 0 }
        }
    }

    @inline(__always) static func greater(_ a: Float, _ ia: Int, _ b: Float, _ ib: Int) -> Bool {
        a > b || (a == b && ia < ib)
    }
}
