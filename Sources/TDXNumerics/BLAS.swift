import CBLAS

/// Whether a matrix operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none, transpose
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Thin row-major wrapper over OpenBLAS's CBLAS. Leading dimensions allow strided sub-matrices.
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major. op(A) is m×k, op(B) is k×n;
    /// `lda`, `ldb`, `ldc` are the row strides of the matrices as stored.
    @inline(__always)
    public static func sgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0)
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Array form of `sgemm` with dense leading dimensions.
    public static func sgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]) {
        let lda = transA == .none ? k : m
        let ldb = transB == .none ? n : k
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!, lda: lda,
                          b: pb.baseAddress!, ldb: ldb, beta: beta, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// op(A) · op(B) for 2-D tensors.
    public static func matmul(_ a: Tensor, _ b: Tensor, transA: Transpose = .none, transB: Transpose = .none) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2)
        let (m, ka) = transA == .none ? (a.shape[0], a.shape[1]) : (a.shape[1], a.shape[0])
        let (kb, n) = transB == .none ? (b.shape[0], b.shape[1]) : (b.shape[1], b.shape[0])
        precondition(ka == kb, "inner dimensions differ: \(ka) vs \(kb)")
        var c = [Float](repeating: 0, count: m * n)
        sgemm(transA, transB, m: m, n: n, k: ka, a: a.data, b: b.data, c: &c)
        return Tensor(shape: [m, n], data: c)
    }

    /// Number of threads OpenBLAS uses.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}
