"""The NumPy worker on the real SmolLM2-135M-Instruct (Q4_1) against Tests/Fixtures/models/smollm2_capital_golden.json
(shared/tools/reference_forward.py's values). Skipped unless the model is cached at ~/.cache/tdx/models.

Tolerance: max |got − want| / max |want| ≤ 1e-3 per vector. Both sides compute in float32 from the same
dequantised weights; they differ only in summation order (fused q|k|v and gate|up products, chunked attention,
float64 norm and softmax sums), which after 30 blocks left 3.5e-6 relative when measured; 1e-3 (MODELS.md's bound) still
catches any real error, such as a wrong RoPE pairing, which moves the logits by whole units."""
import json
import os
import unittest

from tests.helpers import FIXTURES, NUMPY_WORKER, SMOLLM2, WorkerProcess, floats, have_numpy

GOLDEN = os.path.join(FIXTURES, "smollm2_capital_golden.json")


@unittest.skipUnless(have_numpy() and os.path.exists(SMOLLM2) and os.path.exists(GOLDEN),
                     f"needs numpy, {SMOLLM2} (tdx model fetch) and {GOLDEN}")
class SmolLM2GoldenTests(unittest.TestCase):
    def test_logits_and_residuals_match_the_reference(self):
        import numpy as np
        with open(GOLDEN) as f:
            g = json.load(f)
        w = WorkerProcess(NUMPY_WORKER)
        try:
            r, _ = w.request({"op": "load", "model": SMOLLM2, "revision": "", "dtype": "float32", "remote": False})
            self.assertTrue(r["ok"], r)
            V, d = r["config"]["vocab"], r["config"]["d_model"]
            r, _ = w.request({"op": "tokenize", "text": "The capital of France is", "add_special": True})
            self.assertEqual(r["ids"], g["ids"])
            T = len(g["ids"])
            blocks = [0, 14, 29]
            r, out = w.request({"op": "forward", "sequences": [g["ids"]], "logit_positions": [list(range(T))],
                                "capture_blocks": blocks, "capture_positions": [list(range(T))]})
            self.assertTrue(r["ok"], r)
            logits = floats(out, r["logits"][0]).reshape(T, V)
            res = floats(out, r["residuals"][0]).reshape(len(blocks), T, d)
            worst = 0.0
            for p in range(T):
                want = np.asarray(g["top20_logits"][p])
                got = logits[p, g["top20_ids"][p]]
                err = np.abs(got - want).max() / np.abs(want).max()
                worst = max(worst, err)
                self.assertLessEqual(err, 1e-3, f"logits at position {p}")
                self.assertEqual(int(np.argmax(logits[p])), g["top20_ids"][p][0])
                for bi, b in enumerate(blocks):
                    want = np.asarray(g["residual_after_block"][str(b)][p])
                    got = res[bi, p, g["dims"]]
                    err = np.abs(got - want).max() / np.abs(want).max()
                    worst = max(worst, err)
                    self.assertLessEqual(err, 1e-3, f"residual after block {b} at position {p}")
            # MODELS.md's reference behaviour.
            from bpe_tokenizer import BPETokenizer
            from gguf_numpy import GGUFFile
            tok = BPETokenizer.from_gguf_metadata(GGUFFile(SMOLLM2).metadata)
            top5 = [tok.tokens[i] for i in np.argsort(-logits[-1])[:5]]
            self.assertEqual(top5, ["ĠParis", "Ġthe", "ĠLondon", "ĠLe", "ĠNew"])
            ids = tok.encode("One, two, three, four,")
            r, out = w.request({"op": "forward", "sequences": [ids]})
            self.assertEqual(tok.tokens[int(np.argmax(floats(out, r["logits"][0])))], "Ġfive")
            print(f"\nSmolLM2 golden: worst relative error {worst:.2e}", flush=True)
        finally:
            w.close()


if __name__ == "__main__":
    unittest.main()
