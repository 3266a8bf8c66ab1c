import XCTest
import TDXCore
@testable import TDXNumerics

final class KernelTests: XCTestCase {
    func randomArray(_ n: Int, _ rng: inout SeededRNG) -> [Float] { (0..<n).map { _ in Float(rng.normal()) } }
    let shapes = [(1, 1), (3, 7), (5, 17), (13, 33)]

    func testFusedKernelsMatchReference() {
        var rng = SeededRNG(seed: 3)
        for (rows, cols) in shapes {
            let n = rows * cols
            let bias = randomArray(cols, &rng)
            var x = randomArray(n, &rng), xr = x
            let s = x.withUnsafeMutableBufferPointer { p in bias.withUnsafeBufferPointer {
                Kernels.addBiasReLU(p.baseAddress!, rows: rows, cols: cols, bias: $0.baseAddress!) } }
            let sr = Reference.addBiasReLU(&xr, rows: rows, cols: cols, bias: bias)
            XCTAssertEqual(x, xr); XCTAssertEqual(s, sr, accuracy: 1e-4)

            let target = randomArray(n, &rng)
            var e = randomArray(n, &rng), er = e
            let ss = e.withUnsafeMutableBufferPointer { p in bias.withUnsafeBufferPointer { b in target.withUnsafeBufferPointer { t in
                Kernels.biasedResidual(p.baseAddress!, target: t.baseAddress!, rows: rows, cols: cols, bias: b.baseAddress!) } } }
            let ssr = Reference.biasedResidual(&er, target: target, rows: rows, cols: cols, bias: bias)
            XCTAssertEqual(e, er); XCTAssertEqual(ss, ssr, accuracy: 1e-3)

            var g = randomArray(n, &rng), gr = g
            g.withUnsafeMutableBufferPointer { p in x.withUnsafeBufferPointer {
                Kernels.reluBackwardL1(p.baseAddress!, h: $0.baseAddress!, count: n, l1: 0.25) } }
            Reference.reluBackwardL1(&gr, h: x, l1: 0.25)
            XCTAssertEqual(g, gr)

            var cs = [Float](repeating: 0, count: cols)
            g.withUnsafeBufferPointer { p in cs.withUnsafeMutableBufferPointer {
                Kernels.columnSums(p.baseAddress!, rows: rows, cols: cols, scale: 0.5, out: $0.baseAddress!) } }
            let csr = Reference.columnSums(g, rows: rows, cols: cols, scale: 0.5)
            for j in 0..<cols { XCTAssertEqual(cs[j], csr[j], accuracy: 1e-4) }

            var w = randomArray(n, &rng), wr = w
            w.withUnsafeMutableBufferPointer { Kernels.normaliseRows($0.baseAddress!, rows: rows, cols: cols) }
            Reference.normaliseRows(&wr, rows: rows, cols: cols)
            for i in 0..<n { XCTAssertEqual(w[i], wr[i], accuracy: 1e-5) }

            let sq = w.withUnsafeBufferPointer { Kernels.sumOfSquares($0.baseAddress!, count: n) }
            XCTAssertEqual(sq, Double(rows), accuracy: 1e-4)

            for k in [1, 2, cols / 2, cols] {
                var t = randomArray(n, &rng).map { ($0 * 2).rounded() }   // rounding makes ties
                var tr = t
                t.withUnsafeMutableBufferPointer { Kernels.topKRows($0.baseAddress!, rows: rows, cols: cols, k: k) }
                Reference.topKRows(&tr, rows: rows, cols: cols, k: k)
                XCTAssertEqual(t, tr, "k=\(k) shape \(rows)x\(cols)")
            }
        }
    }

    func testAdamMatchesReference() {
        var rng = SeededRNG(seed: 4)
        for n in [1, 7, 8, 37] {
            var p = randomArray(n, &rng), pr = p
            var state = AdamState(count: n)
            var mr = [Float](repeating: 0, count: n), vr = mr
            var adam = Adam(lr: 1e-2)
            for t in 1...5 {
                let g = randomArray(n, &rng)
                adam.beginStep()
                adam.update(&p, grad: g, state: &state)
                Reference.adam(&pr, grad: g, m: &mr, v: &vr, t: t, lr: 1e-2)
            }
            for i in 0..<n { XCTAssertEqual(p[i], pr[i], accuracy: 1e-5) }
        }
    }

    func testAdamFirstStepMovesByLearningRate() {
        // With bias correction the first step is lr · sign(g) (up to ε).
        var p: [Float] = [1, 1, 1]
        var s = AdamState(count: 3)
        var adam = Adam(lr: 1e-3)
        adam.beginStep()
        adam.update(&p, grad: [5, -0.01, 100], state: &s)
        XCTAssertEqual(p[0], 1 - 1e-3, accuracy: 1e-6)
        XCTAssertEqual(p[1], 1 + 1e-3, accuracy: 1e-6)
        XCTAssertEqual(p[2], 1 - 1e-3, accuracy: 1e-6)
    }
}

final class ParallelTests: XCTestCase {
    func testSplitCoversTheRangeWithNonEmptyParts() {
        for cores in [1, 2, 3, 16, 64] {
            for count in [0, 1, 2, 7, 10, 26, 31, 100, 1000] {
                for minChunk in [1, 3, 64] {
                    let parts = Parallel.split(count, minChunk: minChunk, cores: cores)
                    XCTAssertLessThanOrEqual(parts.count, max(cores, 1))
                    XCTAssertEqual(parts.flatMap { Array($0) }, Array(0..<count), "count \(count) cores \(cores)")
                    XCTAssertTrue(parts.allSatisfy { !$0.isEmpty })
                }
            }
        }
    }

    func testChunksRunsEveryIndexOnce() {
        var hits = [Int](repeating: 0, count: 1000)
        hits.withUnsafeMutableBufferPointer { b in
            let p = UncheckedPointer(b.baseAddress!)
            Parallel.chunks(1000, minChunk: 10) { r in for i in r { p.value[i] += 1 } }
        }
        XCTAssertEqual(hits, [Int](repeating: 1, count: 1000))
    }
}
