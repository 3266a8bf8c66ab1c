import Foundation

/// Hyper-parameters of a Llama-family decoder.
public struct LlamaConfig: Sendable, Equatable, Codable {
    public var blockCount: Int
    public var dModel: Int
    public var ffnDim: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var rmsEps: Float
    public var ropeBase: Double
    /// Per rotary pair divisors of the frequency (Llama-3.1 scaling); nil = none.
    public var ropeFreqFactors: [Float]?
    public var tiedEmbeddings: Bool

    public init(blockCount: Int, dModel: Int, ffnDim: Int, headCount: Int, kvHeadCount: Int, headDim: Int? = nil,
                vocabSize: Int, contextLength: Int = 8192, rmsEps: Float = 1e-5, ropeBase: Double = 10000,
                ropeFreqFactors: [Float]? = nil, tiedEmbeddings: Bool) {
        self.blockCount = blockCount; self.dModel = dModel; self.ffnDim = ffnDim
        self.headCount = headCount; self.kvHeadCount = kvHeadCount; self.headDim = headDim ?? dModel / headCount
        self.vocabSize = vocabSize; self.contextLength = contextLength; self.rmsEps = rmsEps
        self.ropeBase = ropeBase; self.ropeFreqFactors = ropeFreqFactors; self.tiedEmbeddings = tiedEmbeddings
    }

    /// Width of the fused q|k|v projection.
    public var qkvDim: Int { (headCount + 2 * kvHeadCount) * headDim }
    public var parameterCount: Int {
        let block = 2 * dModel + qkvDim * dModel + headCount * headDim * dModel + 3 * ffnDim * dModel
        return blockCount * block + vocabSize * dModel * (tiedEmbeddings ? 1 : 2) + dModel
    }

    /// Llama-3.1 `rope_scaling` (rope_type "llama3") as per-pair frequency divisors, as llama.cpp's converter computes them.
    public static func llama3FreqFactors(headDim: Int, base: Double, factor: Double, lowFreqFactor: Double,
                                         highFreqFactor: Double, originalContext: Double) -> [Float] {
        let lowWavelen = originalContext / lowFreqFactor
        let highWavelen = originalContext / highFreqFactor
        return stride(from: 0, to: headDim, by: 2).map { i in
            let freq = 1 / pow(base, Double(i) / Double(headDim))
            let wavelen = 2 * Double.pi / freq
            if wavelen < highWavelen { return 1 }
            if wavelen > lowWavelen { return Float(factor) }
            let smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }
}
