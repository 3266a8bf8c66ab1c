import CBLAS
import Foundation

extension LanguageModel {
    /// Runs a batch of sequences through the model (see `ForwardRequest`). A sequence with a cache is
    /// appended after the cached prefix, and the cache is extended in place.
    public func forward(_ request: ForwardRequest, caches given: [KVCache?]? = nil) throws -> ForwardResult {
        _ = HeapRetention.applied
        let caches = given ?? request.sequences.map { _ in nil }
        guard caches.count == request.sequences.count else {
            throw ModelError.badRequest("\(caches.count) caches for \(request.sequences.count) sequences")
        }
        let r = request.resolved(prefix: caches.map { $0?.count ?? 0 })
        try validate(r, caches: caches)
        // Resumed sequences go last, so the blocks they skip run over the first rows only.
        if let streams = r.resume?.streams {
            let order = streams.indices.filter { streams[$0] == nil } + streams.indices.filter { streams[$0] != nil }
            if order != Array(streams.indices) {
                let out = try pass(r.reordered(order), caches: order.map { caches[$0] })
                var logits = out.logits, residuals = out.residuals
                for (k, s) in order.enumerated() { logits[s] = out.logits[k]; residuals[s] = out.residuals[k] }
                return ForwardResult(logits: logits, residuals: residuals)
            }
        }
        return try pass(r, caches: caches)
    }

    /// The pass of a resolved, validated request whose resumed sequences (if any) come last.
    private func pass(_ r: ForwardRequest, caches: [KVCache?]) throws -> ForwardResult {
        let c = config, W = weights
        let d = c.dModel, hd = c.headDim, H = c.headCount, KV = c.kvHeadCount, F = c.ffnDim
        let qkvDim = c.qkvDim, kvDim = KV * hd
        let S = r.sequences.count
        let rowStart = r.sequences.reduce(into: [0]) { $0.append($0.last! + $1.count) }   // [S + 1]
        let N = rowStart[S]
        // Sequences 0..<active run every block; the rest enter after block `skip` with their given streams.
        let skip = r.resume?.after ?? -1
        let active = r.resume.map { $0.streams.firstIndex { $0 != nil } ?? S } ?? S
        let NA = rowStart[active]
        let startPos = caches.map { $0?.count ?? 0 }
        let threads = Self.threads
        // The pass splits its own work over `threads` and runs BLAS single-threaded inside it: OpenBLAS's pool
        // threads spin (sched_yield) between its calls, which on 2 cores took a fifth of a rollout.
        let blasThreads = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(blasThreads) }

        // x [N × d]: the residual stream of every new token of every sequence, back to back.
        var x = [Float](repeating: 0, count: N * d)
        for s in 0..<active { for (i, t) in r.sequences[s].enumerated() {
            let row = (rowStart[s] + i) * d
            for j in 0..<d { x[row + j] = W.embedding[t * d + j] }
        } }
        // RoPE tables per row: [N × hd/2] each.
        var cosT = [Float](), sinT = [Float]()
        cosT.reserveCapacity(N * hd / 2); sinT.reserveCapacity(N * hd / 2)
        for s in 0..<S { for i in 0..<r.sequences[s].count {
            let a = Kernels.ropeAngles(position: startPos[s] + i, config: c)
            cosT += a.cos; sinT += a.sin
        } }

        var h = [Float](repeating: 0, count: N * d)              // [N × d] normed stream
        var qkv = [Float](repeating: 0, count: N * qkvDim)       // [N × (H + 2KV)·hd]
        var att = [Float](repeating: 0, count: N * H * hd)       // [N × H·hd]
        let chunk = min(N, 512)
        var gu = [Float](repeating: 0, count: chunk * 2 * F)     // [chunk × 2F]
        var act = [Float](repeating: 0, count: chunk * F)        // [chunk × F]
        var residuals = r.capturePositions.map { [Float](repeating: 0, count: r.captureBlocks.count * $0.count * d) }

        // Without logits or caches to fill, the pass stops after the last block anything reads.
        let needAll = caches.contains { $0 != nil } || r.logitPositions.contains { !$0.isEmpty }
        let lastBlock = r.stopAfter ?? (needAll ? c.blockCount - 1 : (r.captureBlocks + r.edits.map(\.block)).max() ?? -1)
        for l in 0..<(lastBlock + 1) {
            let B = W.blocks[l]
            // A block that resumed sequences skip runs over the others' rows (the first n) only.
            let (n, seqs) = l <= skip ? (NA, active) : (N, S)
            if n > 0 {
                // Attention: h = norm(x); q|k|v = h·Wqkvᵀ; RoPE on q and k.
                rmsNorm(x, B.attnNorm, rows: n, &h)
                B.wqkv.apply(h, rows: n, &qkv)
                qkv.withUnsafeMutableBufferPointer { q in
                    cosT.withUnsafeBufferPointer { cp in sinT.withUnsafeBufferPointer { sp in
                        let qp = SendablePointer(q.baseAddress!)
                        let cs = SendablePointer(UnsafeMutablePointer(mutating: cp.baseAddress!))
                        let sn = SendablePointer(UnsafeMutablePointer(mutating: sp.baseAddress!))
                        Kernels.parallelRows(n, parts: threads) { rows in
                            for row in rows {
                                Kernels.rope(qp.p + row * qkvDim, heads: H + KV, headDim: hd,
                                             cos: cs.p + row * hd / 2, sin: sn.p + row * hd / 2)
                            }
                        }
                    } }
                }
                // Keys/values of this block join each sequence's cache before any query reads them.
                for s in 0..<seqs { if let cache = caches[s] {
                    for i in 0..<r.sequences[s].count {
                        let o = (rowStart[s] + i) * qkvDim
                        cache.keys[l] += qkv[(o + H * hd)..<(o + H * hd + kvDim)]
                        cache.values[l] += qkv[(o + H * hd + kvDim)..<(o + qkvDim)]
                    }
                } }
                attend(qkv: qkv, rowStart: Array(rowStart[0...seqs]), prefix: startPos, caches: caches, block: l, out: &att)
                // x += att·Woᵀ
                B.wo.apply(att, rows: n, &x, accumulate: true)
                // MLP in row chunks: x += (silu(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ
                rmsNorm(x, B.ffnNorm, rows: n, &h)
                var r0 = 0
                while r0 < n {
                    let m = min(chunk, n - r0)
                    h.withUnsafeBufferPointer { hp in
                        B.wGateUp.apply(hp.baseAddress! + r0 * d, rows: m, &gu)
                    }
                    gu.withUnsafeBufferPointer { g in act.withUnsafeMutableBufferPointer { a in
                        let gp = SendablePointer(UnsafeMutablePointer(mutating: g.baseAddress!)), ap = SendablePointer(a.baseAddress!)
                        Kernels.parallelRows(m, parts: threads) { rows in
                            Kernels.swigluSIMD(gp.p + rows.lowerBound * 2 * F, rows: rows.count, ffn: F, ap.p + rows.lowerBound * F)
                        }
                    } }
                    x.withUnsafeMutableBufferPointer { xp in
                        B.wDown.apply(act, rows: m, xp.baseAddress! + r0 * d, accumulate: true)
                    }
                    r0 += m
                }
            }
            // Resumed sequences join here with the stream they were given.
            if l == skip, let streams = r.resume?.streams {
                for s in active..<S { x.replaceSubrange((rowStart[s] * d)..<(rowStart[s + 1] * d), with: streams[s]!) }
            }
            // x is now the residual stream after block l.
            for e in r.edits where e.block == l {
                let rows = (e.sequences ?? Array(0..<S)).flatMap { s in e.positions.map { rowStart[s] + $0 - startPos[s] } }
                applyEdit(e.operation, to: &x, rows: rows)
            }
            for (bi, b) in r.captureBlocks.enumerated() where b == l {
                for s in 0..<S {
                    let ps = r.capturePositions[s]
                    for (pi, p) in ps.enumerated() {
                        let src = (rowStart[s] + p - startPos[s]) * d, dst = (bi * ps.count + pi) * d
                        for j in 0..<d { residuals[s][dst + j] = x[src + j] }
                    }
                }
            }
        }
        if !needAll { return ForwardResult(logits: r.sequences.map { _ in [] }, residuals: residuals) }
        for (s, cache) in caches.enumerated() { cache?.count += r.sequences[s].count }
        if r.stopAfter != nil { return ForwardResult(logits: r.sequences.map { _ in [] }, residuals: residuals) }

        // Logits only at requested rows, all sequences in one product (each call streams the whole
        // [V × d] matrix through memory): [M × V] = norm(x[rows])·Eᵀ.
        let V = c.vocabSize
        let counts = r.logitPositions.map(\.count), M = counts.reduce(0, +)
        var rows = [Float](repeating: 0, count: M * d)   // [M × d]
        var m = 0
        for s in 0..<S { for p in r.logitPositions[s] {
            let src = (rowStart[s] + p - startPos[s]) * d
            for j in 0..<d { rows[m * d + j] = x[src + j] }
            m += 1
        } }
        var normed = rows
        Kernels.rmsNorm(rows, W.outputNorm, rows: M, dim: d, eps: c.rmsEps, &normed)
        var out = [Float](repeating: 0, count: M * V)    // [M × V]
        Kernels.linear(normed, rows: M, inDim: d, W.output ?? W.embedding, outDim: V, &out, threads: threads)
        var logits: [[Float]] = []
        m = 0
        for n in counts { logits.append(Array(out[(m * V)..<((m + n) * V)])); m += n }
        return ForwardResult(logits: logits, residuals: residuals)
    }

    /// Causal attention of every sequence's new query rows over its prefix plus new keys (GQA: query head h
    /// reads KV head h / (H/KV)); writes att rows [N × H·hd]. The work is cut into tasks of (sequence, KV head,
    /// block of 64 query rows): the H/KV query heads that read one KV head are stacked into one product, so
    /// its keys and values are packed once for all of them, and each task reads only the keys its rows can
    /// see, so the causal half of the score matrix is never computed. Threads take tasks in turn, each with
    /// its own buffers and single-threaded BLAS.
    private func attend(qkv: [Float], rowStart: [Int], prefix: [Int], caches: [KVCache?], block l: Int, out att: inout [Float]) {
        let c = config
        let hd = c.headDim, H = c.headCount, KV = c.kvHeadCount, G = H / KV, qkvDim = c.qkvDim
        let scale = 1 / Float(hd).squareRoot()
        let qb = 64
        struct Task { let s, g, i0, m, T: Int }
        var list: [Task] = []
        for s in 0..<(rowStart.count - 1) {
            let n = rowStart[s + 1] - rowStart[s]
            for g in 0..<KV { for i0 in stride(from: 0, to: n, by: qb) {
                let m = min(qb, n - i0)
                list.append(Task(s: s, g: g, i0: i0, m: m, T: prefix[s] + i0 + m))
            } }
        }
        let tasks = list
        let work = tasks.reduce(0) { $0 + G * $1.m * $1.T }
        let parts = work * hd < 1 << 18 ? 1 : min(Self.threads, tasks.count)
        qkv.withUnsafeBufferPointer { qbuf in
            att.withUnsafeMutableBufferPointer { abuf in
                let qp = SendablePointer(UnsafeMutablePointer(mutating: qbuf.baseAddress!)), ap = SendablePointer(abuf.baseAddress!)
                Kernels.parallelRows(parts, parts: parts) { workers in
                    for w in workers {
                        let mine = stride(from: w, to: tasks.count, by: parts).map { tasks[$0] }
                        let sc = UnsafeMutablePointer<Float>.allocate(capacity: G * (mine.map { $0.m * $0.T }.max() ?? 1))  // [G·m × T]
                        let q = UnsafeMutablePointer<Float>.allocate(capacity: G * qb * hd)   // [G·m × hd], row j·m + i: head g·G + j, token i
                        let o = UnsafeMutablePointer<Float>.allocate(capacity: G * qb * hd)   // [G·m × hd], same rows
                        defer { sc.deallocate(); q.deallocate(); o.deallocate() }
                        for t in mine {
                            let r0 = rowStart[t.s] + t.i0, P = prefix[t.s], rows = G * t.m
                            for j in 0..<G { for i in 0..<t.m {
                                (q + (j * t.m + i) * hd).update(from: qp.p + (r0 + i) * qkvDim + (t.g * G + j) * hd, count: hd)
                            } }
                            // keys/values: [T × KV·hd] with row stride ld, from the cache or this pass's rows.
                            func run(_ keys: UnsafePointer<Float>, _ values: UnsafePointer<Float>, ld: Int) {
                                // scores[G·m × T] = q · k_g[0..<T]ᵀ / √hd
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(t.T), Int32(hd), scale,
                                            q, Int32(hd), keys + t.g * hd, Int32(ld), 0, sc, Int32(t.T))
                                for r in 0..<rows { Kernels.softmaxPrefixSIMD(sc + r * t.T, valid: P + t.i0 + r % t.m + 1, count: t.T) }
                                // o[G·m × hd] = scores · v_g[0..<T]
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(hd), Int32(t.T), 1,
                                            sc, Int32(t.T), values + t.g * hd, Int32(ld), 0, o, Int32(hd))
                            }
                            if let cache = caches[t.s] {
                                let keys = cache.keys[l], values = cache.values[l]   // read-only while tasks run
                                keys.withUnsafeBufferPointer { kp in values.withUnsafeBufferPointer { vp in
                                    run(kp.baseAddress!, vp.baseAddress!, ld: KV * hd)
                                } }
                            } else {
                                let k = UnsafePointer(qp.p + rowStart[t.s] * qkvDim + H * hd)
                                run(k, k + KV * hd, ld: qkvDim)
                            }
                            for j in 0..<G { for i in 0..<t.m {
                                (ap.p + (r0 + i) * H * hd + (t.g * G + j) * hd).update(from: o + (j * t.m + i) * hd, count: hd)
                            } }
                        }
                    }
                }
            }
        }
    }

    /// RMSNorm of n rows of x [n × d] into out, rows split across threads.
    private func rmsNorm(_ x: [Float], _ w: [Float], rows n: Int, _ out: inout [Float]) {
        let d = config.dModel, eps = config.rmsEps, threads = Self.threads
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in out.withUnsafeMutableBufferPointer { op in
            let xs = SendablePointer(UnsafeMutablePointer(mutating: xp.baseAddress!))
            let ws = SendablePointer(UnsafeMutablePointer(mutating: wp.baseAddress!)), os = SendablePointer(op.baseAddress!)
            Kernels.parallelRows(n, parts: n >= 64 ? threads : 1) { rows in
                Kernels.rmsNorm(xs.p + rows.lowerBound * d, ws.p, rows: rows.count, dim: d, eps: eps, os.p + rows.lowerBound * d)
            }
        } } }
    }

    /// Replaces rows `rows` of x [N × d] by the edited vectors, in order: a row listed twice is edited again,
    /// so the rows go in runs without repeats, each run encoded and decoded as one product.
    private func applyEdit(_ op: ResidualEdit.Operation, to x: inout [Float], rows: [Int]) {
        var run: [Int] = [], inRun = Set<Int>()
        for row in rows {
            if inRun.contains(row) { applyEdit(op, to: &x, distinct: run); run = []; inRun = [] }
            run.append(row); inRun.insert(row)
        }
        applyEdit(op, to: &x, distinct: run)
    }

    /// Edits distinct rows of x [N × d]: the SAE edits encode all of them in one product (xs [m × d] → f [m × s]).
    private func applyEdit(_ op: ResidualEdit.Operation, to x: inout [Float], distinct rows: [Int]) {
        let d = config.dModel, m = rows.count
        guard m > 0 else { return }
        x.withUnsafeMutableBufferPointer { xp in
            let base = xp.baseAddress!
            // [m × d] the rows to edit, gathered
            func gathered() -> [Float] { rows.flatMap { row in (0..<d).map { base[row * d + $0] } } }
            switch op {
            case .add(let a):
                for row in rows { for j in 0..<d { base[row * d + j] += a[j] } }
            case .saeReconstruct(let sae):
                let recon = sae.decode(rows: sae.encode(rows: gathered(), count: m), count: m)   // [m × d] x̂
                for (i, row) in rows.enumerated() { for j in 0..<d { base[row * d + j] = recon[i * d + j] } }
            case .saeLatents(let sae, let edits):
                let s = sae.latentCount
                let f = sae.encode(rows: gathered(), count: m)   // [m × s]
                for (i, row) in rows.enumerated() {
                    var delta = [Float](repeating: 0, count: d)   // normalised-space change of the decoder sum
                    for e in edits {
                        let old = f[i * s + e.latent]
                        let new: Float
                        switch e.action {
                        case .zero: new = 0
                        case .scale(let k): new = old * k
                        case .clamp(let value): new = value
                        }
                        if new != old { sae.addDecoderRow(e.latent, times: new - old, to: &delta) }
                    }
                    for j in 0..<d { base[row * d + j] += delta[j] / sae.inputScale }
                }
            }
        }
    }
}
