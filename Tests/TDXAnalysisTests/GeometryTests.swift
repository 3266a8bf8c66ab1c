import XCTest
import TDXCore
@testable import TDXAnalysis

final class GeometryTests: XCTestCase {
    func testGaussianSmoothingMatchesSciPy() throws {
        let cases = try Fixture.load("smoothing.json") as! [[String: Any]]
        for c in cases {
            let x = Fixture.doubles(c["x"]), want = Fixture.doubles(c["expected"])
            let got = GaussianSmoothing.filter1d(x, sigma: (c["sigma"] as! NSNumber).doubleValue)
            for i in x.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-12, "n=\(x.count) σ=\(c["sigma"]!) i=\(i)") }
        }
    }

    /// Rotation/reflection + translation of `a` onto `b` (2-D), then RMS difference.
    func procrustesRMS(_ a: [Double], _ b: [Double]) -> Double {
        let n = a.count / 2
        func centred(_ x: [Double]) -> [Double] {
            let mx = stride(from: 0, to: x.count, by: 2).map { x[$0] }.reduce(0, +) / Double(n)
            let my = stride(from: 1, to: x.count, by: 2).map { x[$0] }.reduce(0, +) / Double(n)
            return x.enumerated().map { $0.offset % 2 == 0 ? $0.element - mx : $0.element - my }
        }
        let bc = centred(b)
        var best = Double.infinity
        for flip in [1.0, -1.0] {
            let ac = centred(a).enumerated().map { $0.offset % 2 == 0 ? $0.element * flip : $0.element }
            var sxx = 0.0, sxy = 0.0
            for i in 0..<n {
                sxx += ac[2 * i] * bc[2 * i] + ac[2 * i + 1] * bc[2 * i + 1]
                sxy += ac[2 * i] * bc[2 * i + 1] - ac[2 * i + 1] * bc[2 * i]
            }
            let t = atan2(sxy, sxx)
            var ss = 0.0
            for i in 0..<n {
                let x = cos(t) * ac[2 * i] - sin(t) * ac[2 * i + 1], y = sin(t) * ac[2 * i] + cos(t) * ac[2 * i + 1]
                ss += (x - bc[2 * i]) * (x - bc[2 * i]) + (y - bc[2 * i + 1]) * (y - bc[2 * i + 1])
            }
            best = min(best, (ss / Double(n)).squareRoot())
        }
        return best
    }

    func testSMACOFMatchesScikitLearn() throws {
        let f = try Fixture.load("mds.json") as! [String: Any]
        let n = f["n"] as! Int
        let d = Fixture.doubles(f["dissimilarity"])
        // Same start as sklearn's smacof(init=…): same iterates.
        let single = f["single"] as! [String: Any]
        let r = MDS.smacof(d, n: n, initial: Fixture.doubles(f["init"]), components: 2)
        XCTAssertEqual(r.iterations, single["iterations"] as! Int)
        XCTAssertEqual(r.stress, (single["stress"] as! NSNumber).doubleValue, accuracy: 1e-8)
        let sc = Fixture.doubles(single["coordinates"])
        for i in sc.indices { XCTAssertEqual(r.coordinates[i], sc[i], accuracy: 1e-8) }
        // Best of several random starts: stress as low as sklearn's best, same layout after Procrustes.
        let best = f["best"] as! [String: Any]
        var rng = SeededRNG(seed: 4)
        let ours = MDS.smacof(d, n: n, starts: 8, rng: &rng)
        let theirs = (best["stress"] as! NSNumber).doubleValue
        XCTAssertLessThanOrEqual(ours.stress, theirs * 1.001)
        let scale = (d.map { $0 * $0 }.reduce(0, +) / Double(n * n)).squareRoot()
        XCTAssertLessThan(procrustesRMS(ours.coordinates, Fixture.doubles(best["coordinates"])), 0.01 * scale)
        XCTAssertEqual(ours.normalisedStress, (ours.stress / (MDS.distances(ours.coordinates, n: n, k: 2).map { $0 * $0 }.reduce(0, +) / 2)).squareRoot(), accuracy: 1e-12)
    }

    func testCommunityScoreMatchesScikitLearnSilhouette() throws {
        let f = try Fixture.load("community.json") as! [String: Any]
        let s = CommunityScore(distance: Fixture.doubles(f["distance"]), labels: f["labels"] as! [Int])
        XCTAssertEqual(s.silhouette, (f["silhouette"] as! NSNumber).doubleValue, accuracy: 1e-12)
        XCTAssertEqual(s.meanWithin, (f["within"] as! NSNumber).doubleValue, accuracy: 1e-12)
        XCTAssertEqual(s.meanBetween, (f["between"] as! NSNumber).doubleValue, accuracy: 1e-12)
        XCTAssertLessThan(s.ratio, 1)
    }

    /// Spearman over upper triangles, by hand: pairs (0,1), (0,2), (1,2) ordered 1 < 2 < 3 against
    /// 10 < 30 > 20 give ranks [1, 2, 3] vs [1, 3, 2], r = 1 − 6·2 / (3·8) = 0.5.
    func testRSASpearmanOfUpperTriangles() {
        let a: [Double] = [0, 1, 2,  1, 0, 3,  2, 3, 0]
        let b: [Double] = [0, 10, 30,  10, 0, 20,  30, 20, 0]
        XCTAssertEqual(RSA.spearman(a, b, n: 3), 0.5, accuracy: 1e-12)
        XCTAssertEqual(RSA.spearman(a, a.map { 2 * $0 + 1 }, n: 3), 1, accuracy: 1e-12)
        XCTAssertTrue(RSA.spearman(a, [Double](repeating: 4, count: 9), n: 3).isNaN)
        XCTAssertTrue(RSA.spearman([0, 1, 1, 0], [0, 2, 2, 0], n: 2).isNaN, "one pair")
        XCTAssertEqual(StandardisedColumns.averageRanks([3, 1, 2, 2] as [Double]), [4, 1, 2.5, 2.5])
    }
}
