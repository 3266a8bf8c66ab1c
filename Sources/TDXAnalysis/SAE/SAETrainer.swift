import Foundation
import TDXCore
import TDXNumerics

/// Rows of a data set assigned to training and held-out evaluation, split by experiment.
public struct SAESplit: Sendable, Equatable {
    public var train: [Int]
    public var test: [Int]
    public var testExperiments: [Int]

    /// Holds out round(fraction · E) experiments (at least one when there are two or more), chosen by `rng`.
    public static func byExperiment(_ experimentIDs: [Int], testFraction: Double, rng: inout SeededRNG) -> SAESplit {
        var experiments = Array(Set(experimentIDs)).sorted()
        experiments.shuffle(using: &rng)
        var nTest = Int((Double(experiments.count) * testFraction).rounded())
        if experiments.count >= 2 { nTest = min(max(nTest, testFraction > 0 ? 1 : 0), experiments.count - 1) } else { nTest = 0 }
        let held = Set(experiments.prefix(nTest))
        var split = SAESplit(train: [], test: [], testExperiments: held.sorted())
        for (r, e) in experimentIDs.enumerated() {
            if held.contains(e) { split.test.append(r) } else { split.train.append(r) }
        }
        return split
    }
}

/// Held-out quality of an SAE.
public struct SAEEvaluation: Sendable, Equatable, Codable {
    public var loss: Double
    public var mse: Double
    /// Fraction of variance explained: 1 − Σ‖x̃ − x̂‖² / Σ‖x̃ − mean x̃‖².
    public var fve: Double
    /// Mean number of active latents per sample.
    public var l0: Double
    /// Fraction of latents that never fire on the evaluated rows.
    public var deadFraction: Double
}

/// One epoch's record.
public struct SAEEpochMetrics: Sendable, Equatable, Codable {
    public var epoch: Int
    public var trainLoss: Double
    public var test: SAEEvaluation?
    public var resampled: Int
    public var seconds: Double
}

/// Trains an SAE on a samples × d_in matrix with one experiment id per row (SCIENCE.md §5).
public final class SAETrainer {
    public private(set) var sae: SparseAutoencoder
    public let split: SAESplit
    public private(set) var history: [SAEEpochMetrics] = []
    private let data: [Float]
    private var rng: SeededRNG
    private var adam: Adam
    private let moments: SAEMoments
    private let ws: SAEWorkspace
    private let scratch: SAEStepScratch
    /// One workspace per thread for `evaluate`, made on first use.
    private var evalSpaces: [SAEWorkspace] = []
    /// `inputVariance` of each row set evaluated so far.
    private var inputVariances: [[Int]: Double] = [:]

    public init(config: SAEConfig, data: [Float], experimentIDs: [Int]) {
        precondition(data.count == experimentIDs.count * config.dIn, "data must be rows × d_in with one experiment id per row")
        var rng = SeededRNG(seed: config.seed, stream: "sae")
        split = SAESplit.byExperiment(experimentIDs, testFraction: config.testFraction, rng: &rng)
        let normaliser = SAENormaliser.fit(config.normalisation, data: data, dIn: config.dIn, rows: split.train)
        sae = SparseAutoencoder(config: config, normaliser: normaliser, rng: &rng)
        self.data = data
        self.rng = rng
        adam = Adam(lr: config.learningRate)
        let (d, s) = (config.dIn, config.dSAE)
        moments = SAEMoments(dIn: d, dSAE: s)
        ws = SAEWorkspace(batch: config.batchSize, dIn: d, dSAE: s, gradients: false)
        // Narrow SAEs are not worth splitting over threads.
        scratch = SAEStepScratch(dIn: d, dSAE: s, parts: s >= 256 ? Parallel.cores : 1)
    }

    /// Runs the configured number of epochs, evaluating on the held-out split after each.
    @discardableResult
    public func train(progress: (SAEEpochMetrics) -> Void = { _ in }) -> [SAEEpochMetrics] {
        for _ in 0..<sae.config.epochs {
            var m = trainEpoch()
            if !split.test.isEmpty { m.test = evaluate(rows: split.test) }
            history[history.count - 1] = m
            progress(m)
        }
        return history
    }

    /// One pass over the shuffled training rows (no evaluation).
    @discardableResult
    public func trainEpoch() -> SAEEpochMetrics {
        let start = DispatchTime.now().uptimeNanoseconds
        let (s, bs) = (sae.dSAE, sae.config.batchSize)
        var order = split.train
        order.shuffle(using: &rng)
        var fired = [Bool](repeating: false, count: sae.config.resampleDeadLatents ? s : 0)
        var lossSum = 0.0
        var batches = 0
        let config = sae.config
        SAETrainStep.withBLASThreads(for: scratch) {
            var b0 = 0
            while b0 < order.count {
                let rows = min(bs, order.count - b0)
                gather(order[b0..<(b0 + rows)])
                adam.beginStep()
                let loss = SAETrainStep.run(&sae.params, moments: moments, config: config, adam: adam, ws: ws,
                                            scratch: scratch, rows: rows)
                if !fired.isEmpty {
                    for i in 0..<(rows * s) where ws.h[i] > 0 { fired[i % s] = true }
                }
                lossSum += loss.total
                batches += 1
                b0 += rows
            }
        }
        var resampled = 0
        if !fired.isEmpty {
            let dead = (0..<s).filter { !fired[$0] }
            if !dead.isEmpty && dead.count < s { resample(dead); resampled = dead.count }
        }
        let m = SAEEpochMetrics(epoch: history.count + 1, trainLoss: batches > 0 ? lossSum / Double(batches) : 0, test: nil,
                                resampled: resampled,
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        history.append(m)
        return m
    }

    /// Loss, FVE, L0 and dead fraction on the given rows. Batches are shared out over the training step's
    /// threads, each with its own workspace and single-threaded BLAS, so OpenBLAS's pool never wakes to spin
    /// against the next epoch's threads; the sums are added in batch order, as one thread adds them.
    public func evaluate(rows: [Int]) -> SAEEvaluation {
        let (d, s, bs) = (sae.dIn, sae.dSAE, sae.config.batchSize)
        let starts = Array(stride(from: 0, to: rows.count, by: bs))
        let parts = max(1, min(scratch.parts, starts.count))
        while evalSpaces.count < parts { evalSpaces.append(SAEWorkspace(batch: bs, dIn: d, dSAE: s, gradients: false)) }
        // Per batch Σ squared error and Σ L1; per part the active count and the latents that fired.
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * max(1, starts.count))
        let active = UnsafeMutablePointer<Int>.allocate(capacity: parts)
        let fired = UnsafeMutablePointer<Bool>.allocate(capacity: parts * s)
        active.initialize(repeating: 0, count: parts)
        fired.initialize(repeating: false, count: parts * s)
        defer { sums.deallocate(); active.deallocate(); fired.deallocate() }
        let spaces = evalSpaces
        SAETrainStep.withBLASThreads(for: scratch) {
            parallel(parts) { t in
                let ws = spaces[t], f = fired + t * s
                for b in stride(from: t, to: starts.count, by: parts) {
                    let n = min(bs, rows.count - starts[b])
                    gather(rows[starts[b]..<(starts[b] + n)], into: ws)
                    let loss = sae.forward(ws, rows: n)
                    sums[2 * b] = loss.mse * Double(n)
                    sums[2 * b + 1] = loss.l1 * Double(n)
                    ws.h.withUnsafeBufferPointer { h in
                        for i in 0..<(n * s) where h[i] > 0 { active[t] += 1; f[i % s] = true }
                    }
                }
            }
        }
        var sse = 0.0, l1 = 0.0
        for b in starts.indices { sse += sums[2 * b]; l1 += sums[2 * b + 1] }
        let totalVariance = inputVariance(rows, workspace: spaces[0])
        let dead = (0..<s).filter { k in !(0..<parts).contains { fired[$0 * s + k] } }.count
        let n = Double(max(rows.count, 1))
        let mse = sse / n
        return SAEEvaluation(loss: mse + Double(sae.config.l1Coefficient) * l1 / n, mse: mse,
                             fve: totalVariance > 0 ? 1 - sse / totalVariance : 0,
                             l0: Double((0..<parts).reduce(0) { $0 + active[$1] }) / n,
                             deadFraction: Double(dead) / Double(s))
    }

    /// Σ‖x̃ − mean x̃‖² over `rows`, summed row by row in order. The data and the normaliser are fixed for the
    /// trainer's life, so each row set (the held-out split every epoch, the training split once) is summed once.
    private func inputVariance(_ rows: [Int], workspace ws: SAEWorkspace) -> Double {
        if let known = inputVariances[rows] { return known }
        let (d, bs) = (sae.dIn, sae.config.batchSize)
        var sum = [Double](repeating: 0, count: d)
        var sumSq = 0.0
        for b0 in stride(from: 0, to: rows.count, by: bs) {
            let n = min(bs, rows.count - b0)
            gather(rows[b0..<(b0 + n)], into: ws)
            ws.x.withUnsafeBufferPointer { x in
                for r in 0..<n { for j in 0..<d { let v = Double(x[r * d + j]); sum[j] += v; sumSq += v * v } }
            }
        }
        let variance = sumSq - sum.reduce(0) { $0 + $1 * $1 } / Double(max(rows.count, 1))
        inputVariances[rows] = variance
        return variance
    }

    /// Copies and normalises rows into a workspace's input.
    private func gather(_ rows: ArraySlice<Int>, into ws: SAEWorkspace) {
        let d = sae.dIn
        data.withUnsafeBufferPointer { src in ws.x.withUnsafeMutableBufferPointer { dst in
            for (k, r) in rows.enumerated() {
                (dst.baseAddress! + k * d).update(from: src.baseAddress! + r * d, count: d)
            }
            sae.normaliser.apply(dst.baseAddress!, rows: rows.count)
        } }
    }

    private func gather(_ rows: ArraySlice<Int>) { gather(rows, into: ws) }

    /// Re-initialises dead latents towards inputs drawn with probability ∝ squared reconstruction error
    /// (Bricken et al. 2023): decoder row = that input's unit direction, encoder column = the same direction
    /// scaled to 0.2 × the mean alive encoder norm, bias 0, Adam moments cleared.
    private func resample(_ dead: [Int]) {
        let (d, s, bs) = (sae.dIn, sae.dSAE, sae.config.batchSize)
        var pool = split.train
        pool.shuffle(using: &rng)
        pool = Array(pool.prefix(max(8 * bs, dead.count)))
        var weights = [Double](); weights.reserveCapacity(pool.count)
        var b0 = 0
        while b0 < pool.count {
            let n = min(bs, pool.count - b0)
            gather(pool[b0..<(b0 + n)])
            _ = sae.forward(ws, rows: n)
            for r in 0..<n {
                var e2 = 0.0
                for j in 0..<d { let e = Double(ws.e[r * d + j]); e2 += e * e }
                weights.append(e2 * e2)
            }
            b0 += n
        }
        let deadSet = Set(dead)
        var aliveNorm = 0.0
        for k in 0..<s where !deadSet.contains(k) {
            var ss = 0.0
            for j in 0..<d { let w = Double(sae.params.wEnc[j * s + k]); ss += w * w }
            aliveNorm += ss.squareRoot()
        }
        aliveNorm /= Double(max(s - dead.count, 1))
        let total = weights.reduce(0, +)
        for k in dead {
            var u = rng.uniform() * total, pick = 0
            while pick < weights.count - 1 && u >= weights[pick] { u -= weights[pick]; pick += 1 }
            var v = [Float](repeating: 0, count: d)
            let r = pool[pick]
            data.withUnsafeBufferPointer { src in v.withUnsafeMutableBufferPointer {
                $0.baseAddress!.update(from: src.baseAddress! + r * d, count: d)
                sae.normaliser.apply($0.baseAddress!, rows: 1)
            } }
            let norm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            guard norm > 0 else { continue }
            for j in 0..<d {
                let u = Float(Double(v[j]) / norm)
                sae.params.wDec[k * d + j] = u
                sae.params.wEnc[j * s + k] = u * Float(0.2 * aliveNorm)
            }
            sae.params.bEnc[k] = 0
            moments.resetLatent(k)
        }
    }
}
