#!/usr/bin/env python3
"""Writes dequant_golden.json: random blocks of each ggml type and their f32 values according to
llama.cpp's gguf-py (vendor/llama.cpp/gguf-py from the llama-cpp-python 0.3.36 sdist, on PYTHONPATH)."""
import json, numpy as np
from gguf.quants import dequantize
from gguf.constants import GGMLQuantizationType as T, GGML_QUANT_SIZES
rng = np.random.default_rng(7)
def half(n): return rng.uniform(-0.05, 0.05, n).astype(np.float16).view(np.uint8)
out = {}
for name, t, nblocks in [("F16", T.F16, 64), ("BF16", T.BF16, 64), ("Q4_0", T.Q4_0, 3), ("Q4_1", T.Q4_1, 3),
                         ("Q8_0", T.Q8_0, 3), ("Q4_K", T.Q4_K, 2), ("Q5_K", T.Q5_K, 2), ("Q6_K", T.Q6_K, 2)]:
    bs, ts = GGML_QUANT_SIZES[t]
    blocks = []
    for _ in range(nblocks):
        b = rng.integers(0, 256, ts, dtype=np.uint8)
        if name in ("F16",): b = half(ts // 2)
        if name == "BF16": b = rng.uniform(-3, 3, ts // 2).astype(np.float32).view(np.uint32).__rshift__(16).astype(np.uint16).view(np.uint8)
        if name in ("Q4_0", "Q8_0"): b[:2] = half(1)
        if name == "Q4_1": b[:4] = half(2)
        if name in ("Q4_K", "Q5_K"): b[:4] = half(2)
        if name == "Q6_K": b[208:210] = half(1)
        blocks.append(b)
    raw = np.concatenate(blocks)
    vals = dequantize(raw, t).astype(np.float32).reshape(-1)
    out[name] = {"hex": raw.tobytes().hex(), "values": [float(v) for v in vals]}
json.dump(out, open("dequant_golden.json", "w"))
