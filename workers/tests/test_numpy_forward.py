"""The NumPy worker's forward pass over a tiny random GGUF, through the protocol, against a naive
per-position float64 reference written here; captures, logits, batching and every edit kind."""
import os
import tempfile
import unittest

from tests.helpers import F16, NUMPY_WORKER, Q4_1, Q8_0, TINY, PayloadWriter, WorkerProcess, floats, have_numpy, tiny_model


def naive_forward(W, ids, hook=None, freqs=None):
    """Residuals after each block [L][T][d] and logits [T][V], one position and head at a time (float64).
    hook(l, x) may change the residual stream after block l (x [T, d], in place)."""
    import numpy as np
    c = TINY
    d, H, KV = c["d"], c["heads"], c["kv"]
    hd = d // H
    f64 = {k: v.astype(np.float64) for k, v in W.items()}

    def rms(v, w):
        return v / np.sqrt(np.mean(v * v) + 1e-5) * w

    def rope(vec, pos):
        out = vec.copy()
        for i in range(hd // 2):
            theta = pos * 10000.0 ** (-2 * i / hd)
            if freqs is not None:
                theta /= freqs[i]
            a, b = vec[2 * i], vec[2 * i + 1]
            out[2 * i] = a * np.cos(theta) - b * np.sin(theta)
            out[2 * i + 1] = a * np.sin(theta) + b * np.cos(theta)
        return out

    x = np.array([f64["token_embd.weight"][t] for t in ids])
    T = len(ids)
    after = []
    for l in range(c["blocks"]):
        p = f"blk.{l}."
        q, k, v = [], [], []
        for t in range(T):
            h = rms(x[t], f64[p + "attn_norm.weight"])
            q.append([rope((f64[p + "attn_q.weight"] @ h)[j * hd:(j + 1) * hd], t) for j in range(H)])
            k.append([rope((f64[p + "attn_k.weight"] @ h)[j * hd:(j + 1) * hd], t) for j in range(KV)])
            v.append([(f64[p + "attn_v.weight"] @ h)[j * hd:(j + 1) * hd] for j in range(KV)])
        new = x.copy()
        for t in range(T):
            heads = []
            for j in range(H):
                g = j // (H // KV)
                s = np.array([q[t][j] @ k[u][g] for u in range(t + 1)]) / np.sqrt(hd)
                a = np.exp(s - s.max())
                a /= a.sum()
                heads.append(sum(a[u] * v[u][g] for u in range(t + 1)))
            new[t] = x[t] + f64[p + "attn_output.weight"] @ np.concatenate(heads)
            h = rms(new[t], f64[p + "ffn_norm.weight"])
            gate, up = f64[p + "ffn_gate.weight"] @ h, f64[p + "ffn_up.weight"] @ h
            new[t] = new[t] + f64[p + "ffn_down.weight"] @ (gate / (1 + np.exp(-gate)) * up)
        x = new
        if hook:
            hook(l, x)
        after.append(x.copy())
    out = f64.get("output.weight", f64["token_embd.weight"])
    logits = np.array([out @ rms(x[t], f64["output_norm.weight"]) for t in range(T)])
    return after, logits


@unittest.skipUnless(have_numpy(), "numpy is not installed (pip install -r workers/numpy_reference/requirements.txt)")
class ForwardTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "tiny.gguf")
        cls.W = tiny_model(cls.path, seed=1, types={"attn_q.weight": Q8_0, "ffn_up.weight": Q4_1,
                                                     "attn_output.weight": F16, "token_embd.weight": Q8_0})
        cls.w = WorkerProcess(NUMPY_WORKER)
        r, _ = cls.w.request({"op": "hello", "protocol": 1})
        assert r["ok"], r
        r, _ = cls.w.request({"op": "load", "model": cls.path, "revision": "", "dtype": "float32", "remote": False})
        assert r["ok"], r
        cls.load_response = r
        cls.V = r["config"]["vocab"]

    @classmethod
    def tearDownClass(cls):
        cls.w.close()
        cls.tmp.cleanup()

    def run_forward(self, payload=b"", **req):
        r, out = self.w.request(dict(op="forward", **req), payload)
        self.assertTrue(r["ok"], r)
        return r, out

    def assertClose(self, got, want, tol=2e-4):
        import numpy as np
        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
        self.assertEqual(got.shape, want.shape)
        if got.size == 0:
            return
        err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-6)
        self.assertLessEqual(err, tol, f"relative error {err}")

    def test_load_reports_the_config(self):
        r = self.load_response
        self.assertEqual(r["config"], {"blocks": 3, "d_model": 32, "vocab": 267, "heads": 4, "kv_heads": 2,
                                       "ffn": 48, "context": 64})
        self.assertEqual((r["bos"], r["add_bos"], r["dtype"]), (0, True, "float32"))

    def test_tokenize_through_the_protocol(self):
        r, _ = self.w.request({"op": "tokenize", "text": "hello world", "add_special": True})
        self.assertEqual(r["lengths"], [0, 5, 6])
        self.assertEqual(r["ids"][0], 0)

    def test_logits_and_captures_match_the_naive_reference(self):
        ids = [5, 70, 200, 3, 266, 12, 9]
        after, logits = naive_forward(self.W, ids)
        r, out = self.run_forward(sequences=[ids], logit_positions=[[0, 3, -1]], capture_blocks=[2, 0],
                                  capture_positions=[[-1, 1]])
        self.assertClose(floats(out, r["logits"][0]).reshape(3, self.V), logits[[0, 3, 6]])
        res = floats(out, r["residuals"][0]).reshape(2, 2, 32)   # block-major: [blocks][positions][d]
        self.assertClose(res[0], after[2][[6, 1]])
        self.assertClose(res[1], after[0][[6, 1]])

    def test_batched_sequences_of_different_lengths(self):
        seqs = [[5, 70, 200, 3], [8], [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]]
        r, out = self.run_forward(sequences=seqs, logit_positions=[[-1], [], [2, 9]], capture_blocks=[1],
                                  capture_positions=[[], [0], [5]])
        self.assertEqual(r["logits"][1]["count"], 0)
        self.assertEqual(r["residuals"][0]["count"], 0)
        self.assertEqual(r["payload_bytes"], 4 * (3 * self.V + 2 * 32))
        for s, ids in enumerate(seqs):
            after, logits = naive_forward(self.W, ids)
            lp = [[3], [], [2, 9]][s]
            self.assertClose(floats(out, r["logits"][s]).reshape(len(lp), self.V), logits[lp].reshape(len(lp), self.V))
            cp = [[], [0], [5]][s]
            self.assertClose(floats(out, r["residuals"][s]).reshape(len(cp), 32), after[1][cp].reshape(len(cp), 32))

    def test_default_logit_position_is_the_last(self):
        ids = [1, 2, 3]
        _, logits = naive_forward(self.W, ids)
        r, out = self.run_forward(sequences=[ids])
        self.assertClose(floats(out, r["logits"][0]), logits[2])

    def test_add_edit_changes_the_stream_before_captures_and_later_blocks(self):
        import numpy as np
        ids = [10, 20, 30, 40, 50]
        vec = np.linspace(-1, 1, 32).astype(np.float32)

        def hook(l, x):
            if l == 1:
                x[[1, 4]] += vec
        after, logits = naive_forward(self.W, ids, hook)
        pw = PayloadWriter()
        edit = {"block": 1, "sequences": None, "positions": [1, -1], "op": "add", "vector": pw.add(vec)}
        r, out = self.run_forward(pw.data, sequences=[ids], logit_positions=[[-1]], capture_blocks=[1, 2],
                                  capture_positions=[[0, 1, 4]], edits=[edit])
        res = floats(out, r["residuals"][0]).reshape(2, 3, 32)
        self.assertClose(res[0], after[1][[0, 1, 4]])
        self.assertClose(res[1], after[2][[0, 1, 4]])
        self.assertClose(floats(out, r["logits"][0]), logits[4])

    def test_edit_restricted_to_listed_sequences(self):
        import numpy as np
        seqs = [[10, 20, 30], [10, 20, 30]]
        pw = PayloadWriter()
        edit = {"block": 0, "sequences": [1], "positions": [0], "op": "add", "vector": pw.add(np.ones(32))}
        r, out = self.run_forward(pw.data, sequences=seqs, logit_positions=[[-1], [-1]], edits=[edit])
        _, plain = naive_forward(self.W, seqs[0])
        self.assertClose(floats(out, r["logits"][0]), plain[2])
        self.assertGreater(np.abs(floats(out, r["logits"][1]) - plain[2]).max(), 1e-3)

    def register_sae(self, handle, width=24, activation="relu", shift=True, subtract=True, seed=5):
        import numpy as np
        rng = np.random.default_rng(seed)
        d = 32
        sae = {"enc": rng.standard_normal((d, width)).astype(np.float32) * 0.3,
               "b_enc": rng.standard_normal(width).astype(np.float32) * 0.1,
               "dec": rng.standard_normal((width, d)).astype(np.float32) * 0.3,
               "b_dec": rng.standard_normal(d).astype(np.float32) * 0.1,
               "shift": rng.standard_normal(d).astype(np.float32) * 0.1 if shift else None,
               "scale": 0.5, "subtract": subtract, "topk": int(activation[5:]) if activation.startswith("topk:") else None}
        pw = PayloadWriter()
        req = {"op": "sae", "handle": handle, "d_in": d, "width": width, "input_scale": sae["scale"],
               "subtract_decoder_bias": subtract, "activation": activation, "encoder": pw.add(sae["enc"]),
               "encoder_bias": pw.add(sae["b_enc"]), "decoder": pw.add(sae["dec"]), "decoder_bias": pw.add(sae["b_dec"])}
        if shift:
            req["input_shift"] = pw.add(sae["shift"])
        r, _ = self.w.request(req, pw.data)
        self.assertTrue(r["ok"], r)
        return sae

    @staticmethod
    def sae_encode(sae, x):
        """Latents of one vector, straight from the protocol's formula (float64)."""
        import numpy as np
        xn = (x - (sae["shift"] if sae["shift"] is not None else 0)) * sae["scale"]
        if sae["subtract"]:
            xn = xn - sae["b_dec"]
        f = xn @ sae["enc"].astype(np.float64) + sae["b_enc"]
        if sae["topk"]:
            keep = np.argsort(-f)[:sae["topk"]]
            f2 = np.zeros_like(f)
            f2[keep] = f[keep]
            f = f2
        return np.maximum(f, 0)

    def test_sae_reconstruct_replaces_the_stream_by_its_reconstruction(self):
        import numpy as np
        sae = self.register_sae("r1")
        ids = [10, 20, 30, 40]

        def x_hat(x):
            f = self.sae_encode(sae, x)
            return (f @ sae["dec"].astype(np.float64) + sae["b_dec"]) / sae["scale"] + sae["shift"]

        def hook(l, x):
            if l == 0:
                for p in range(4):
                    x[p] = x_hat(x[p])
        after, logits = naive_forward(self.W, ids, hook)
        edit = {"block": 0, "sequences": None, "positions": [0, 1, 2, 3], "op": "sae_reconstruct", "sae": "r1"}
        r, out = self.run_forward(sequences=[ids], logit_positions=[[-1]], capture_blocks=[0],
                                  capture_positions=[[0, 1, 2, 3]], edits=[edit])
        got = floats(out, r["residuals"][0]).reshape(4, 32)
        self.assertClose(got, after[0])
        self.assertClose(floats(out, r["logits"][0]), logits[3])
        plain, _ = naive_forward(self.W, ids)
        self.assertGreater(np.abs(got - plain[0]).max(), 1e-2, "x̂ of a random SAE is not x")

    def check_latent_edit(self, activation, latents, expected_new):
        import numpy as np
        sae = self.register_sae("l-" + activation, activation=activation)
        ids = [7, 8, 9, 10, 11]
        pos = [2, 4]

        def hook(l, x):
            if l == 1:
                for p in pos:
                    f = self.sae_encode(sae, x[p])
                    for k in latents:
                        x[p] += (expected_new(f[k["latent"]], k) - f[k["latent"]]) * sae["dec"][k["latent"]] / sae["scale"]
        after, logits = naive_forward(self.W, ids, hook)
        edit = {"block": 1, "sequences": [0], "positions": pos, "op": "sae_latents", "sae": "l-" + activation,
                "latents": latents}
        r, out = self.run_forward(sequences=[ids], logit_positions=[[-1]], capture_blocks=[1],
                                  capture_positions=[pos], edits=[edit])
        got = floats(out, r["residuals"][0]).reshape(2, 32)
        self.assertClose(got, after[1][pos])
        self.assertClose(floats(out, r["logits"][0]), logits[4])
        plain, _ = naive_forward(self.W, ids)
        self.assertGreater(np.abs(got - plain[1][pos]).max(), 1e-4, "the edit must move the stream")

    def test_sae_latent_zero_scale_and_clamp(self):
        def new(old, k):
            return {"zero": 0.0, "scale": old * k.get("value", 0), "clamp": k.get("value", 0)}[k["action"]]
        # Latents chosen among those active at the edited positions would be seed-dependent; clamp always moves.
        self.check_latent_edit("relu", [{"latent": 3, "action": "clamp", "value": 3.5},
                                        {"latent": 5, "action": "scale", "value": -10},
                                        {"latent": 0, "action": "zero"}], new)
        self.check_latent_edit("topk:4", [{"latent": 1, "action": "clamp", "value": 2.0},
                                          {"latent": 2, "action": "zero"}], new)

    def test_requests_the_worker_rejects(self):
        bad = [({"sequences": [[1, 2]], "logit_positions": [[2]]}, "position"),
               ({"sequences": [[1, 2]], "logit_positions": [[-3]]}, "position"),
               ({"sequences": [[1, 999]]}, "vocabulary"),
               ({"sequences": [[]]}, "empty"),
               ({"sequences": [[1] * 65]}, "context"),
               ({"sequences": [[1, 2]], "capture_blocks": [3], "capture_positions": [[0]]}, "block"),
               ({"sequences": [[1, 2]], "logit_positions": [[0], [1]]}, "one list per sequence"),
               ({"sequences": [[1, 2]], "edits": [{"block": 0, "sequences": None, "positions": [0], "op": "sae_reconstruct",
                                                   "sae": "nope"}]}, "SAE"),
               ({"sequences": [[1, 2]], "edits": [{"block": 0, "sequences": [1], "positions": [0], "op": "add",
                                                   "vector": {"offset": 0, "count": 32}}]}, "sequence"),
               ({"sequences": [[1, 2]], "edits": [{"block": 0, "sequences": None, "positions": [0], "op": "add",
                                                   "vector": {"offset": 0, "count": 32}}]}, "payload"),
               ({"sequences": [[1, 2]], "edits": [{"block": 0, "positions": [0], "op": "scale"}]}, "op")]
        vec = b"\0" * 128
        for req, word in bad:
            with self.subTest(req=req):
                r, _ = self.w.request(dict(op="forward", **req), vec if word == "sequence" else b"")
                self.assertFalse(r["ok"])
                self.assertEqual(r["error"]["code"], "bad_request")
                self.assertIn(word.lower(), r["error"]["message"].lower())
        r, _ = self.w.request({"op": "forward", "sequences": [[1, 2]]})
        self.assertTrue(r["ok"], "the worker keeps serving after errors")


@unittest.skipUnless(have_numpy(), "numpy is not installed")
class ModelVariantTests(unittest.TestCase):
    def check(self, **kw):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.gguf")
            W = tiny_model(path, seed=2, **kw)
            w = WorkerProcess(NUMPY_WORKER)
            try:
                self.assertTrue(w.request({"op": "load", "model": path})[0]["ok"])
                ids = [3, 1, 4, 1, 5, 9]
                import numpy as np
                freqs = W["rope_freqs.weight"].astype(np.float64) if "rope_freqs.weight" in W else None
                _, logits = naive_forward(W, ids, freqs=freqs)
                r, out = w.request({"op": "forward", "sequences": [ids], "logit_positions": [[-1]]})
                got = floats(out, r["logits"][0]).astype(np.float64)
                self.assertLessEqual(np.abs(got - logits[-1]).max() / np.abs(logits[-1]).max(), 2e-4)
            finally:
                w.close()

    def test_separate_output_matrix(self):
        self.check(tied=False, types={"output.weight": F16})

    def test_rope_frequency_factors(self):
        self.check(rope_freqs=True)

    def test_all_matrices_q4_1(self):
        self.check(types={n: Q4_1 for n in ("attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                              "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight")})


if __name__ == "__main__":
    unittest.main()
