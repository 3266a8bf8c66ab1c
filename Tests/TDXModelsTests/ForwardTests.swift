import Foundation
import TDXCore
import XCTest
import TDXNumerics
@testable import TDXModels

final class ForwardTests: XCTestCase {
    nonisolated(unsafe) static var cached: LanguageModel?

    static func tiny() throws -> LanguageModel {
        if let m = cached { return m }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tiny.gguf")
        try Data(TinyModel(seed: 5, quantizedAs: .f32).gguf(.f32)).write(to: url)
        let m = try LanguageModel.load(path: url.path)
        cached = m
        return m
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tol: Float = 1e-4, _ msg: String = "", line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, msg, line: line)
        let err = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(err, tol * max(1, b.map(abs).max() ?? 0), msg, line: line)
    }

    func testLinearMatchesNaiveOnOddShapes() {
        var rng = SeededRNG(seed: 1)
        for (n, k, m) in [(1, 1, 1), (3, 7, 5), (17, 33, 9), (2, 130, 67)] {
            let x = (0..<(n * k)).map { _ in Float(rng.normal()) }, w = (0..<(m * k)).map { _ in Float(rng.normal()) }
            var y = [Float](repeating: 0, count: n * m)
            Kernels.linear(x, rows: n, inDim: k, w, outDim: m, &y)
            assertClose(y, Kernels.linearNaive(x, rows: n, inDim: k, w, outDim: m), 1e-5)
        }
    }

    /// The threaded split (by rows when n ≥ m, else by 16-wide column blocks) gives the same bits as one call
    /// where the BLAS kernels allow it (`BLASRuntime.partitionInvariant`), and the same values within float
    /// rounding everywhere.
    func testThreadedLinearEqualsOneCallOnOddShapes() {
        var rng = SeededRNG(seed: 2)
        for (n, k, m) in [(300, 70, 45), (7, 130, 1000), (129, 33, 129), (40, 600, 41)] {
            let x = (0..<(n * k)).map { _ in Float(rng.normal()) }, w = (0..<(m * k)).map { _ in Float(rng.normal()) }
            var one = [Float](repeating: 0, count: n * m), two = one
            Kernels.linear(x, rows: n, inDim: k, w, outDim: m, &one, threads: 1)
            Kernels.linear(x, rows: n, inDim: k, w, outDim: m, &two, threads: 2)
            if BLASRuntime.partitionInvariant { XCTAssertEqual(one, two, "\(n)×\(k)×\(m)") }
            assertClose(two, Kernels.linearNaive(x, rows: n, inDim: k, w, outDim: m), 1e-5)
        }
    }

    /// Long enough that attention runs as threaded tasks: a cached and an uncached sequence in one batch give
    /// the same bits with 1 and 3 threads (the same values where the BLAS kernels are not partition-invariant),
    /// and match each sequence run alone.
    func testThreadedAttentionEqualsSerial() throws {
        let m = try Self.tiny()
        var rng = SeededRNG(seed: 3)
        let long = (0..<260).map { _ in rng.int(below: 300) }, other = (0..<190).map { _ in rng.int(below: 300) }
        func run(threads: Int) throws -> ForwardResult {
            let saved = LanguageModel.threads
            LanguageModel.threads = threads
            defer { LanguageModel.threads = saved }
            let cache = KVCache(config: m.config)
            _ = try m.forward(ForwardRequest(sequences: [Array(long[0..<70])], logitPositions: [[]]), caches: [cache])
            return try m.forward(ForwardRequest(sequences: [Array(long[70...]), other], logitPositions: [[70, 170, 259], [5, 189]],
                                                captureBlocks: [0, 1], capturePositions: [[75, 259], [0, 189]]),
                                 caches: [cache, nil])
        }
        let serial = try run(threads: 1), threaded = try run(threads: 3)
        if BLASRuntime.partitionInvariant {
            XCTAssertEqual(serial.logits, threaded.logits)
            XCTAssertEqual(serial.residuals, threaded.residuals)
        } else {
            for (a, b) in zip(serial.logits + serial.residuals, threaded.logits + threaded.residuals) { assertClose(a, b, 1e-4) }
        }
        let alone = try m.forward(ForwardRequest(sequences: [other], logitPositions: [[5, 189]], captureBlocks: [0, 1],
                                                 capturePositions: [[0, 189]]))
        assertClose(threaded.logits[1], alone.logits[0], 1e-5)
        assertClose(threaded.residuals[1], alone.residuals[0], 1e-5)
    }

    func testKVCacheIncrementalEqualsFullRecompute() throws {
        let m = try Self.tiny()
        let seq = [3, 99, 260, 17, 45, 200, 8, 150, 42, 11]
        let full = try m.forward(ForwardRequest(sequences: [seq], logitPositions: [Array(0..<seq.count)],
                                                captureBlocks: [1], capturePositions: [[9]]))
        let cache = KVCache(config: m.config)
        let a = try m.forward(ForwardRequest(sequences: [Array(seq[0..<4])], logitPositions: [[0, 1, 2, 3]]), caches: [cache])
        XCTAssertEqual(cache.count, 4)
        let b = try m.forward(ForwardRequest(sequences: [Array(seq[4..<9])], logitPositions: [Array(4..<9)]), caches: [cache])
        let c = try m.forward(ForwardRequest(sequences: [[seq[9]]], logitPositions: [[9]], captureBlocks: [1], capturePositions: [[9]]),
                              caches: [cache])
        assertClose(a.logits[0] + b.logits[0] + c.logits[0], full.logits[0], 1e-4, "incremental vs full")
        assertClose(c.residuals[0], full.residuals[0], 1e-4)
        XCTAssertThrowsError(try m.forward(ForwardRequest(sequences: [[1]], logitPositions: [[3]]), caches: [cache]))
    }

    func testRaggedBatchEqualsOneByOne() throws {
        let m = try Self.tiny()
        let seqs = [[1, 2, 3, 4, 5, 6, 7], [260, 261], [9, 8, 7, 6], [100]]
        let batch = try m.forward(ForwardRequest(sequences: seqs, logitPositions: seqs.map { Array(0..<$0.count) },
                                                 captureBlocks: [0, 1], capturePositions: seqs.map { [$0.count - 1] }))
        for (i, s) in seqs.enumerated() {
            let one = try m.forward(ForwardRequest(sequences: [s], logitPositions: [Array(0..<s.count)],
                                                   captureBlocks: [0, 1], capturePositions: [[s.count - 1]]))
            assertClose(batch.logits[i], one.logits[0], 1e-5, "sequence \(i)")
            assertClose(batch.residuals[i], one.residuals[0], 1e-5)
        }
    }

    func testCaptureOnlyPassStopsEarlyWithSameValues() throws {
        let m = try Self.tiny()
        let s = [4, 5, 6, 7]
        let full = try m.forward(ForwardRequest(sequences: [s], captureBlocks: [0], capturePositions: [[1, 3]]))
        let early = try m.forward(ForwardRequest(sequences: [s], logitPositions: [[]], captureBlocks: [0], capturePositions: [[1, 3]]))
        XCTAssertEqual(early.logits[0], [])
        assertClose(early.residuals[0], full.residuals[0], 1e-6)
    }

    /// A sequence that enters after block b with the stream a `stopAfter` pass computed gives what running
    /// every block gives, placed anywhere in a batch; its cache skips blocks 0...b until it adopts them from
    /// the shared pass's cache, after which it runs every block again.
    func testResumedSequencesMatchFullPasses() throws {
        let m = try Self.tiny()
        let d = m.config.dModel, last = m.config.blockCount - 1, b = 0
        let prefix = [5, 6, 7, 8, 9, 10], next = [11, 12, 13], other = [20, 21, 22, 23]
        let refCache = KVCache(config: m.config)
        _ = try m.forward(ForwardRequest(sequences: [prefix], logitPositions: [[]]), caches: [refCache])
        let ref = try m.forward(ForwardRequest(sequences: [next], logitPositions: [[6, 7, 8]], captureBlocks: [b, last],
                                               capturePositions: [[8]]), caches: [refCache])
        // The shared lower blocks: one pass over the whole text that stops after block b.
        let lower = KVCache(config: m.config)
        let all = prefix + next
        let low = try m.forward(ForwardRequest(sequences: [all], logitPositions: [[]], captureBlocks: [b],
                                               capturePositions: [Array(all.indices)], stopAfter: b), caches: [lower])
        XCTAssertEqual(lower.count, all.count)
        XCTAssertTrue(lower.holds(block: b)); XCTAssertFalse(lower.holds(block: b + 1))
        let stream = low.residuals[0]   // [all.count × d]
        let cache = KVCache(config: m.config)
        _ = try m.forward(ForwardRequest(sequences: [prefix], logitPositions: [[]],
                                         resume: .init(after: b, streams: [Array(stream[0..<(prefix.count * d)])])), caches: [cache])
        XCTAssertFalse(cache.holds(block: b)); XCTAssertTrue(cache.holds(block: last))
        // Resumed first, an ordinary sequence second: the pass puts resumed sequences last and back.
        let out = try m.forward(ForwardRequest(sequences: [next, other], logitPositions: [[6, 7, 8], [3]], captureBlocks: [b, last],
                                               capturePositions: [[8], [3]],
                                               resume: .init(after: b, streams: [Array(stream[(prefix.count * d)...]), nil])),
                                caches: [cache, nil])
        assertClose(out.logits[0], ref.logits[0], 1e-4, "resumed")
        assertClose(out.residuals[0], ref.residuals[0], 1e-4)
        let alone = try m.forward(ForwardRequest(sequences: [other], logitPositions: [[3]], captureBlocks: [b, last], capturePositions: [[3]]))
        assertClose(out.logits[1], alone.logits[0], 1e-5, "ordinary")
        assertClose(out.residuals[1], alone.residuals[0], 1e-5)
        // Leaving the shared text: every block again, after adopting the lower blocks.
        XCTAssertThrowsError(try m.forward(ForwardRequest(sequences: [[30]]), caches: [cache])) {
            XCTAssertTrue("\($0)".contains("lacks block 0"), "\($0)")
        }
        cache.adopt(blocksThrough: b, from: lower, positions: cache.count)
        let after = try m.forward(ForwardRequest(sequences: [[30]]), caches: [cache])
        let refAfter = try m.forward(ForwardRequest(sequences: [[30]]), caches: [refCache])
        assertClose(after.logits[0], refAfter.logits[0], 1e-4, "after adopting")
    }

    func testResumeAndStopAfterRequestsAreChecked() throws {
        let m = try Self.tiny()
        let d = m.config.dModel, seq = [1, 2, 3]
        let stream = [Float](repeating: 0, count: seq.count * d), zero = [Float](repeating: 0, count: d)
        let cases: [(ForwardRequest, String)] = [
            (ForwardRequest(sequences: [seq], resume: .init(after: 0, streams: [Array(stream.dropLast())])), "tokens ×"),
            (ForwardRequest(sequences: [seq], captureBlocks: [0], capturePositions: [[1]], resume: .init(after: 1, streams: [stream])),
             "resumes after block 1"),
            (ForwardRequest(sequences: [seq], edits: [ResidualEdit(block: 0, positions: [0], operation: .add(zero))],
                            resume: .init(after: 1, streams: [stream])), "resumes after block 1"),
            (ForwardRequest(sequences: [seq], stopAfter: 0), "no logits"),
            (ForwardRequest(sequences: [seq], logitPositions: [[]], captureBlocks: [1], capturePositions: [[0]], stopAfter: 0),
             "stops after block 0"),
        ]
        for (request, phrase) in cases {
            XCTAssertThrowsError(try m.forward(request)) { XCTAssertTrue("\($0)".contains(phrase), "\($0)") }
        }
    }

    static func randomSAE(d: Int, latents: Int, seed: UInt64) -> SAEDictionary {
        var rng = SeededRNG(seed: seed)
        func r(_ n: Int, _ s: Float) -> [Float] { (0..<n).map { _ in Float(rng.normal()) * s } }
        return SAEDictionary(inputDim: d, latentCount: latents, encoder: r(d * latents, 0.1), encoderBias: r(latents, 0.1),
                             decoder: r(latents * d, 0.1), decoderBias: r(d, 0.1), inputShift: r(d, 0.5), inputScale: 0.7,
                             subtractDecoderBias: true)
    }

    func testEditsThatShouldNotChangeLogits() throws {
        let m = try Self.tiny()
        let s = [7, 8, 9, 10, 11]
        let base = try m.forward(ForwardRequest(sequences: [s]))
        let sae = Self.randomSAE(d: m.config.dModel, latents: 64, seed: 2)
        let zero = try m.forward(ForwardRequest(sequences: [s], edits: [
            ResidualEdit(block: 0, positions: [1, 4], operation: .add([Float](repeating: 0, count: m.config.dModel)))]))
        XCTAssertEqual(zero.logits, base.logits)
        let noop = try m.forward(ForwardRequest(sequences: [s], edits: [
            ResidualEdit(block: 0, positions: [3], operation: .saeLatents(sae, [LatentEdit(latent: 5, action: .scale(1))]))]))
        assertClose(noop.logits[0], base.logits[0], 1e-6)
    }

    func testEditsChangeTheStreamAsSpecified() throws {
        let m = try Self.tiny()
        let d = m.config.dModel
        let s = [7, 8, 9, 10, 11]
        let req = { (edits: [ResidualEdit]) in
            ForwardRequest(sequences: [s, s], captureBlocks: [0], capturePositions: [[2], [2]], edits: edits)
        }
        let base = try m.forward(req([]))
        var v = [Float](repeating: 0, count: d); v[3] = 2.5
        let added = try m.forward(req([ResidualEdit(block: 0, sequences: [1], positions: [2], operation: .add(v))]))
        XCTAssertEqual(added.residuals[0], base.residuals[0])
        XCTAssertEqual(added.residuals[1][3], base.residuals[1][3] + 2.5, accuracy: 1e-5)
        XCTAssertNotEqual(added.logits[1], base.logits[1])

        // Zeroing a latent moves x by exactly −f_j · W_dec[j] / scale; the error term is kept.
        let sae = Self.randomSAE(d: d, latents: 64, seed: 9)
        let x = Array(base.residuals[0][0..<d])
        let f = x.withUnsafeBufferPointer { sae.encode($0.baseAddress!) }
        let j = f.indices.max { f[$0] < f[$1] }!
        XCTAssertGreaterThan(f[j], 0)
        for (action, newValue) in [(LatentEdit.Action.zero, Float(0)), (.scale(3), 3 * f[j]), (.clamp(5), 5)] {
            let edited = try m.forward(req([ResidualEdit(block: 0, positions: [2], operation: .saeLatents(sae, [LatentEdit(latent: j, action: action)]))]))
            let want = (0..<d).map { x[$0] + (newValue - f[j]) * sae.decoder[j * d + $0] / sae.inputScale }
            assertClose(Array(edited.residuals[0][0..<d]), want, 1e-5, "\(action)")
        }

        // The full-reconstruction baseline replaces x by x̂ = decode(encode(x)): the error is dropped, so the
        // stream (and what reads it) moves.
        let recon = try m.forward(req([ResidualEdit(block: 0, sequences: [1], positions: [2], operation: .saeReconstruct(sae))]))
        XCTAssertEqual(recon.residuals[0], base.residuals[0])
        let xHat = sae.decode(f)
        assertClose(Array(recon.residuals[1][0..<d]), xHat, 1e-6, "x̂")
        XCTAssertGreaterThan(zip(xHat, x).map { abs($0 - $1) }.max()!, 1e-2, "a random SAE does not reconstruct x")
        XCTAssertNotEqual(recon.logits[1], base.logits[1])
    }

    /// Edits at two blocks in one request (an intervention with latents in several blocks): each block's
    /// capture sees every edit at or before it, and only those.
    func testEditsAtSeveralBlocksInOnePass() throws {
        let m = try Self.tiny()
        let d = m.config.dModel
        let s = [7, 8, 9, 10, 11]
        var v0 = [Float](repeating: 0, count: d), v1 = v0
        v0[1] = 1.5; v1[4] = -2
        let req = { (edits: [ResidualEdit]) in ForwardRequest(sequences: [s], captureBlocks: [0, 1], capturePositions: [[3]], edits: edits) }
        let first = try m.forward(req([ResidualEdit(block: 0, positions: [3], operation: .add(v0))]))
        let both = try m.forward(req([ResidualEdit(block: 0, positions: [3], operation: .add(v0)),
                                      ResidualEdit(block: 1, positions: [3], operation: .add(v1))]))
        XCTAssertEqual(Array(both.residuals[0][0..<d]), Array(first.residuals[0][0..<d]), "block 0 sees only its own edit")
        let want = (0..<d).map { first.residuals[0][d + $0] + v1[$0] }
        assertClose(Array(both.residuals[0][d..<(2 * d)]), want, 1e-6, "block 1 = stream after the block-0 edit + v1")
    }

    func testAnswerLogProbsSumTokenLogProbs() throws {
        let m = try Self.tiny()
        let prefix = [1, 2, 3]
        let answers = [[40], [41, 42, 43], [260, 5]]
        let got = try m.answerLogProbs(prefix: prefix, answers: answers)
        for (i, a) in answers.enumerated() {
            let seq = prefix + a
            let r = try m.forward(ForwardRequest(sequences: [seq], logitPositions: [Array((prefix.count - 1)..<(seq.count - 1))]))
            var want = 0.0
            for (k, t) in a.enumerated() {
                let V = m.config.vocabSize
                want += Double(ReadOut.logSoftmax(r.logits[0][(k * V)..<((k + 1) * V)])[t])
            }
            XCTAssertEqual(got[i], want, accuracy: 1e-4)
        }
    }

    func testReadOut() {
        let logits: [Float] = [1, 3, 2, -1]
        XCTAssertEqual(ReadOut.argmax(logits), 1)
        let p = ReadOut.restrictedSoftmax(logits, to: [0, 2])
        XCTAssertEqual(p[0], 1 / (1 + Float(M_E)), accuracy: 1e-6)
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-6)
        var r1 = SeededRNG(seed: 4), r2 = SeededRNG(seed: 4)
        let a = (0..<50).map { _ in ReadOut.sample(logits, temperature: 1, rng: &r1) }
        let b = (0..<50).map { _ in ReadOut.sample(logits, temperature: 1, rng: &r2) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(Set(a).count > 1, true)
        var r3 = SeededRNG(seed: 4)
        XCTAssertEqual(ReadOut.sample(logits, temperature: 0, rng: &r3), 1)
        let lsm = ReadOut.logSoftmax(logits)
        XCTAssertEqual(lsm.map { exp(Double($0)) }.reduce(0, +), 1, accuracy: 1e-6)
        // The closed loop's two-entry read-out equals the whole row's entries bit for bit.
        var rng = SeededRNG(seed: 9)
        let row = (0..<50_000).map { _ in Float(rng.uniform() * 30 - 10) }
        let whole = ReadOut.logSoftmax(row[7..<49_159])
        let ids = [0, 3, 49_151, 20_000]
        XCTAssertEqual(ReadOut.logProbabilities(row[7..<49_159], of: ids + [nil]), ids.map { whole[$0] } + [-.infinity])
    }

    func testLlama31RopeFactors() {
        // Llama-3.1-8B: base 500000, factor 8, low 1, high 4, original context 8192.
        let f = LlamaConfig.llama3FreqFactors(headDim: 128, base: 500000, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192)
        XCTAssertEqual(f.count, 64)
        XCTAssertEqual(f[0], 1)          // high frequencies untouched
        XCTAssertEqual(f[63], 8)         // low frequencies divided by the factor
        XCTAssertTrue(f.allSatisfy { $0 >= 1 && $0 <= 8 })
        XCTAssertTrue(zip(f, f.dropFirst()).allSatisfy { $0 <= $1 })
    }

    func testRequestRoundTripsThroughJSON() throws {
        let sae = Self.randomSAE(d: 4, latents: 3, seed: 1)
        let r = ForwardRequest(sequences: [[1, 2], [3]], captureBlocks: [1], capturePositions: [[1], [0]], edits: [
            ResidualEdit(block: 0, sequences: [1], positions: [0], operation: .add([1, 2, 3, 4])),
            ResidualEdit(block: 1, positions: [1], operation: .saeLatents(sae, [LatentEdit(latent: 2, action: .clamp(3))]))])
        let back = try JSONDecoder().decode(ForwardRequest.self, from: JSONEncoder().encode(r))
        XCTAssertEqual(back.sequences, r.sequences)
        XCTAssertEqual(back.logitPositions, [[-1], [-1]])
        guard case .saeLatents(let s2, let e2) = back.edits[1].operation else { return XCTFail() }
        XCTAssertEqual(s2.decoder, sae.decoder)
        XCTAssertEqual(e2, [LatentEdit(latent: 2, action: .clamp(3))])
    }

    func testNegativePositionsCountFromTheEnd() throws {
        let m = try Self.tiny()
        let s = [4, 5, 6, 7]
        let a = try m.forward(ForwardRequest(sequences: [s], logitPositions: [[-1, -2]], captureBlocks: [1], capturePositions: [[-1]]))
        let b = try m.forward(ForwardRequest(sequences: [s], logitPositions: [[3, 2]], captureBlocks: [1], capturePositions: [[3]]))
        XCTAssertEqual(a.logits, b.logits)
        XCTAssertEqual(a.residuals, b.residuals)
    }

    func testBadRequests() throws {
        let m = try Self.tiny()
        XCTAssertThrowsError(try m.forward(ForwardRequest(sequences: [[]])))
        XCTAssertThrowsError(try m.forward(ForwardRequest(sequences: [[1, 100000]])))
        XCTAssertThrowsError(try m.forward(ForwardRequest(sequences: [[1, 2]], captureBlocks: [2], capturePositions: [[0]])))
        XCTAssertThrowsError(try m.forward(ForwardRequest(sequences: [[1, 2]], edits: [ResidualEdit(block: 0, positions: [0], operation: .add([1]))])))
    }
}

final class KernelTests: XCTestCase {
    func testExp8() {
        var worst: Float = 0
        for i in 0..<20000 {
            let x = -87 + Float(i) * (175.0 / 20000)
            let got = Kernels.exp8(SIMD8(repeating: x))[3], want = expf(x)
            worst = max(worst, abs(got - want) / want)
        }
        XCTAssertLessThan(worst, 1e-6)
        XCTAssertEqual(Kernels.exp8(SIMD8(repeating: -200))[0], 0, accuracy: 1e-37)
    }

    func testSIMDKernelsMatchScalarOnOddShapes() {
        var rng = SeededRNG(seed: 3)
        for (count, valid) in [(1, 1), (7, 5), (19, 19), (33, 17)] {
            var a = (0..<count).map { _ in Float(rng.normal()) * 4 }, b = a
            Kernels.softmaxPrefix(&a, valid: valid, count: count)
            Kernels.softmaxPrefixSIMD(&b, valid: valid, count: count)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        }
        for f in [1, 8, 13, 40] {
            let gu = (0..<(3 * 2 * f)).map { _ in Float(rng.normal()) * 3 }
            var a = [Float](repeating: 0, count: 3 * f), b = a
            Kernels.swiglu(gu, rows: 3, ffn: f, &a)
            Kernels.swigluSIMD(gu, rows: 3, ffn: f, &b)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(x))) }
        }
    }
}

final class PackedGEMMTests: XCTestCase {
    func testPackedMatchesNaiveOnOddShapes() {
        var rng = SeededRNG(seed: 8)
        for (n, k, m) in [(1, 1, 1), (5, 7, 17), (6, 16, 16), (13, 33, 31), (64, 300, 70), (7, 2000, 40)] {
            let x = (0..<(n * k)).map { _ in Float(rng.normal()) }, w = (0..<(m * k)).map { _ in Float(rng.normal()) }
            let pm = PackedMatrix(rowMajor: w, outDim: m, inDim: k, pack: true)
            XCTAssertEqual(pm.rowMajor, w)
            let want = Kernels.linearNaive(x, rows: n, inDim: k, w, outDim: m)
            var y = [Float](repeating: 0, count: n * m)
            pm.apply(x, rows: n, &y, threads: 2)
            for (a, b) in zip(y, want) { XCTAssertEqual(a, b, accuracy: 1e-4 * Float(k).squareRoot()) }
            var acc = [Float](repeating: 1, count: n * m)
            pm.apply(x, rows: n, &acc, accumulate: true, threads: 1)
            for (a, b) in zip(acc, want) { XCTAssertEqual(a, b + 1, accuracy: 1e-4 * Float(k).squareRoot()) }
        }
    }

    func testForwardSameWithPackedAndBLASWeights() throws {
        let m = try ForwardTests.tiny()
        let a = LanguageModel(weights: m.weights.withPacking(true), tokenizer: m.tokenizer)
        let b = LanguageModel(weights: m.weights.withPacking(false), tokenizer: m.tokenizer)
        let req = ForwardRequest(sequences: [[1, 2, 3, 4, 5, 6, 7], [9, 10]], logitPositions: [[6], [0, 1]],
                                 captureBlocks: [0], capturePositions: [[3], [1]])
        let ra = try a.forward(req), rb = try b.forward(req)
        for s in 0..<2 {
            for (x, y) in zip(ra.logits[s], rb.logits[s]) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(y))) }
            for (x, y) in zip(ra.residuals[s], rb.residuals[s]) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(y))) }
        }
    }
}

final class GenerateTests: XCTestCase {
    func testBatchedGenerationEqualsOneByOneAndGreedyEqualsRecompute() throws {
        let m = try ForwardTests.tiny()
        let prompts = [[1, 2, 3], [50, 60], [7, 8, 9, 10, 11]]
        let batch = try m.generate(prompts, maxNewTokens: 6, temperature: 0.8, seed: 42)
        for (i, p) in prompts.enumerated() {
            // Sequence i of a batch draws from stream i; alone it is stream 0, so compare greedy runs instead.
            XCTAssertEqual(batch[i].count, 6)
            let greedy = try m.generate([p], maxNewTokens: 5)[0]
            var seq = p
            for _ in 0..<5 {
                let r = try m.forward(ForwardRequest(sequences: [seq]))
                seq.append(ReadOut.argmax(r.logits[0]))
            }
            XCTAssertEqual(greedy, Array(seq.dropFirst(p.count)))
        }
        XCTAssertEqual(try m.generate(prompts, maxNewTokens: 6, temperature: 0.8, seed: 42), batch)
        let first = try m.generate([prompts[0]], maxNewTokens: 1)[0][0]
        XCTAssertEqual(try m.generate([prompts[0]], maxNewTokens: 5, stop: [first]), [[first]])
    }

    func testSmolLM2GreedyContinuation() throws {
        let m = try SmolLM2GoldenTests.model()
        let ids = m.tokenizer.encode("One, two, three, four,")
        let out = try m.generate([ids], maxNewTokens: 2)[0]
        XCTAssertEqual(m.tokenizer.decode([out[0]]), " five")
    }
}
