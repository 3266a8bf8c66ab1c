import XCTest
import TDXCore
import TDXNumerics
@testable import TDXAnalysis

final class CorrelationTests: XCTestCase {
    func testPearsonAndSpearmanMatchNumPyAndSciPy() throws {
        let f = try Fixture.load("correlation.json") as! [String: Any]
        let (n, l, p) = (f["n"] as! Int, f["features"] as! Int, f["variables"] as! Int)
        let z = Fixture.doubles(f["z"]).map(Float.init), v = Fixture.doubles(f["v"]).map(Float.init)
        for (method, key) in [(CorrelationMethod.pearson, "pearson"), (.spearman, "spearman")] {
            let r = Correlation.matrix(features: z, variables: v, samples: n, featureCount: l, variableCount: p, method: method)
            let want = Fixture.doubles(f[key])
            XCTAssertEqual(r.shape, [l, p])
            for i in 0..<(l * p) { XCTAssertEqual(Double(r.data[i]), want[i], accuracy: 1e-5, "\(key)[\(i)]") }
            let best = Correlation.strongest(r)
            for j in 0..<p {
                let col = (0..<l).map { abs(want[$0 * p + j]) }
                XCTAssertEqual(best[j].index, col.firstIndex(of: col.max()!)!)
                XCTAssertEqual(Double(best[j].r), want[best[j].index * p + j], accuracy: 1e-5)
            }
        }
    }

    func testConstantColumnGivesZeroAndRowSubsets() {
        // 4 samples × 2 features (second constant), 1 variable.
        let z: [Float] = [1, 5, 2, 5, 3, 5, 4, 5], v: [Float] = [2, 4, 6, 9]
        let r = Correlation.matrix(features: z, variables: v, samples: 4, featureCount: 2, variableCount: 1)
        XCTAssertEqual(r.data[1], 0)
        let sub = Correlation.matrix(features: z, variables: v, samples: 4, featureCount: 2, variableCount: 1, rows: [0, 1, 2])
        XCTAssertEqual(sub.data[0], 1, accuracy: 1e-6)
    }

    /// Data where latent 3 tracks variable 0 in every experiment, plus noise latents.
    func plantedData(n: Int, l: Int, experiments: Int, rng: inout SeededRNG) -> ([Float], [Float], [Int]) {
        var z = (0..<(n * l)).map { _ in Float(rng.normal()) }
        let v = (0..<(n * 2)).map { _ in Float(rng.normal()) }
        for i in 0..<n { z[i * l + 3] = 0.6 * v[i * 2] + 0.8 * Float(rng.normal()) }
        return (z, v, (0..<n).map { $0 * experiments / n })
    }

    func testHeldOutSelectionPicksOnTrainAndReportsOnTest() {
        var rng = SeededRNG(seed: 2)
        let (n, l) = (2000, 50)
        let (z, v, ids) = plantedData(n: n, l: l, experiments: 10, rng: &rng)
        let train = (0..<n).filter { ids[$0] < 8 }, test = (0..<n).filter { ids[$0] >= 8 }
        let sel = Correlation.heldOut(features: z, variables: v, samples: n, featureCount: l, variableCount: 2,
                                      trainRows: train, testRows: test)
        XCTAssertEqual(sel[0].index, 3)
        XCTAssertEqual(Double(sel[0].testR), 0.6, accuracy: 0.1)
        let full = Correlation.matrix(features: z, variables: v, samples: n, featureCount: l, variableCount: 2, rows: test)
        XCTAssertEqual(sel[1].testR, full[sel[1].index, 1], accuracy: 1e-6)
        // Noise variable: held-out r is much smaller than the selection's train r (selection bias removed).
        XCTAssertLessThan(abs(sel[1].testR), abs(sel[1].trainR) + 0.05)
    }

    func testPermutationNullBandsAndBootstrap() {
        var rng = SeededRNG(seed: 3)
        let (n, l) = (1200, 40)
        let (z, v, ids) = plantedData(n: n, l: l, experiments: 12, rng: &rng)
        let zs = StandardisedColumns(z, rows: n, cols: l), vs = StandardisedColumns(v, rows: n, cols: 2)
        let null = PermutationNull.compute(features: zs, variables: vs, experimentIDs: ids, permutations: 200, rng: &rng, chunk: 64)
        XCTAssertEqual(null.maxScore.map(\.count), [200, 200])
        let band = null.percentile95
        let observed = Correlation.strongest(Correlation.matrix(zs, vs))
        XCTAssertGreaterThan(observed[0].absR, band[0])     // the planted latent beats the null
        // Max of 40 |r| at n = 1200 under the null is about 0.06–0.09.
        XCTAssertEqual(Double(band[1]), 0.08, accuracy: 0.03)
        // Naive check of one permutation draw: recompute with the same RNG stream.
        var rng2 = SeededRNG(seed: 99), rng3 = SeededRNG(seed: 99)
        let one = PermutationNull.compute(features: zs, variables: vs, experimentIDs: ids, permutations: 3, rng: &rng2, chunk: 2)
        let other = PermutationNull.compute(features: zs, variables: vs, experimentIDs: ids, permutations: 3, rng: &rng3, chunk: 3)
        // Chunking must not change the draws (nor, where the BLAS kernels are partition-invariant, the bits).
        if BLASRuntime.partitionInvariant { XCTAssertEqual(one, other) }
        for (a, b) in zip(one.maxScore, other.maxScore) { for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5) } }

        let sums = ExperimentCorrelationSums(features: zs, variables: vs, experimentIDs: ids)
        let ci = Bootstrap.maxCorrelation(sums, resamples: 300, rng: &rng)
        XCTAssertEqual(ci[0].estimate, Double(observed[0].absR), accuracy: 1e-4)
        XCTAssertLessThan(ci[0].lower, ci[0].estimate); XCTAssertGreaterThan(ci[0].upper, ci[0].estimate)
        XCTAssertGreaterThan(ci[0].lower, 0.4)
        let fixed = Bootstrap.correlation(sums, features: [3, 3], resamples: 300, rng: &rng)
        XCTAssertEqual(fixed[0].estimate, Double(Correlation.matrix(zs, vs)[3, 0]), accuracy: 1e-4)
        XCTAssertLessThan(fixed[1].lower, 0); XCTAssertGreaterThan(fixed[1].upper, 0)
    }
}

final class SparseCorrelationTests: XCTestCase {
    func testSparsePathMatchesDenseOnOddShapes() {
        var rng = SeededRNG(seed: 17)
        for (n, l, p) in [(37, 5, 1), (301, 67, 3), (500, 130, 2)] {
            var z = [Float](repeating: 0, count: n * l)
            for i in z.indices where rng.uniform() < 0.1 { z[i] = Float(rng.uniform() * 3) }
            for i in 0..<n { z[i * l] = 0 }               // an all-zero feature
            let v = (0..<(n * p)).map { _ in Float(rng.normal()) }
            let ids = (0..<n).map { $0 % 7 }
            let rows = Array(stride(from: 1, to: n, by: 2))
            let dense = StandardisedColumns(z, rows: n, cols: l, selecting: rows)
            let sparse = SparseFeatures(z, rows: n, cols: l, selecting: rows)
            let vs = StandardisedColumns(v, rows: n, cols: p, selecting: rows)
            XCTAssertEqual(sparse.density, 0.1, accuracy: 0.05)
            let a = Correlation.matrix(dense, vs), b = Correlation.matrix(sparse, vs)
            for i in a.data.indices { XCTAssertEqual(a.data[i], b.data[i], accuracy: 2e-5) }
            let sub = rows.map { ids[$0] }
            for sign in CorrelationSign.allCases {
                var r1 = SeededRNG(seed: 5), r2 = SeededRNG(seed: 5)
                let nd = PermutationNull.compute(features: dense, variables: vs, experimentIDs: sub, permutations: 40, rng: &r1, chunk: 16,
                                                 sign: sign)
                let ns = PermutationNull.compute(features: sparse, variables: vs, experimentIDs: sub, permutations: 40, rng: &r2, chunk: 16,
                                                 sign: sign)
                for j in 0..<p { for k in 0..<40 { XCTAssertEqual(nd.maxScore[j][k], ns.maxScore[j][k], accuracy: 2e-5, "\(sign)") } }
            }
        }
    }

    /// The SIMD max-score kernel against a plain loop, on lengths around its 8-wide step.
    func testMaxScoreKernelMatchesNaive() {
        var rng = SeededRNG(seed: 8)
        for n in [1, 7, 8, 9, 37] {
            let x = (0..<n).map { _ in Float(rng.normal()) }
            for sign in CorrelationSign.allCases {
                // The kernel starts from the lowest score an r can have.
                let naive = max(x.map(sign.score).max()!, sign == .absolute ? 0 : -1)
                XCTAssertEqual(x.withUnsafeBufferPointer { PermutationNull.maxScore($0.baseAddress!, count: n, sign: sign) }, naive,
                               "\(sign), n = \(n)")
            }
        }
    }
}

final class CorrelationSignTests: XCTestCase {
    /// Latent 3 tracks −variable 0: `negative` and `abs` find it; `positive` does not.
    func testSignedSelection() {
        var rng = SeededRNG(seed: 6)
        let (n, l) = (1200, 40)
        let ids = (0..<n).map { $0 / 100 }
        var z = (0..<(n * l)).map { _ in Float(rng.normal()) }
        let v = (0..<(n * 2)).map { _ in Float(rng.normal()) }
        for i in 0..<n { z[i * l + 3] = -0.6 * v[i * 2] + 0.8 * Float(rng.normal()) }
        func run(_ sign: CorrelationSign) -> CorrelationSummary {
            var r = SeededRNG(seed: 1)
            return CorrelationAnalysis.run(features: z, featureCount: l, variables: v, variableCount: 2, experimentIDs: ids,
                                           options: CorrelationOptions(permutations: 50, bootstrapResamples: 50, testExperiments: [10, 11],
                                                                       sign: sign), rng: &r)
        }
        let (a, pos, neg) = (run(.absolute), run(.positive), run(.negative))
        XCTAssertEqual(a.best[0].index, 3); XCTAssertEqual(neg.best[0].index, 3)
        XCTAssertEqual(neg.best[0].r, a.best[0].r)
        XCTAssertLessThan(neg.best[0].r, -0.5)
        XCTAssertNotEqual(pos.best[0].index, 3)
        XCTAssertGreaterThan(pos.best[0].r, 0); XCTAssertLessThan(pos.best[0].r, 0.15)
        XCTAssertEqual(neg.heldOut?[0].index, 3); XCTAssertNotEqual(pos.heldOut?[0].index, 3)
        XCTAssertEqual(neg.confidence![0].estimate, Double(-neg.best[0].r), accuracy: 1e-4)
        XCTAssertEqual(pos.confidence![0].estimate, Double(pos.best[0].r), accuracy: 1e-4)
        // One-sided nulls sit below the two-sided one (same draws, a max over fewer signs).
        for j in 0..<2 {
            XCTAssertLessThanOrEqual(pos.null95![j], a.null95![j]); XCTAssertLessThanOrEqual(neg.null95![j], a.null95![j])
        }
        XCTAssertGreaterThan(-neg.best[0].r, neg.null95![0])
        XCTAssertLessThan(pos.best[0].r, pos.null95![0] + 0.05)
    }
}

final class CorrelationAnalysisTests: XCTestCase {
    func testSummaryOnSparseAndDenseFeaturesAgrees() {
        var rng = SeededRNG(seed: 41)
        let (n, l, p) = (1500, 60, 2)
        let v = (0..<(n * p)).map { _ in Float(rng.normal()) }
        var z = [Float](repeating: 0, count: n * l)
        for i in 0..<n {
            for f in 0..<l where rng.uniform() < 0.03 { z[i * l + f] = Float(rng.uniform()) }
            z[i * l + 7] = max(0, v[i * p] - 1)        // a sparse latent that tracks variable 0
        }
        let ids = (0..<n).map { $0 / 100 }
        var sparseOptions = CorrelationOptions(permutations: 100, bootstrapResamples: 100, testExperiments: [13, 14])
        var r1 = SeededRNG(seed: 1), r2 = SeededRNG(seed: 1)
        let a = CorrelationAnalysis.run(features: z, featureCount: l, variables: v, variableCount: p, experimentIDs: ids,
                                        options: sparseOptions, rng: &r1)
        sparseOptions.sparseDensity = 0      // force the dense kernel
        let b = CorrelationAnalysis.run(features: z, featureCount: l, variables: v, variableCount: p, experimentIDs: ids,
                                        options: sparseOptions, rng: &r2)
        XCTAssertEqual(a.best.map(\.index), b.best.map(\.index))
        XCTAssertEqual(a.best[0].index, 7)
        for j in 0..<p {
            XCTAssertEqual(a.best[j].r, b.best[j].r, accuracy: 1e-5)
            XCTAssertEqual(a.null95![j], b.null95![j], accuracy: 1e-5)
            XCTAssertEqual(a.confidence![j].lower, b.confidence![j].lower, accuracy: 1e-5)
        }
        XCTAssertGreaterThan(a.best[0].absR, a.null95![0])
        XCTAssertEqual(a.heldOut?[0].index, 7)
        let spearman = CorrelationAnalysis.run(features: z, featureCount: l, variables: v, variableCount: p, experimentIDs: ids,
                                               options: CorrelationOptions(method: .spearman, permutations: 0, bootstrapResamples: 0),
                                               rng: &r1)
        XCTAssertEqual(spearman.best[0].index, 7)
        XCTAssertNil(spearman.null95); XCTAssertNil(spearman.confidence); XCTAssertNil(spearman.heldOut)
    }

    /// Spearman's column ranks: 1-based, ties averaged, each column on its own (row-major input).
    func testRankColumnsAverageTies() {
        var x: [Float] = [3, 1,
                          1, 1,
                          2, 1,
                          2, 5]
        StandardisedColumns.rankColumns(&x, rows: 4, cols: 2)
        XCTAssertEqual(x, [4, 2,
                           1, 2,
                           2.5, 2,
                           2.5, 4])
    }
}
