import TDXCore

/// A dense row-major float tensor: a flat buffer plus its shape. Value type; copy-on-write via `[Float]`.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, repeating: 0)
    }

    public init(shape: [Int], repeating value: Float) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Independent N(0, std²) entries drawn from `rng`.
    public static func randomNormal(shape: [Int], std: Float, rng: inout SeededRNG) -> Tensor {
        let n = shape.reduce(1, *)
        var d = [Float](repeating: 0, count: n)
        for i in 0..<n { d[i] = Float(rng.normal()) * std }
        return Tensor(shape: shape, data: d)
    }

    /// Uniform entries in [lo, hi).
    public static func randomUniform(shape: [Int], lo: Float, hi: Float, rng: inout SeededRNG) -> Tensor {
        let n = shape.reduce(1, *)
        var d = [Float](repeating: 0, count: n)
        for i in 0..<n { d[i] = lo + (hi - lo) * rng.uniformFloat() }
        return Tensor(shape: shape, data: d)
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
    /// Rows of a matrix (first dimension).
    public var rows: Int { shape[0] }
    /// Columns of a matrix (product of trailing dimensions).
    public var cols: Int { shape.dropFirst().reduce(1, *) }

    public subscript(i: Int, j: Int) -> Float {
        get { data[i * cols + j] }
        set { data[i * cols + j] = newValue }
    }

    /// Row `i` of a matrix as a new array.
    public func row(_ i: Int) -> [Float] { Array(data[(i * cols)..<((i + 1) * cols)]) }

    /// Matrix transpose of a 2-D tensor.
    public func transposed() -> Tensor {
        precondition(rank == 2)
        let (r, c) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: data.count)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Blocked so both sides stay in cache for large matrices.
                let bs = 32
                for i0 in stride(from: 0, to: r, by: bs) {
                    for j0 in stride(from: 0, to: c, by: bs) {
                        for i in i0..<min(i0 + bs, r) {
                            for j in j0..<min(j0 + bs, c) { dst[j * r + i] = src[i * c + j] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [c, r], data: out)
    }

    /// Rows `indices` of a matrix, gathered in order.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        let c = cols
        var out = [Float](repeating: 0, count: indices.count * c)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    (dst.baseAddress! + k * c).update(from: src.baseAddress! + i * c, count: c)
                }
            }
        }
        return Tensor(shape: [indices.count] + Array(shape.dropFirst()), data: out)
    }
}
