"""The nnsight worker end to end, where nnsight, torch and transformers are installed (skipped otherwise).

The model is the tiny random Llama of the NumPy tests, written twice: as a GGUF for the NumPy worker and as a
Hugging Face directory (Q/K rows un-permuted back to the halves layout, a byte-level BPE tokenizer.json with the
same vocabulary) for the nnsight worker. Both workers then answer the same requests, which checks the nnsight
worker's trace, padding, edits and SAE math, and the GGUF RoPE convention, against an independent path."""
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

from tests.helpers import (NNSIGHT_WORKER, NUMPY_WORKER, TINY, PayloadWriter, WorkerProcess, floats, have_numpy,
                           save_tiny_hf_tokenizer, tiny_model)


def _probe():
    """(nnsight, torch and transformers import; nnsight has remote="local" simulation), asked of a fresh python3:
    a directory named nnsight on sys.path, such as workers/nnsight, does not count."""
    if importlib.util.find_spec("torch") is None:
        return False, False
    code = ("import nnsight, torch, transformers, accelerate; nnsight.LanguageModel\n"
            "try:\n import nnsight.intervention.backends.local; print('sim')\nexcept ImportError: pass")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd="/", text=True)
    return r.returncode == 0, "sim" in r.stdout


NNSIGHT, REMOTE_SIMULATION = _probe()


def gguf_to_hf_rows(w, heads):
    """Inverse of llama.cpp's converter permutation: GGUF row 2i+j of a head is Hugging Face row j·hd/2 + i."""
    rows, cols = w.shape
    hd = rows // heads
    return w.reshape(heads, hd // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def write_hf_model(directory, W):
    import torch
    import transformers
    c = TINY
    _, vocab = save_tiny_hf_tokenizer(directory)
    cfg = transformers.LlamaConfig(vocab_size=vocab, hidden_size=c["d"], intermediate_size=c["ffn"],
                                   num_hidden_layers=c["blocks"], num_attention_heads=c["heads"],
                                   num_key_value_heads=c["kv"], head_dim=c["d"] // c["heads"],
                                   max_position_embeddings=c["context"], rms_norm_eps=1e-5, rope_theta=10000.0,
                                   tie_word_embeddings=True, bos_token_id=0, eos_token_id=1)
    model = transformers.LlamaForCausalLM(cfg)
    t = lambda a: torch.tensor(a, dtype=torch.float32)
    with torch.no_grad():
        m = model.model
        m.embed_tokens.weight.copy_(t(W["token_embd.weight"]))
        m.norm.weight.copy_(t(W["output_norm.weight"]))
        for i, layer in enumerate(m.layers):
            b = f"blk.{i}."
            layer.self_attn.q_proj.weight.copy_(t(gguf_to_hf_rows(W[b + "attn_q.weight"], c["heads"])))
            layer.self_attn.k_proj.weight.copy_(t(gguf_to_hf_rows(W[b + "attn_k.weight"], c["kv"])))
            layer.self_attn.v_proj.weight.copy_(t(W[b + "attn_v.weight"]))
            layer.self_attn.o_proj.weight.copy_(t(W[b + "attn_output.weight"]))
            layer.mlp.gate_proj.weight.copy_(t(W[b + "ffn_gate.weight"]))
            layer.mlp.up_proj.weight.copy_(t(W[b + "ffn_up.weight"]))
            layer.mlp.down_proj.weight.copy_(t(W[b + "ffn_down.weight"]))
            layer.input_layernorm.weight.copy_(t(W[b + "attn_norm.weight"]))
            layer.post_attention_layernorm.weight.copy_(t(W[b + "ffn_norm.weight"]))
    model.save_pretrained(directory)


@unittest.skipUnless(have_numpy() and NNSIGHT,
                     "nnsight/torch/transformers are not installed (pip install -r workers/nnsight/requirements.txt): "
                     "the nnsight worker's model calls are untested here")
class NnsightAgainstNumpyTests(unittest.TestCase):
    env = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        gguf = os.path.join(cls.tmp.name, "tiny.gguf")
        hf = os.path.join(cls.tmp.name, "hf")
        W = tiny_model(gguf, seed=3, add_bos=False)
        write_hf_model(hf, W)
        cls.workers = []
        for script, model in ((NUMPY_WORKER, gguf), (NNSIGHT_WORKER, hf)):
            w = WorkerProcess(script, timeout=300, env=cls.env)
            cls.workers.append(w)
            r, _ = w.request({"op": "load", "model": model, "revision": "", "dtype": "float32", "remote": False})
            assert r["ok"], (r, w.stderr)
        cls.np_worker, cls.nn_worker = cls.workers

    @classmethod
    def tearDownClass(cls):
        for w in cls.workers:
            w.close()
        cls.tmp.cleanup()

    def both(self, req, payload=b""):
        out = []
        for w in self.workers:
            r, data = w.request(dict(req), payload)
            self.assertTrue(r["ok"], (r, w.stderr[-3000:]))
            out.append((r, data))
        return out

    def assertSameArrays(self, req, payload=b"", tol=1e-4):
        import numpy as np
        (ra, da), (rb, db) = self.both(req, payload)
        for key in ("logits", "residuals"):
            for s, (x, y) in enumerate(zip(ra[key], rb[key])):
                self.assertEqual(x["count"], y["count"], f"{key} of sequence {s}")
                a, b = floats(da, x).astype(np.float64), floats(db, y).astype(np.float64)
                if a.size:
                    err = np.abs(a - b).max() / np.abs(a).max()
                    self.assertLessEqual(err, tol, f"{key} of sequence {s}: relative difference {err}")

    def test_load_config_matches(self):
        (a, _), (b, _) = self.both({"op": "hello", "protocol": 1})
        self.assertEqual((a["protocol"], b["protocol"], b["worker"]), (1, 1, "nnsight"))
        r, _ = self.nn_worker.request({"op": "load", "model": os.path.join(self.tmp.name, "hf"), "dtype": "float32"})
        self.assertEqual(r["config"], {"blocks": 3, "d_model": 32, "vocab": 267, "heads": 4, "kv_heads": 2,
                                       "ffn": 48, "context": 64})

    def test_tokenize_matches(self):
        for text in ("hello world", "  hello, wörld 42!"):
            (a, _), (b, _) = self.both({"op": "tokenize", "text": text, "add_special": False})
            self.assertEqual((a["ids"], a["lengths"]), (b["ids"], b["lengths"]), text)

    def test_batched_logits_and_captures_match(self):
        self.assertSameArrays({"op": "forward", "sequences": [[5, 70, 200, 3, 266], [8, 9], [100, 101, 102]],
                               "logit_positions": [[0, -1], [-1], []], "capture_blocks": [2, 0],
                               "capture_positions": [[1, -1], [0], [2]]})

    def test_edits_match(self):
        import numpy as np
        rng = np.random.default_rng(9)
        d, width = 32, 16
        pw = PayloadWriter()
        sae = {"op": "sae", "handle": "s", "d_in": d, "width": width, "input_scale": 0.5, "activation": "topk:5",
               "subtract_decoder_bias": True, "encoder": pw.add(rng.standard_normal((d, width)) * 0.3),
               "encoder_bias": pw.add(rng.standard_normal(width) * 0.1),
               "decoder": pw.add(rng.standard_normal((width, d)) * 0.3), "decoder_bias": pw.add(rng.standard_normal(d) * 0.1),
               "input_shift": pw.add(rng.standard_normal(d) * 0.1)}
        self.both(sae, pw.data)
        pw = PayloadWriter()
        vec = pw.add(np.linspace(-1, 1, d))
        edits = [{"block": 0, "sequences": None, "positions": [1, -1, 1], "op": "add", "vector": vec},
                 {"block": 1, "sequences": [1], "positions": [0, 2], "op": "sae_reconstruct", "sae": "s"},
                 {"block": 1, "sequences": [0], "positions": [-1], "op": "sae_latents", "sae": "s",
                  "latents": [{"latent": 2, "action": "clamp", "value": 3.5}, {"latent": 4, "action": "zero"},
                              {"latent": 7, "action": "scale", "value": -10}]}]
        self.assertSameArrays({"op": "forward", "sequences": [[10, 20, 30, 40], [50, 60, 70]],
                               "logit_positions": [[-1], [-1]], "capture_blocks": [0, 1, 2],
                               "capture_positions": [[1, 3], [0, 2]], "edits": edits}, pw.data)

    def test_bad_request(self):
        r, _ = self.nn_worker.request({"op": "forward", "sequences": [[1, 2]], "logit_positions": [[5]]})
        self.assertEqual(r["error"]["code"], "bad_request")


@unittest.skipUnless(have_numpy() and NNSIGHT and REMOTE_SIMULATION,
                     "needs nnsight ≥ 0.8 (remote=\"local\" simulation of NDIF's serialisation)")
class NnsightSimulatedRemoteTests(NnsightAgainstNumpyTests):
    """The same checks with every trace serialised as for NDIF and run from the deserialised copy."""
    env = {"TDX_NNSIGHT_SIMULATE_REMOTE": "1"}
    test_load_config_matches = test_tokenize_matches = test_bad_request = None   # no trace: nothing to ship


if __name__ == "__main__":
    unittest.main()
