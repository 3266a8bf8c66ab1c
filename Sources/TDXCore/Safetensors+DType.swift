extension Safetensors {
    /// Element types tdx reads; all decode to Float.
    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"

        public var byteWidth: Int { self == .f32 ? 4 : 2 }

        /// Converts `count` little-endian values at `raw` (any alignment) to floats.
        public func decode(_ raw: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
            switch self {
            case .f32:
                #if _endian(little)
                UnsafeMutableRawPointer(out).copyMemory(from: raw, byteCount: 4 * count)
                #else
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                #endif
            case .f16:
                for i in 0..<count { out[i] = FloatBits.half(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .bf16:
                for i in 0..<count { out[i] = FloatBits.bfloat16(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            }
        }
    }
}

/// 16-bit float formats by bit manipulation (portable: no Float16 type needed on x86 Linux).
public enum FloatBits {
    /// IEEE half → float, subnormals and inf/nan included.
    @inlinable @inline(__always)
    public static func half(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = UInt32(h >> 10) & 0x1f
        let mant = UInt32(h & 0x3ff)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            let v = Float(mant) * 0x1p-24
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
    }

    /// bfloat16 → float (the upper half of a float's bits).
    @inlinable @inline(__always)
    public static func bfloat16(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }
}
