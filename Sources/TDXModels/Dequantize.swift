import TDXCore

/// ggml block formats → f32, following ggml-quants.c (dequantize_row_*) exactly.
public enum Dequantize {
    @inline(__always)
    static func u16(_ p: UnsafeRawPointer, _ off: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: off, as: UInt16.self))
    }

    /// Dequantises `count` values of `type` from `raw` into `out`.
    public static func run(_ type: GGMLType, _ raw: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<Float>, count: Int) {
        let p = raw.baseAddress!
        let (bv, bb) = type.block
        let nBlocks = count / bv
        let q = p.assumingMemoryBound(to: UInt8.self)
        switch type {
        case .f32:
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            Safetensors.DType.f16.decode(p, count: count, into: out)
        case .bf16:
            Safetensors.DType.bf16.decode(p, count: count, into: out)
        case .q8_0:
            for b in 0..<nBlocks {
                let o = b * bb, y = out + b * 32
                let d = FloatBits.half(u16(p, o))
                for j in 0..<32 { y[j] = d * Float(Int8(bitPattern: q[o + 2 + j])) }
            }
        case .q4_0:
            for b in 0..<nBlocks {
                let o = b * bb, y = out + b * 32
                let d = FloatBits.half(u16(p, o))
                for j in 0..<16 {
                    let x = q[o + 2 + j]
                    y[j] = Float(Int(x & 0xf) - 8) * d
                    y[j + 16] = Float(Int(x >> 4) - 8) * d
                }
            }
        case .q4_1:
            for b in 0..<nBlocks {
                let o = b * bb, y = out + b * 32
                let d = FloatBits.half(u16(p, o)), m = FloatBits.half(u16(p, o + 2))
                for j in 0..<16 {
                    let x = q[o + 4 + j]
                    y[j] = Float(x & 0xf) * d + m
                    y[j + 16] = Float(x >> 4) * d + m
                }
            }
        case .q4_K:
            for b in 0..<nBlocks {
                let o = b * bb
                var y = out + b * 256
                let d = FloatBits.half(u16(p, o)), dmin = FloatBits.half(u16(p, o + 2))
                let scales = q + o + 4
                var qs = q + o + 16
                var sub = 0
                for _ in 0..<4 {
                    let (sc1, m1) = scaleMinK4(sub, scales), (sc2, m2) = scaleMinK4(sub + 1, scales)
                    let d1 = d * Float(sc1), mm1 = dmin * Float(m1)
                    let d2 = d * Float(sc2), mm2 = dmin * Float(m2)
                    for l in 0..<32 { y[l] = d1 * Float(qs[l] & 0xf) - mm1 }
                    for l in 0..<32 { y[32 + l] = d2 * Float(qs[l] >> 4) - mm2 }
                    y += 64; qs += 32; sub += 2
                }
            }
        case .q5_K:
            for b in 0..<nBlocks {
                let o = b * bb
                var y = out + b * 256
                let d = FloatBits.half(u16(p, o)), dmin = FloatBits.half(u16(p, o + 2))
                let scales = q + o + 4
                let qh = q + o + 16
                var ql = q + o + 48
                var sub = 0
                var u1: UInt8 = 1, u2: UInt8 = 2
                for _ in 0..<4 {
                    let (sc1, m1) = scaleMinK4(sub, scales), (sc2, m2) = scaleMinK4(sub + 1, scales)
                    let d1 = d * Float(sc1), mm1 = dmin * Float(m1)
                    let d2 = d * Float(sc2), mm2 = dmin * Float(m2)
                    for l in 0..<32 { y[l] = d1 * Float(Int(ql[l] & 0xf) + (qh[l] & u1 != 0 ? 16 : 0)) - mm1 }
                    for l in 0..<32 { y[32 + l] = d2 * Float(Int(ql[l] >> 4) + (qh[l] & u2 != 0 ? 16 : 0)) - mm2 }
                    y += 64; ql += 32; sub += 2
                    u1 <<= 2; u2 <<= 2
                }
            }
        case .q6_K:
            for b in 0..<nBlocks {
                let o = b * bb
                var y = out + b * 256
                var ql = q + o, qh = q + o + 128
                var sc = UnsafeRawPointer(q + o + 192).assumingMemoryBound(to: Int8.self)
                let d = FloatBits.half(u16(p, o + 208))
                for _ in 0..<2 {
                    for l in 0..<32 {
                        let s = l / 16
                        let q1 = Int((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32
                        let q2 = Int((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32
                        let q3 = Int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                        let q4 = Int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                        y[l] = d * Float(sc[s]) * Float(q1)
                        y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                        y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                        y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
                    }
                    y += 128; ql += 64; qh += 32; sc += 8
                }
            }
        }
    }

    /// The 6-bit scale and min of sub-block `j` packed in the 12 scale bytes of a Q4_K/Q5_K block.
    @inline(__always)
    static func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (UInt8, UInt8) {
        if j < 4 { return (q[j] & 63, q[j + 4] & 63) }
        return ((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}
