import CBLAS

extension SAEDictionary {
    /// Latent activations of n rows x [n × inputDim] → f [n × latentCount], the encoder applied as one product
    /// (the forward pass edits every position of a pass at once). `encode(_:)` is the one-vector reference.
    public func encode(rows x: UnsafePointer<Float>, count n: Int) -> [Float] {
        let d = inputDim, s = latentCount
        guard n > 0 else { return [] }
        // xn [n × d]: the normalised rows the encoder reads.
        var xn = [Float](repeating: 0, count: n * d)
        for r in 0..<n { for i in 0..<d {
            var v = (x[r * d + i] - (inputShift?[i] ?? 0)) * inputScale
            if subtractDecoderBias { v -= decoderBias[i] }
            xn[r * d + i] = v
        } }
        // f [n × s] = b_enc + xn·W_enc
        var f = [Float](repeating: 0, count: n * s)
        for r in 0..<n { for j in 0..<s { f[r * s + j] = encoderBias[j] } }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(s), Int32(d), 1, xn, Int32(d), encoder, Int32(s),
                    1, &f, Int32(s))
        switch activation {
        case .relu:
            for i in f.indices where f[i] < 0 { f[i] = 0 }
        case .topK(let k):
            for r in 0..<n {
                let row = Array(f[(r * s)..<((r + 1) * s)])
                let keep = Set(row.indices.sorted { row[$0] > row[$1] }.prefix(k))
                for j in 0..<s where !keep.contains(j) || row[j] < 0 { f[r * s + j] = 0 }
            }
        }
        return f
    }

    /// Reconstructions of n rows of latents f [n × latentCount] → [n × inputDim], in input space, as one
    /// product. `decode(_:)` is the one-vector reference.
    public func decode(rows f: [Float], count n: Int) -> [Float] {
        let d = inputDim, s = latentCount
        guard n > 0 else { return [] }
        // y [n × d] = b_dec + f·W_dec, then back to input space.
        var y = [Float](repeating: 0, count: n * d)
        for r in 0..<n { for i in 0..<d { y[r * d + i] = decoderBias[i] } }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(s), 1, f, Int32(s), decoder, Int32(d),
                    1, &y, Int32(d))
        for r in 0..<n { for i in 0..<d { y[r * d + i] = y[r * d + i] / inputScale + (inputShift?[i] ?? 0) } }
        return y
    }
}
