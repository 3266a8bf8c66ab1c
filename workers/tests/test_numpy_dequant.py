"""The NumPy worker's dequantisers against a per-element reference and against llama.cpp's gguf-py values."""
import json
import os
import unittest

from tests.helpers import BF16, F16, F32, FIXTURES, Q4_0, Q4_1, Q8_0, have_numpy, quantize, reference_dequantize


@unittest.skipUnless(have_numpy(), "numpy is not installed (pip install -r workers/numpy_reference/requirements.txt)")
class DequantTests(unittest.TestCase):
    def random_blocks(self, ggml_type, nblocks, seed):
        """Random raw bytes of a quantised type, with sane f16 scales (random bytes could be inf/NaN)."""
        import numpy as np
        rng = np.random.default_rng(seed)
        size = {Q8_0: 34, Q4_1: 20, Q4_0: 18}[ggml_type]
        raw = rng.integers(0, 256, (nblocks, size), dtype=np.uint8)
        scales = 2 if ggml_type == Q4_1 else 1
        raw[:, :2 * scales] = rng.uniform(-0.1, 0.1, (nblocks, scales)).astype("<f2").view(np.uint8)
        return raw.reshape(-1).tobytes()

    def check(self, ggml_type, raw, n):
        import numpy as np
        from gguf_numpy import DEQUANT
        got = DEQUANT[ggml_type](np.frombuffer(raw, np.uint8))
        want = np.asarray(reference_dequantize(raw, ggml_type, n), np.float32)
        self.assertEqual(got.dtype, np.float32)
        np.testing.assert_array_equal(got, want)

    def test_quantised_blocks_match_the_per_element_reference(self):
        for t in (Q8_0, Q4_1, Q4_0):
            for nblocks, seed in ((1, 1), (7, 2)):
                with self.subTest(type=t, blocks=nblocks):
                    self.check(t, self.random_blocks(t, nblocks, seed), 32 * nblocks)

    def test_float_types_match_the_per_element_reference(self):
        import numpy as np
        x = np.random.default_rng(3).standard_normal(45).astype(np.float32)
        for t in (F32, F16, BF16):
            with self.subTest(type=t):
                self.check(t, quantize(x, t), 45)

    def test_values_of_llama_cpp_gguf_py(self):
        """dequant_golden.json (Tests/Fixtures/models) holds gguf-py's values of random blocks."""
        import numpy as np
        from gguf_numpy import DEQUANT
        path = os.path.join(FIXTURES, "dequant_golden.json")
        if not os.path.exists(path):
            self.skipTest(f"{path} is missing")
        with open(path) as f:
            golden = json.load(f)
        for name, t in (("F16", F16), ("BF16", BF16), ("Q8_0", Q8_0), ("Q4_1", Q4_1), ("Q4_0", Q4_0)):
            with self.subTest(type=name):
                raw = np.frombuffer(bytes.fromhex(golden[name]["hex"]), np.uint8)
                np.testing.assert_array_equal(DEQUANT[t](raw), np.asarray(golden[name]["values"], np.float32))

    def test_tensor_shape_is_reversed_gguf_dims(self):
        import tempfile
        import numpy as np
        from gguf_numpy import GGUFFile
        from tests.helpers import write_gguf
        m = np.arange(64 * 3, dtype=np.float32).reshape(3, 64)   # 3 rows of 64: GGUF dims [64, 3]
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "t.gguf")
            write_gguf(p, {"general.architecture": "llama"}, {"m": (m, F32), "q": (m, Q8_0)})
            g = GGUFFile(p)
            self.assertEqual(g.tensors["m"][0], (64, 3))
            np.testing.assert_array_equal(g.tensor("m"), m)
            self.assertEqual(g.tensor("q").shape, (3, 64))


if __name__ == "__main__":
    unittest.main()
