#!/usr/bin/env python3
"""Checks an SAE exported by tdx with NumPy only (no torch, no safetensors package).

usage: check_sae_export.py EXPORT_DIR INPUTS.f32 EXPECTED.f32 ROWS
Parses sae_weights.safetensors (8-byte little-endian header length, JSON header, raw data), applies the
normalisation named in cfg.json, computes h = act((x - mean) / scale @ W_enc + b_enc) and compares it with
the activations tdx computed. Exit 0 and prints the max abs difference when it is within tolerance.
"""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        arr = np.frombuffer(raw[base + lo:base + hi], dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = arr.reshape(info["shape"]).astype(np.float32)
    return out


def main():
    export_dir, inputs, expected, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cfg = json.load(open(os.path.join(export_dir, "cfg.json")))
    w = load_safetensors(os.path.join(export_dir, "sae_weights.safetensors"))
    d_in, d_sae = cfg["d_in"], cfg["d_sae"]
    assert w["W_enc"].shape == (d_in, d_sae) and w["W_dec"].shape == (d_sae, d_in)
    assert w["b_enc"].shape == (d_sae,) and w["b_dec"].shape == (d_in,)
    x = np.fromfile(inputs, dtype="<f4").reshape(rows, d_in).astype(np.float64)
    if cfg.get("normalisation", "none") != "none":
        norm = load_safetensors(os.path.join(export_dir, cfg["normalisation_file"]))
        x = (x - norm["mean"]) / norm["scale"]
    h = np.maximum(x @ w["W_enc"].astype(np.float64) + w["b_enc"], 0)
    if cfg.get("activation_fn") == "topk":
        k = cfg["activation_fn_kwargs"]["k"]
        drop = np.argsort(-h, axis=1, kind="stable")[:, k:]
        np.put_along_axis(h, drop, 0, axis=1)
    want = np.fromfile(expected, dtype="<f4").reshape(rows, d_sae)
    err = float(np.abs(h - want).max())
    print(json.dumps({"max_abs_diff": err, "rows": rows, "d_in": d_in, "d_sae": d_sae}))
    sys.exit(0 if err <= 1e-4 * max(1.0, float(np.abs(want).max())) else 1)


if __name__ == "__main__":
    main()
