import CBLAS
import Foundation

extension LanguageModel {
    /// Runs a batch of sequences through the model (see `ForwardRequest`). A sequence with a cache is
    /// appended after the cached prefix, and the cache is extended in place.
    public func forward(_ request: ForwardRequest, caches given: [KVCache?]? = nil) throws -> ForwardResult {
        let caches = given ?? request.sequences.map { _ in nil }
        guard caches.count == request.sequences.count else {
            throw ModelError.badRequest("\(caches.count) caches for \(request.sequences.count) sequences")
        }
        let r = request.resolved(prefix: caches.map { $0?.count ?? 0 })
        try validate(r, caches: caches)
        let c = config, W = weights
        let d = c.dModel, hd = c.headDim, H = c.headCount, KV = c.kvHeadCount, F = c.ffnDim
        let qkvDim = c.qkvDim, kvDim = KV * hd
        let S = r.sequences.count
        let rowStart = r.sequences.reduce(into: [0]) { $0.append($0.last! + $1.count) }   // [S + 1]
        let N = rowStart[S]
        let startPos = caches.map { $0?.count ?? 0 }
        let threads = Self.threads

        // x [N × d]: the residual stream of every new token of every sequence, back to back.
        var x = [Float](repeating: 0, count: N * d)
        for s in 0..<S { for (i, t) in r.sequences[s].enumerated() {
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
        let lastBlock = needAll ? c.blockCount - 1 : (r.captureBlocks + r.edits.map(\.block)).max() ?? -1
        for l in 0..<(lastBlock + 1) {
            let B = W.blocks[l]
            // Attention: h = norm(x); q|k|v = h·Wqkvᵀ; RoPE on q and k.
            rmsNorm(x, B.attnNorm, rows: N, &h)
            B.wqkv.apply(h, rows: N, &qkv)
            qkv.withUnsafeMutableBufferPointer { q in
                cosT.withUnsafeBufferPointer { cp in sinT.withUnsafeBufferPointer { sp in
                    let qp = SendablePointer(q.baseAddress!)
                    let cs = SendablePointer(UnsafeMutablePointer(mutating: cp.baseAddress!))
                    let sn = SendablePointer(UnsafeMutablePointer(mutating: sp.baseAddress!))
                    Kernels.parallelRows(N, parts: threads) { rows in
                        for row in rows {
                            Kernels.rope(qp.p + row * qkvDim, heads: H + KV, headDim: hd,
                                         cos: cs.p + row * hd / 2, sin: sn.p + row * hd / 2)
                        }
                    }
                } }
            }
            for s in 0..<S {
                let n = r.sequences[s].count, r0 = rowStart[s], P = startPos[s]
                // Keys/values of the whole sequence so far: the cache (extended) or this pass's rows.
                if let cache = caches[s] {
                    for i in 0..<n {
                        let o = (r0 + i) * qkvDim
                        cache.keys[l] += qkv[(o + H * hd)..<(o + H * hd + kvDim)]
                        cache.values[l] += qkv[(o + H * hd + kvDim)..<(o + qkvDim)]
                    }
                }
                attend(qkv: qkv, qRow0: r0, n: n, prefix: P, cache: caches[s], block: l, out: &att)
            }
            // x += att·Woᵀ
            B.wo.apply(att, rows: N, &x, accumulate: true)
            // MLP in row chunks: x += (silu(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ
            rmsNorm(x, B.ffnNorm, rows: N, &h)
            var r0 = 0
            while r0 < N {
                let m = min(chunk, N - r0)
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
            // x is now the residual stream after block l.
            for e in r.edits where e.block == l {
                for s in e.sequences ?? Array(0..<S) {
                    for p in e.positions { applyEdit(e.operation, to: &x, row: rowStart[s] + p - startPos[s]) }
                }
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

        // Logits only at requested rows: [M × V] = norm(x[rows])·Eᵀ
        var logits: [[Float]] = []
        let V = c.vocabSize
        for s in 0..<S {
            let ps = r.logitPositions[s]
            if ps.isEmpty { logits.append([]); continue }
            var rows = [Float](repeating: 0, count: ps.count * d)
            for (i, p) in ps.enumerated() {
                let src = (rowStart[s] + p - startPos[s]) * d
                for j in 0..<d { rows[i * d + j] = x[src + j] }
            }
            var normed = rows
            Kernels.rmsNorm(rows, W.outputNorm, rows: ps.count, dim: d, eps: c.rmsEps, &normed)
            var out = [Float](repeating: 0, count: ps.count * V)
            Kernels.linear(normed, rows: ps.count, inDim: d, W.output ?? W.embedding, outDim: V, &out)
            logits.append(out)
        }
        return ForwardResult(logits: logits, residuals: residuals)
    }

    /// Causal attention of one sequence's n new query rows over its P + n keys, head by head (GQA: query
    /// head h reads KV head h / (H/KV)). Writes att rows [n × H·hd].
    private func attend(qkv: [Float], qRow0 r0: Int, n: Int, prefix P: Int, cache: KVCache?, block l: Int,
                        out att: inout [Float]) {
        if let cache {
            cache.keys[l].withUnsafeBufferPointer { kp in
                cache.values[l].withUnsafeBufferPointer { vp in
                    attend(qkv: qkv, qRow0: r0, n: n, prefix: P, keys: kp.baseAddress!, values: vp.baseAddress!,
                           ld: config.kvHeadCount * config.headDim, out: &att)
                }
            }
        } else {
            qkv.withUnsafeBufferPointer { qp in
                let k = qp.baseAddress! + r0 * config.qkvDim + config.headCount * config.headDim
                attend(qkv: qkv, qRow0: r0, n: n, prefix: P, keys: k, values: k + config.kvHeadCount * config.headDim,
                       ld: config.qkvDim, out: &att)
            }
        }
    }

    /// keys/values: [T × KV·hd] with row stride ld. Queries go in blocks of 64 rows, each against only
    /// the keys it can see, so the causal half of the score matrix is never computed. Heads are split
    /// across threads, each running single-threaded BLAS on its own score buffer: many small products
    /// parallelise better this way than inside BLAS.
    private func attend(qkv: [Float], qRow0 r0: Int, n: Int, prefix P: Int, keys: UnsafePointer<Float>,
                        values: UnsafePointer<Float>, ld: Int, out att: inout [Float]) {
        let c = config
        let hd = c.headDim, H = c.headCount, KV = c.kvHeadCount, qkvDim = c.qkvDim
        let scale = 1 / Float(hd).squareRoot()
        let qb = 64
        let workers = min(Self.threads, H)
        let blasThreads = openblas_get_num_threads()
        if workers > 1 { openblas_set_num_threads(1) }
        defer { if workers > 1 { openblas_set_num_threads(blasThreads) } }
        qkv.withUnsafeBufferPointer { qbuf in
            att.withUnsafeMutableBufferPointer { abuf in
                let qp = SendablePointer(UnsafeMutablePointer(mutating: qbuf.baseAddress!)), ap = SendablePointer(abuf.baseAddress!)
                let kp = SendablePointer(UnsafeMutablePointer(mutating: keys)), vp = SendablePointer(UnsafeMutablePointer(mutating: values))
                Kernels.parallelRows(H, parts: workers) { heads in
                    let sc = UnsafeMutablePointer<Float>.allocate(capacity: min(n, qb) * (P + n))   // [qb × T_visible]
                    defer { sc.deallocate() }
                    for h in heads {
                        let g = h / (H / KV)
                        var i0 = 0
                        while i0 < n {
                            let m = min(qb, n - i0), T = P + i0 + m
                            // scores[m × T] = q_h[i0..<i0+m] · k_g[0..<T]ᵀ / √hd
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(T), Int32(hd), scale,
                                        qp.p + (r0 + i0) * qkvDim + h * hd, Int32(qkvDim), kp.p + g * hd, Int32(ld),
                                        0, sc, Int32(T))
                            for i in 0..<m { Kernels.softmaxPrefixSIMD(sc + i * T, valid: P + i0 + i + 1, count: T) }
                            // att_h[m × hd] = scores[m × T] · v_g[0..<T]
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(hd), Int32(T), 1,
                                        sc, Int32(T), vp.p + g * hd, Int32(ld),
                                        0, ap.p + (r0 + i0) * H * hd + h * hd, Int32(H * hd))
                            i0 += m
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

    /// Replaces row `row` of x [N × d] by the edited vector.
    private func applyEdit(_ op: ResidualEdit.Operation, to x: inout [Float], row: Int) {
        let d = config.dModel
        x.withUnsafeMutableBufferPointer { xp in
            let v = xp.baseAddress! + row * d
            switch op {
            case .add(let a):
                for j in 0..<d { v[j] += a[j] }
            case .saeReconstruct(let sae):
                let recon = sae.decode(sae.encode(v))
                for j in 0..<d { let err = v[j] - recon[j]; v[j] = recon[j] + err }
            case .saeLatents(let sae, let edits):
                let f = sae.encode(v)
                var delta = [Float](repeating: 0, count: d)   // normalised-space change of the decoder sum
                for e in edits {
                    let old = f[e.latent]
                    let new: Float
                    switch e.action {
                    case .zero: new = 0
                    case .scale(let k): new = old * k
                    case .clamp(let value): new = value
                    }
                    if new != old { sae.addDecoderRow(e.latent, times: new - old, to: &delta) }
                }
                for j in 0..<d { v[j] += delta[j] / sae.inputScale }
            }
        }
    }
}
