import TDXCore

/// Eight independent SHA-256 computations at once, one per SIMD lane (multi-buffer hashing).
/// All eight messages have the same length, a multiple of 64 bytes.
enum SHA256x8 {
    typealias V = SIMD8<UInt32>

    private static let k = SHA256.roundConstants

    @inline(__always) private static func rotr(_ x: V, _ n: UInt32) -> V { (x &>> n) | (x &<< (32 - n)) }

    /// The eight 32-byte digests of `messages[0..<8]`, each `length` bytes (a multiple of 64).
    static func digests(_ messages: [UnsafeRawPointer], length: Int) -> [[UInt8]] {
        precondition(messages.count == 8 && length % 64 == 0)
        var s: (V, V, V, V, V, V, V, V) = (V(repeating: 0x6a09e667), V(repeating: 0xbb67ae85), V(repeating: 0x3c6ef372),
                                           V(repeating: 0xa54ff53a), V(repeating: 0x510e527f), V(repeating: 0x9b05688c),
                                           V(repeating: 0x1f83d9ab), V(repeating: 0x5be0cd19))
        let p = (messages[0], messages[1], messages[2], messages[3], messages[4], messages[5], messages[6], messages[7])
        k.withUnsafeBufferPointer { kp in
            withUnsafeTemporaryAllocation(of: V.self, capacity: 64) { w in
                for off in stride(from: 0, to: length, by: 64) {
                    for t in 0..<16 {
                        let o = off + 4 * t
                        w[t] = V(UInt32(bigEndian: p.0.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                                 UInt32(bigEndian: p.1.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                                 UInt32(bigEndian: p.2.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                                 UInt32(bigEndian: p.3.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                                 UInt32(bigEndian: p.4.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                                 UInt32(bigEndian: p.5.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                                 UInt32(bigEndian: p.6.loadUnaligned(fromByteOffset: o, as: UInt32.self)),
                                 UInt32(bigEndian: p.7.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                    }
                    compress(&s, w, kp)
                }
                // Padding block, the same for every lane: 0x80, zeros, bit length.
                for t in 0..<16 { w[t] = V(repeating: 0) }
                w[0] = V(repeating: 0x8000_0000)
                let bits = UInt64(length) * 8
                w[14] = V(repeating: UInt32(truncatingIfNeeded: bits >> 32))
                w[15] = V(repeating: UInt32(truncatingIfNeeded: bits))
                compress(&s, w, kp)
            }
        }
        let hs = [s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7]
        return (0..<8).map { lane in
            hs.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v[lane] >> (24 - UInt32($0) * 8)) } }
        }
    }

    @inline(__always)
    private static func compress(_ s: inout (V, V, V, V, V, V, V, V), _ w: UnsafeMutableBufferPointer<V>,
                                 _ k: UnsafeBufferPointer<UInt32>) {
        for t in 16..<64 {
            let x = w[t - 15], y = w[t - 2]
            w[t] = w[t - 16] &+ (rotr(x, 7) ^ rotr(x, 18) ^ (x &>> 3)) &+ w[t - 7] &+ (rotr(y, 17) ^ rotr(y, 19) ^ (y &>> 10))
        }
        var (a, b, c, d, e, f, g, h) = s
        for t in 0..<64 {
            let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ V(repeating: k[t]) &+ w[t]
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
        }
        s = (s.0 &+ a, s.1 &+ b, s.2 &+ c, s.3 &+ d, s.4 &+ e, s.5 &+ f, s.6 &+ g, s.7 &+ h)
    }
}
