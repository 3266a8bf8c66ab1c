import CBLAS
import Foundation

/// A weight matrix W [out × in] ready for y = x·Wᵀ: row-major for BLAS, or packed in panels of 16 output
/// rows ([panel][in][16], zero-padded) for the SIMD kernel used when OpenBLAS runs slow generic kernels.
public struct PackedMatrix: Sendable {
    public let outDim: Int
    public let inDim: Int
    public let packed: Bool
    /// Row-major [out × in], or [⌈out/16⌉ × in × 16] when packed.
    public private(set) var storage: [Float]

    public init(rowMajor w: [Float], outDim: Int, inDim: Int, pack: Bool = PackedMatrix.preferPacked) {
        precondition(w.count == outDim * inDim)
        self.outDim = outDim; self.inDim = inDim; self.packed = pack
        guard pack else { storage = w; return }
        let panels = (outDim + 15) / 16
        var s = [Float](repeating: 0, count: panels * inDim * 16)
        for o in 0..<outDim {
            let p = o / 16, lane = o % 16
            for i in 0..<inDim { s[(p * inDim + i) * 16 + lane] = w[o * inDim + i] }
        }
        storage = s
    }

    /// The matrix in row-major order (tests, conversions).
    public var rowMajor: [Float] {
        guard packed else { return storage }
        var w = [Float](repeating: 0, count: outDim * inDim)
        for o in 0..<outDim { for i in 0..<inDim { w[o * inDim + i] = storage[((o / 16) * inDim + i) * 16 + o % 16] } }
        return w
    }

    /// y[n × out] = x[n × in]·Wᵀ (+ y when accumulate); x rows have stride ldx, y rows stride ldy.
    func apply(_ x: UnsafePointer<Float>, rows n: Int, ldx: Int? = nil, _ y: UnsafeMutablePointer<Float>, ldy: Int? = nil,
               accumulate: Bool = false, threads: Int = LanguageModel.threads) {
        guard n > 0 else { return }
        storage.withUnsafeBufferPointer { w in
            if packed {
                Kernels.gemmPacked(x, rows: n, ldx: ldx ?? inDim, w.baseAddress!, outDim: outDim, inDim: inDim,
                                   y, ldy: ldy ?? outDim, accumulate: accumulate, threads: threads)
            } else {
                Kernels.linear(x, rows: n, inDim: inDim, w.baseAddress!, outDim: outDim, y, ldx: ldx, ldy: ldy,
                               beta: accumulate ? 1 : 0, threads: threads)
            }
        }
    }

    /// Packed SIMD kernels are used when OpenBLAS loaded its generic SSE3 (Prescott) kernels, or when
    /// TDX_GEMM=swift; TDX_GEMM=blas forces BLAS.
    public static let preferPacked: Bool = {
        switch ProcessInfo.processInfo.environment["TDX_GEMM"] {
        case "swift": return true
        case "blas": return false
        default: return blasCoreIsGeneric
        }
    }()

    public static var blasCoreName: String { String(cString: openblas_get_corename()) }
    static var blasCoreIsGeneric: Bool { ["Prescott", "Core2", "Nehalem", "Katmai", "Northwood"].contains(blasCoreName) }
}

extension Kernels {
    /// y[n × m] (+)= x[n × k]·Wᵀ with W packed as [⌈m/16⌉ × k × 16]. Rows go in chunks that stay in L2;
    /// within a chunk each 16-wide panel of W sweeps 6-row tiles. Panels are split across threads.
    static func gemmPacked(_ x: UnsafePointer<Float>, rows n: Int, ldx: Int, _ w: UnsafePointer<Float>, outDim m: Int,
                           inDim k: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool, threads: Int) {
        let panels = (m + 15) / 16
        let xs = SendablePointer(UnsafeMutablePointer(mutating: x)), ws = SendablePointer(UnsafeMutablePointer(mutating: w))
        let ys = SendablePointer(y)
        let parts = n * m * k < 1 << 18 ? 1 : min(threads, panels)
        parallelRows(panels, parts: parts) { myPanels in
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: 6 * 16)
            let pad = UnsafeMutablePointer<Float>.allocate(capacity: 6 * k)   // zero-padded last row block
            defer { tile.deallocate(); pad.deallocate() }
            let chunk = max(6, (98_304 / max(1, k)) / 6 * 6)   // ~384 KB of x rows
            var r0 = 0
            while r0 < n {
                let rEnd = min(n, r0 + chunk)
                for p in myPanels {
                    let wp = ws.p + p * k * 16
                    let cols = min(16, m - p * 16)
                    var rb = r0
                    while rb < rEnd {
                        let rows = min(6, rEnd - rb)
                        var src = UnsafePointer(xs.p + rb * ldx), ld = ldx
                        if rows < 6 {
                            pad.initialize(repeating: 0, count: 6 * k)
                            for r in 0..<rows { (pad + r * k).update(from: xs.p + (rb + r) * ldx, count: k) }
                            src = UnsafePointer(pad); ld = k
                        }
                        tile6x16(src, ldx: ld, wp, k: k, tile)
                        for r in 0..<rows {
                            let yr = ys.p + (rb + r) * ldy + p * 16, tr = tile + r * 16
                            if accumulate { for j in 0..<cols { yr[j] += tr[j] } } else { for j in 0..<cols { yr[j] = tr[j] } }
                        }
                        rb += 6
                    }
                }
                r0 = rEnd
            }
        }
    }

    /// tile[6 × 16] = x[6 rows × k]·panel[k × 16]: 12 accumulators, one broadcast per row and k.
    @inline(__always)
    static func tile6x16(_ x: UnsafePointer<Float>, ldx: Int, _ w: UnsafePointer<Float>, k: Int, _ tile: UnsafeMutablePointer<Float>) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        let x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx, x4 = x + 4 * ldx, x5 = x + 5 * ldx
        let wr = UnsafeRawPointer(w)
        for i in 0..<k {
            let b0 = wr.loadUnaligned(fromByteOffset: i * 64, as: SIMD8<Float>.self)
            let b1 = wr.loadUnaligned(fromByteOffset: i * 64 + 32, as: SIMD8<Float>.self)
            var a = SIMD8<Float>(repeating: x0[i]); c00 = c00.addingProduct(a, b0); c01 = c01.addingProduct(a, b1)
            a = SIMD8(repeating: x1[i]); c10 = c10.addingProduct(a, b0); c11 = c11.addingProduct(a, b1)
            a = SIMD8(repeating: x2[i]); c20 = c20.addingProduct(a, b0); c21 = c21.addingProduct(a, b1)
            a = SIMD8(repeating: x3[i]); c30 = c30.addingProduct(a, b0); c31 = c31.addingProduct(a, b1)
            a = SIMD8(repeating: x4[i]); c40 = c40.addingProduct(a, b0); c41 = c41.addingProduct(a, b1)
            a = SIMD8(repeating: x5[i]); c50 = c50.addingProduct(a, b0); c51 = c51.addingProduct(a, b1)
        }
        let t = UnsafeMutableRawPointer(tile)
        t.storeBytes(of: c00, toByteOffset: 0, as: SIMD8<Float>.self); t.storeBytes(of: c01, toByteOffset: 32, as: SIMD8<Float>.self)
        t.storeBytes(of: c10, toByteOffset: 64, as: SIMD8<Float>.self); t.storeBytes(of: c11, toByteOffset: 96, as: SIMD8<Float>.self)
        t.storeBytes(of: c20, toByteOffset: 128, as: SIMD8<Float>.self); t.storeBytes(of: c21, toByteOffset: 160, as: SIMD8<Float>.self)
        t.storeBytes(of: c30, toByteOffset: 192, as: SIMD8<Float>.self); t.storeBytes(of: c31, toByteOffset: 224, as: SIMD8<Float>.self)
        t.storeBytes(of: c40, toByteOffset: 256, as: SIMD8<Float>.self); t.storeBytes(of: c41, toByteOffset: 288, as: SIMD8<Float>.self)
        t.storeBytes(of: c50, toByteOffset: 320, as: SIMD8<Float>.self); t.storeBytes(of: c51, toByteOffset: 352, as: SIMD8<Float>.self)
    }
}

extension LlamaWeights {
    /// The same weights with every block matrix in the given layout (to compare the two GEMM paths).
    public func withPacking(_ pack: Bool) -> LlamaWeights {
        var w = self
        func re(_ m: PackedMatrix) -> PackedMatrix { PackedMatrix(rowMajor: m.rowMajor, outDim: m.outDim, inDim: m.inDim, pack: pack) }
        w.blocks = blocks.map { b in
            var b = b
            b.wqkv = re(b.wqkv); b.wo = re(b.wo); b.wGateUp = re(b.wGateUp); b.wDown = re(b.wDown)
            return b
        }
        return w
    }
}
