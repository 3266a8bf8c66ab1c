import TDXCore

/// What to compute for one block's features against the task variables (SCIENCE.md §6.1).
public struct CorrelationOptions: Sendable, Equatable, Codable {
    public var method: CorrelationMethod
    /// Permutations for the max-|r| null; 0 skips it.
    public var permutations: Int
    /// Bootstrap resamples over experiments for the max-|r| CI; 0 skips it.
    public var bootstrapResamples: Int
    public var confidenceLevel: Double
    /// Experiments held out for selection-free reporting; empty skips the held-out analysis.
    public var testExperiments: [Int]
    /// Pearson on features with at most this fraction of non-zeros uses the sparse kernel.
    public var sparseDensity: Double
    /// What the max over features maximises: |r|, r or −r.
    public var sign: CorrelationSign

    public init(method: CorrelationMethod = .pearson, permutations: Int = 1000, bootstrapResamples: Int = 1000,
                confidenceLevel: Double = 0.95, testExperiments: [Int] = [], sparseDensity: Double = 0.05,
                sign: CorrelationSign = .absolute) {
        self.method = method; self.permutations = permutations; self.bootstrapResamples = bootstrapResamples
        self.confidenceLevel = confidenceLevel; self.testExperiments = testExperiments; self.sparseDensity = sparseDensity
        self.sign = sign
    }
}

/// One block's result, one entry per variable.
public struct CorrelationSummary: Sendable, Equatable, Codable {
    /// The strongest feature (by `options.sign`) and its signed r on all samples.
    public var best: [MaxCorrelation]
    /// Picked on training experiments, reported on `testExperiments`; nil when none are held out.
    public var heldOut: [HeldOutSelection]?
    /// 95th percentile of the max score under within-experiment shuffles; nil when skipped.
    public var null95: [Float]?
    /// Bootstrap CI of the max score over experiments; nil when skipped.
    public var confidence: [BootstrapCI]?
}

public enum CorrelationAnalysis {
    /// Correlates `features` (samples × featureCount: SAE latents or raw residual dimensions) with `variables`
    /// (samples × variableCount), one experiment id per sample.
    public static func run(features: [Float], featureCount l: Int, variables: [Float], variableCount p: Int,
                           experimentIDs: [Int], options: CorrelationOptions, rng: inout SeededRNG) -> CorrelationSummary {
        let n = experimentIDs.count
        precondition(features.count == n * l && variables.count == n * p)
        let vs = StandardisedColumns(variables, rows: n, cols: p, method: options.method)
        let nonZeros = features.reduce(0) { $1 != 0 ? $0 + 1 : $0 }
        let sparse = options.method == .pearson && Double(nonZeros) <= options.sparseDensity * Double(max(features.count, 1))

        var summary = CorrelationSummary(best: [], heldOut: nil, null95: nil, confidence: nil)
        var dense: StandardisedColumns?
        if sparse {
            let zs = SparseFeatures(features, rows: n, cols: l)
            summary.best = Correlation.strongest(Correlation.matrix(zs, vs), sign: options.sign)
            if options.permutations > 0 {
                summary.null95 = PermutationNull.compute(features: zs, variables: vs, experimentIDs: experimentIDs,
                                                         permutations: options.permutations, rng: &rng, sign: options.sign).percentile95
            }
        } else {
            let zs = StandardisedColumns(features, rows: n, cols: l, method: options.method)
            summary.best = Correlation.strongest(Correlation.matrix(zs, vs), sign: options.sign)
            if options.permutations > 0 {
                summary.null95 = PermutationNull.compute(features: zs, variables: vs, experimentIDs: experimentIDs,
                                                         permutations: options.permutations, rng: &rng, sign: options.sign).percentile95
            }
            dense = zs
        }
        if options.bootstrapResamples > 0 {
            let zs = dense ?? StandardisedColumns(features, rows: n, cols: l, method: options.method)
            let sums = ExperimentCorrelationSums(features: zs, variables: vs, experimentIDs: experimentIDs)
            summary.confidence = Bootstrap.maxCorrelation(sums, resamples: options.bootstrapResamples,
                                                          level: options.confidenceLevel, sign: options.sign, rng: &rng)
        }
        if !options.testExperiments.isEmpty {
            let held = Set(options.testExperiments)
            let test = (0..<n).filter { held.contains(experimentIDs[$0]) }
            let train = (0..<n).filter { !held.contains(experimentIDs[$0]) }
            if !test.isEmpty && !train.isEmpty {
                summary.heldOut = Correlation.heldOut(features: features, variables: variables, samples: n, featureCount: l,
                                                      variableCount: p, trainRows: train, testRows: test, method: options.method,
                                                      sign: options.sign)
            }
        }
        return summary
    }
}
