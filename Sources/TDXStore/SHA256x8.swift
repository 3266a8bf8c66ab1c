/// Eight independent SHA-256 computations at once, one per SIMD lane (multi-buffer hashing).
/// All eight messages have the same length, a multiple of 64 bytes.
enum SHA256x8 {
    typealias V = SIMD8<UInt32>

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

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
