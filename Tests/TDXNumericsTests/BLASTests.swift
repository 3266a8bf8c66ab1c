import XCTest
import TDXCore
@testable import TDXNumerics

final class BLASTests: XCTestCase {
    func randomArray(_ n: Int, _ rng: inout SeededRNG) -> [Float] { (0..<n).map { _ in Float(rng.normal()) } }

    func testSgemmMatchesReferenceOnOddShapesAllTransposesAndStrides() {
        var rng = SeededRNG(seed: 1)
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 9, 33), (31, 65, 13)] {
            for ta in [Transpose.none, .transpose] {
                for tb in [Transpose.none, .transpose] {
                    // Padded leading dimensions exercise strided sub-matrices.
                    let lda = (ta == .none ? k : m) + 3, ldb = (tb == .none ? n : k) + 2, ldc = n + 5
                    let a = randomArray((ta == .none ? m : k) * lda, &rng)
                    let b = randomArray((tb == .none ? k : n) * ldb, &rng)
                    var c = randomArray(m * ldc, &rng)
                    var ref = c
                    Reference.sgemm(ta, tb, m: m, n: n, k: k, alpha: 0.7, a: a, lda: lda, b: b, ldb: ldb,
                                    beta: 0.3, c: &ref, ldc: ldc)
                    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemm(ta, tb, m: m, n: n, k: k, alpha: 0.7, a: pa.baseAddress!, lda: lda,
                                   b: pb.baseAddress!, ldb: ldb, beta: 0.3, c: pc.baseAddress!, ldc: ldc)
                    } } }
                    for i in 0..<(m * ldc) { XCTAssertEqual(c[i], ref[i], accuracy: 1e-4 * Float(k).squareRoot() + 1e-5) }
                }
            }
        }
    }

    func testMatmulAndTranspose() {
        var rng = SeededRNG(seed: 2)
        let a = Tensor.randomNormal(shape: [7, 5], std: 1, rng: &rng)
        let b = Tensor.randomNormal(shape: [7, 3], std: 1, rng: &rng)
        let c1 = BLAS.matmul(a, b, transA: .transpose)
        let c2 = BLAS.matmul(a.transposed(), b)
        XCTAssertEqual(c1.shape, [5, 3])
        for i in 0..<c1.count { XCTAssertEqual(c1.data[i], c2.data[i], accuracy: 1e-5) }
        XCTAssertEqual(a.transposed().transposed(), a)
        XCTAssertEqual(a.gatherRows([6, 0]).row(0), a.row(6))
    }

    func testMachineDescription() {
        let cpu = "processor\t: 0\nmodel name\t: AMD EPYC   7B13\nflags\t\t: avx2\n"
        XCTAssertEqual(Machine.describe(cpuinfo: cpu, cores: 2, blasCore: "Zen"),
                       "AMD EPYC 7B13, 2 cores, OpenBLAS Zen, tdx \(TDXVersion.string)")
        XCTAssertEqual(Machine.describe(cpuinfo: nil, cores: 1, blasCore: "Haswell"),
                       "unknown CPU, 1 core, OpenBLAS Haswell, tdx \(TDXVersion.string)")
        XCTAssertTrue(Machine.current.contains("OpenBLAS \(BLASRuntime.coreName)"), Machine.current)
    }

    func testRuntimeDecision() {
        let cpu = "processor : 0\nflags\t\t: fpu sse3 avx2 fma avx512f avx512bw avx512dq avx512vl\n"
        XCTAssertEqual(BLASRuntime.bestCoreForCPU(cpuinfo: cpu), "SkylakeX")
        XCTAssertEqual(BLASRuntime.bestCoreForCPU(cpuinfo: "flags : sse3 avx2 fma\n"), "Haswell")
        XCTAssertNil(BLASRuntime.bestCoreForCPU(cpuinfo: "flags : sse3\n"))
        XCTAssertEqual(BLASRuntime.decide(loaded: "Prescott", best: "SkylakeX", environment: [:]),
                       .reexec(core: "Prescott", want: "SkylakeX"))
        XCTAssertEqual(BLASRuntime.decide(loaded: "SkylakeX", best: "SkylakeX", environment: [:]), .fine(core: "SkylakeX"))
        XCTAssertEqual(BLASRuntime.decide(loaded: "Haswell", best: "Haswell", environment: [:]), .fine(core: "Haswell"))
        if case .stuck = BLASRuntime.decide(loaded: "Prescott", best: "SkylakeX", environment: [BLASRuntime.reexecMarker: "1"]) {} else {
            XCTFail("must not loop")
        }
        if case .stuck = BLASRuntime.decide(loaded: "Prescott", best: "Haswell", environment: ["OPENBLAS_CORETYPE": "Prescott"]) {} else {
            XCTFail("must respect the user's choice")
        }
        XCTAssertFalse(BLASRuntime.coreName.isEmpty)
    }
}

final class BLASBenchTests: XCTestCase {
    func testBenchRunsAndReportsCore() throws {
        let box = OutputBox()
        let io = CommandIO(out: { box.append($0) }, err: { _ in })
        XCTAssertEqual(try BLASBench.run(["--json", "--sizes", "64"], io: io), 0)
        XCTAssertTrue(box.text.contains("\"core\":\"\(BLASRuntime.coreName)\""), box.text)
        XCTAssertThrowsError(try BLASBench.run(["--bogus"], io: io))
    }
}

final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ s: String) { lock.lock(); parts.append(s); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return parts.joined() }
}
