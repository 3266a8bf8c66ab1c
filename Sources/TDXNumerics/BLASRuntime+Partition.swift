import CBLAS
import Foundation

extension BLASRuntime {
    /// Whether the loaded kernels compute each element of a product with the same bits whatever the size of
    /// the product it is part of. OpenBLAS's SkylakeX kernels do; its Zen (Haswell) kernels do not: on a
    /// 2-core AMD EPYC, rows computed in one [380 × 64]·[64 × 192] product and in three of about 127 rows
    /// differ in their last bits. Where this is false, splitting work differently (threads, chunks, batches)
    /// moves results in their last bits, so tdx's results then depend on the core count as well as the CPU.
    public static let partitionInvariant: Bool = probePartition()

    private static func probePartition() -> Bool {
        let (n, k, m) = (380, 64, 192)
        var state: UInt32 = 12345
        func next() -> Float { state = state &* 1_664_525 &+ 1_013_904_223; return Float(state >> 8) / Float(1 << 24) - 0.5 }
        let x = (0..<(n * k)).map { _ in next() }, w = (0..<(m * k)).map { _ in next() }
        var whole = [Float](repeating: 0, count: n * m), byRows = whole
        let saved = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(saved) }
        // The same product whole, in three row blocks, and in three 64-wide column blocks.
        var byColumns = whole
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
            func product(rows r: Range<Int>, cols c: Range<Int>, into out: UnsafeMutablePointer<Float>) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(r.count), Int32(c.count), Int32(k), 1,
                            xp.baseAddress! + r.lowerBound * k, Int32(k), wp.baseAddress! + c.lowerBound * k, Int32(k),
                            0, out + r.lowerBound * m + c.lowerBound, Int32(m))
            }
            whole.withUnsafeMutableBufferPointer { product(rows: 0..<n, cols: 0..<m, into: $0.baseAddress!) }
            byRows.withUnsafeMutableBufferPointer { p in
                for i in 0..<3 { product(rows: (i * n / 3)..<((i + 1) * n / 3), cols: 0..<m, into: p.baseAddress!) }
            }
            byColumns.withUnsafeMutableBufferPointer { p in
                for c0 in stride(from: 0, to: m, by: 64) { product(rows: 0..<n, cols: c0..<min(m, c0 + 64), into: p.baseAddress!) }
            }
        } }
        return whole == byRows && whole == byColumns
    }
}
