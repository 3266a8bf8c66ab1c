import Foundation

/// Vectorised element-wise kernels (AVX2+FMA through SIMD8) with scalar references in `Kernels`.
extension Kernels {
    /// e^x for 8 lanes: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial for e^r, 2^n through the exponent
    /// bits. Relative error below 2e-7 on [-87, 88]; inputs outside saturate (0 or ~3.4e38).
    @inline(__always)
    static func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var xc = x.replacing(with: SIMD8(repeating: -87.3), where: x .< -87.3)
        xc.replace(with: SIMD8(repeating: 88.3), where: xc .> 88.3)
        // n = round(x·log2 e) by the 1.5·2²³ trick; its low mantissa bits then hold n as an integer.
        let magic = SIMD8<Float>(repeating: 12582912)
        let t = magic.addingProduct(xc, SIMD8(repeating: 1.442695041))
        let n = t - magic
        // r = x − n·ln2 in two steps for accuracy (Cephes expf constants).
        var r = xc.addingProduct(n, SIMD8(repeating: -0.693359375))
        r = r.addingProduct(n, SIMD8(repeating: 2.12194440e-4))
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = SIMD8(repeating: 1.3981999507e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = SIMD8(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = SIMD8(repeating: 5.0000001201e-1).addingProduct(p, r)
        let e = (p * (r * r) + r) + 1
        let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return e * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    /// In-place softmax over the first `valid` entries; entries past it become 0.
    static func softmaxPrefixSIMD(_ row: UnsafeMutablePointer<Float>, valid: Int, count: Int) {
        let v8 = valid & ~7
        var mx8 = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        let raw = UnsafeMutableRawPointer(row)
        while j < v8 {
            let v = raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
            mx8.replace(with: v, where: v .> mx8)
            j += 8
        }
        var mx = mx8.max()
        for k in v8..<valid { mx = max(mx, row[k]) }
        let m8 = SIMD8<Float>(repeating: mx)
        var s8 = SIMD8<Float>()
        j = 0
        while j < v8 {
            let e = exp8(raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self) - m8)
            raw.storeBytes(of: e, toByteOffset: 4 * j, as: SIMD8<Float>.self)
            s8 += e; j += 8
        }
        var sum = s8.sum()
        for k in v8..<valid { let e = expf(row[k] - mx); row[k] = e; sum += e }
        let inv = 1 / sum, i8 = SIMD8<Float>(repeating: inv)
        j = 0
        while j < v8 {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self) * i8, toByteOffset: 4 * j, as: SIMD8<Float>.self)
            j += 8
        }
        for k in v8..<valid { row[k] *= inv }
        for k in valid..<count { row[k] = 0 }
    }

    /// SIMD form of `swiglu` (rows of gate|up of width 2F → F); F need not be a multiple of 8.
    static func swigluSIMD(_ gu: UnsafePointer<Float>, rows n: Int, ffn f: Int, _ out: UnsafeMutablePointer<Float>) {
        let f8 = f & ~7
        for r in 0..<n {
            let g = UnsafeRawPointer(gu + r * 2 * f), u = g + 4 * f, o = UnsafeMutableRawPointer(out + r * f)
            var i = 0
            while i < f8 {
                let gv = g.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                let uv = u.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                o.storeBytes(of: gv / (1 + exp8(-gv)) * uv, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                i += 8
            }
            let gs = gu + r * 2 * f
            for k in f8..<f { out[r * f + k] = gs[k] / (1 + expf(-gs[k])) * gs[f + k] }
        }
    }

    /// Runs body(range) over 0..<n split in `parts` contiguous chunks on separate threads.
    static func parallelRows(_ n: Int, parts: Int, _ body: @Sendable (Range<Int>) -> Void) {
        if parts <= 1 || n < 2 { body(0..<n); return }
        let k = min(parts, n)
        DispatchQueue.concurrentPerform(iterations: k) { i in
            body((i * n / k)..<((i + 1) * n / k))
        }
    }
}

/// A raw pointer that may cross into `concurrentPerform` closures; callers write disjoint rows.
struct SendablePointer<T>: @unchecked Sendable {
    let p: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { self.p = p }
}
