#!/usr/bin/env python3
"""NumPy reference for `tdx bench sae`: one training epoch of the same SAE algorithm as TDXAnalysis.

x~ = (x - mu) / s (scalar RMS), h = ReLU(x~ W_enc + b_enc), x^ = h W_dec + b_dec,
loss = mean ||x~ - x^||^2 + beta * mean ||h||_1, Adam (lr 1e-4, betas 0.9/0.999, eps 1e-8, bias correction),
decoder rows renormalised after every step, batch 256, rows shuffled each epoch. float32 throughout,
in-place ops and preallocated buffers so NumPy is not handicapped by temporaries.
Prints one JSON object: {"seconds_per_epoch": ..., "final_loss": ..., "blas": ...}.
"""
import argparse
import json
import time

import numpy as np


def blas_core():
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("user_api") == "blas":
                return f"{info.get('internal_api')} {info.get('version')} {info.get('architecture')}"
    except Exception:
        pass
    return "unknown"


class Adam:
    def __init__(self, shape, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.m = np.zeros(shape, np.float32)
        self.v = np.zeros(shape, np.float32)
        self.tmp = np.zeros(shape, np.float32)
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps

    def update(self, p, g, t):
        m, v, tmp = self.m, self.v, self.tmp
        m *= self.b1
        m += (1 - self.b1) * g
        v *= self.b2
        np.multiply(g, g, out=tmp)
        tmp *= (1 - self.b2)
        v += tmp
        c1 = np.float32(self.lr / (1 - self.b1 ** t))
        c2 = np.float32(1 / (1 - self.b2 ** t))
        np.multiply(v, c2, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += np.float32(self.eps)
        np.divide(m, tmp, out=tmp)
        tmp *= c1
        p -= tmp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=18000)
    ap.add_argument("--dim", type=int, default=576)
    ap.add_argument("--width", type=int, default=2304)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--l1", type=float, default=1e-5)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=1)
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    n, d, s, bs = a.rows, a.dim, a.width, a.batch
    data = rng.standard_normal((n, d), dtype=np.float32)

    mu = data.mean(axis=0, dtype=np.float64).astype(np.float32)
    rms = np.float32(np.sqrt(((data - mu).astype(np.float64) ** 2).mean()))
    inv = np.float32(1 / rms)

    w_dec = rng.standard_normal((s, d), dtype=np.float32)
    w_dec /= np.linalg.norm(w_dec, axis=1, keepdims=True)
    w_enc = np.ascontiguousarray(w_dec.T)
    b_enc = np.zeros(s, np.float32)
    b_dec = np.zeros(d, np.float32)
    params = [w_enc, b_enc, w_dec, b_dec]
    opts = [Adam(p.shape, a.lr) for p in params]
    beta = np.float32(a.l1)

    x = np.empty((bs, d), np.float32)
    h = np.empty((bs, s), np.float32)
    e = np.empty((bs, d), np.float32)
    gh = np.empty((bs, s), np.float32)
    g_wenc = np.empty_like(w_enc)
    g_wdec = np.empty_like(w_dec)
    norms = np.empty((s, 1), np.float32)
    t = 0
    start = time.perf_counter()
    loss = 0.0
    for _ in range(a.epochs):
        order = rng.permutation(n)
        for b0 in range(0, n, bs):
            idx = order[b0:b0 + bs]
            r = len(idx)
            xb, hb, eb, ghb = x[:r], h[:r], e[:r], gh[:r]
            np.take(data, idx, axis=0, out=xb)
            xb -= mu
            xb *= inv
            # forward
            np.matmul(xb, w_enc, out=hb)
            hb += b_enc
            np.maximum(hb, 0, out=hb)
            np.matmul(hb, w_dec, out=eb)
            eb += b_dec
            eb -= xb
            loss = float(np.einsum("ij,ij->", eb, eb) / r + beta * hb.sum() / r)
            # backward
            scale = np.float32(2 / r)
            np.matmul(hb.T, eb, out=g_wdec)
            g_wdec *= scale
            g_bdec = eb.sum(axis=0) * scale
            np.matmul(eb, w_dec.T, out=ghb)
            ghb *= scale
            ghb += beta / np.float32(r)
            ghb *= hb > 0
            np.matmul(xb.T, ghb, out=g_wenc)
            g_benc = ghb.sum(axis=0)
            # Adam + decoder renormalisation
            t += 1
            for p, g, o in zip(params, [g_wenc, g_benc, g_wdec, g_bdec], opts):
                o.update(p, g, t)
            np.sqrt(np.einsum("ij,ij->i", w_dec, w_dec), out=norms[:, 0])
            w_dec /= norms
    seconds = (time.perf_counter() - start) / a.epochs
    print(json.dumps({"seconds_per_epoch": seconds, "final_loss": loss, "blas": blas_core()}))


if __name__ == "__main__":
    main()
