#!/usr/bin/env python3
"""tdx worker (protocol v1) running a Llama-architecture GGUF model with plain NumPy.

    python3 workers/numpy_reference/tdx_numpy_worker.py      # then JSON-lines requests on stdin

An independent reference for tdx's Swift engine: clarity over speed. See workers/README.md.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "common"))

import tdx_worker_protocol as proto  # noqa: E402
from tdx_worker_protocol import ProtocolError, bad_request  # noqa: E402

WORKER_NAME, WORKER_VERSION = "numpy-reference", "0.1"
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
DTYPES = ("float32", "float16", "bfloat16", "auto")


def _int(v, what):
    if not isinstance(v, int) or isinstance(v, bool):
        raise bad_request(f"{what} must be an integer, not {v!r}")
    return v


def _int_list(v, what):
    if not isinstance(v, list):
        raise bad_request(f"{what} must be a list of integers")
    return [_int(x, what) for x in v]


def _per_sequence(req, key, n, default):
    v = req.get(key)
    if v is None:
        return [list(default) for _ in range(n)]
    if not isinstance(v, list) or len(v) != n:
        raise bad_request(f"'{key}' must have one list per sequence ({n})")
    return [_int_list(ps, key) for ps in v]


class NumpyWorker:
    def __init__(self):
        self.model = self.tokenizer = None
        self.saes = {}

    def handle(self, req, payload):
        op = req["op"]
        if op == "hello":
            proto.check_hello(req)
            return {"protocol": proto.PROTOCOL_VERSION, "worker": WORKER_NAME, "worker_version": WORKER_VERSION,
                    "capabilities": ["tokenize", "forward", "capture", "edit.add", "edit.sae"]}, b""
        if op == "load":
            return self.load(req), b""
        if op == "sae":
            return self.register_sae(req, payload), b""
        if op in ("tokenize", "forward") and self.model is None:
            raise bad_request(f"'{op}' needs a model; send 'load' first")
        if op == "tokenize":
            return self.tokenize(req), b""
        if op == "forward":
            return self.forward(req, payload)
        raise bad_request(f"unknown op {op!r}", "Known ops: hello, load, tokenize, sae, forward, close.")

    # MARK: load

    def load(self, req):
        from gguf_numpy import GGUFError, GGUFFile
        from llama_numpy import LlamaNumpy, ModelError
        from bpe_tokenizer import BPETokenizer
        path = req.get("model")
        if not isinstance(path, str) or not path:
            raise bad_request("'model' must be the path of a GGUF file")
        dtype = req.get("dtype", "float32") or "float32"
        if dtype not in DTYPES:
            raise bad_request(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        if req.get("remote"):
            raise bad_request("the NumPy worker runs locally only", "Use the nnsight worker for remote=true.")
        path = os.path.expanduser(path)
        if not os.path.isfile(path):
            raise ProtocolError("model_not_found", f"no GGUF file at {path}",
                                "Give the path of a .gguf file (the NumPy worker does not download models).")
        try:
            g = GGUFFile(path)
            tok = BPETokenizer.from_gguf_metadata(g.metadata, path)
            model = LlamaNumpy.from_gguf(g)
        except (GGUFError, ModelError, ValueError) as e:
            raise bad_request(str(e), "The NumPy worker reads Llama-architecture GGUF files with F32/F16/BF16/Q8_0/Q4_0/Q4_1 tensors.")
        if tok.tokens and len(tok.tokens) != model.config.vocab:
            proto.log(f"note: tokenizer has {len(tok.tokens)} tokens, the embedding {model.config.vocab} rows")
        self.model, self.tokenizer = model, tok
        c = model.config
        proto.log(f"loaded {path}: {c.blocks} blocks, d_model {c.d_model}, vocab {c.vocab}")
        return {"model_id": os.path.realpath(path), "revision": "", "dtype": "float32",
                "config": {"blocks": c.blocks, "d_model": c.d_model, "vocab": c.vocab, "heads": c.heads,
                           "kv_heads": c.kv_heads, "ffn": c.ffn, "context": c.context},
                "bos": tok.bos, "add_bos": bool(tok.add_bos and tok.bos is not None)}

    # MARK: tokenize

    def tokenize(self, req):
        text = req.get("text")
        if not isinstance(text, str):
            raise bad_request("'text' must be a string")
        ids, lengths = self.tokenizer.encode_with_lengths(text, add_special=bool(req.get("add_special", False)))
        return {"ids": ids, "lengths": lengths}

    # MARK: sae

    def register_sae(self, req, payload):
        from llama_numpy import SAE
        handle = req.get("handle")
        if not isinstance(handle, str) or not handle:
            raise bad_request("'handle' must be a non-empty string")
        d, w = _int(req.get("d_in"), "d_in"), _int(req.get("width"), "width")
        if d <= 0 or w <= 0:
            raise bad_request("d_in and width must be positive")
        act = req.get("activation", "relu")
        topk = None
        if isinstance(act, str) and act.startswith("topk:"):
            try:
                topk = int(act[5:])
            except ValueError:
                topk = 0
            if topk <= 0:
                raise bad_request(f"activation {act!r} needs a positive K")
        elif act != "relu":
            raise bad_request(f"activation {act!r} is not 'relu' or 'topk:K'")
        scale = req.get("input_scale", 1.0)
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale == 0:
            raise bad_request("input_scale must be a non-zero number")
        arr = self._np_floats
        self.saes[handle] = SAE(
            d, w, arr(req, "encoder", payload, d * w), arr(req, "encoder_bias", payload, w),
            arr(req, "decoder", payload, w * d), arr(req, "decoder_bias", payload, d), input_scale=float(scale),
            input_shift=arr(req, "input_shift", payload, d, required=False),
            subtract_decoder_bias=bool(req.get("subtract_decoder_bias", False)), topk=topk)
        return {}

    @staticmethod
    def _np_floats(req, key, payload, count, required=True):
        import numpy as np
        ref = proto.array_ref(req, key, payload, required)
        if ref is None:
            return None
        off, n = ref
        if n != count:
            raise bad_request(f"'{key}' has {n} floats; {count} expected")
        return np.frombuffer(payload, dtype="<f4", count=n, offset=off).astype(np.float32)

    # MARK: forward

    def forward(self, req, payload):
        import numpy as np
        from llama_numpy import Edit
        c = self.model.config
        seqs = req.get("sequences")
        if not isinstance(seqs, list) or not seqs:
            raise bad_request("'sequences' must be a non-empty list of token-id lists")
        seqs = [_int_list(s, "sequences") for s in seqs]
        S = len(seqs)
        for s, ids in enumerate(seqs):
            if not ids:
                raise bad_request(f"sequence {s} is empty")
            if len(ids) > c.context:
                raise bad_request(f"sequence {s} has {len(ids)} tokens; the context is {c.context}")
            bad = [t for t in ids if not 0 <= t < c.vocab]
            if bad:
                raise bad_request(f"token id {bad[0]} is outside the vocabulary (0..<{c.vocab})")

        def resolve(p, s, what):
            n = len(seqs[s])
            q = n + p if p < 0 else p
            if not 0 <= q < n:
                raise bad_request(f"{what} position {p} is outside sequence {s} (length {n})")
            return q
        logit_pos = _per_sequence(req, "logit_positions", S, [-1])
        cap_pos = _per_sequence(req, "capture_positions", S, [])
        logit_pos = [[resolve(p, s, "logit") for p in ps] for s, ps in enumerate(logit_pos)]
        cap_pos = [[resolve(p, s, "capture") for p in ps] for s, ps in enumerate(cap_pos)]
        blocks = _int_list(req.get("capture_blocks", []), "capture_blocks")
        for b in blocks:
            if not 0 <= b < c.blocks:
                raise bad_request(f"capture block {b} is outside 0..<{c.blocks}")
        per_seq_edits = [[] for _ in range(S)]
        edits = req.get("edits", [])
        if not isinstance(edits, list):
            raise bad_request("'edits' must be a list")
        for i, e in enumerate(edits):
            base = self._parse_edit(e, i, payload)
            targets = e.get("sequences")
            targets = list(range(S)) if targets is None else _int_list(targets, f"edit {i} sequences")
            for s in targets:
                if not 0 <= s < S:
                    raise bad_request(f"edit {i} names sequence {s}; the request has {S}")
                ps = [resolve(p, s, f"edit {i}") for p in base["positions"]]
                per_seq_edits[s].append(Edit(positions=ps, sequences=[s], **{k: v for k, v in base.items() if k != "positions"}))

        out = proto.PayloadBuilder()
        logit_refs, resid_refs = [], []
        for s in range(S):
            logits, resid = self.model.forward_sequence(seqs[s], logit_pos[s], blocks, cap_pos[s], per_seq_edits[s])
            logit_refs.append(out.add(np.ascontiguousarray(logits, dtype="<f4").tobytes()))
            resid_refs.append(out.add(np.ascontiguousarray(resid, dtype="<f4").tobytes()))
        data = out.bytes()
        return {"logits": logit_refs, "residuals": resid_refs, "payload_bytes": len(data)}, data

    def _parse_edit(self, e, i, payload):
        import numpy as np
        c = self.model.config
        if not isinstance(e, dict):
            raise bad_request(f"edit {i} must be an object")
        block = _int(e.get("block"), f"edit {i} block")
        if not 0 <= block < c.blocks:
            raise bad_request(f"edit {i} block {block} is outside 0..<{c.blocks}")
        positions = _int_list(e.get("positions"), f"edit {i} positions")
        op = e.get("op")
        out = {"block": block, "positions": positions, "op": op}
        if op == "add":
            out["vector"] = self._np_floats(e, "vector", payload, c.d_model)
        elif op in ("sae_reconstruct", "sae_latents"):
            sae = self.saes.get(e.get("sae"))
            if sae is None:
                raise bad_request(f"edit {i} names SAE {e.get('sae')!r}, which no 'sae' request registered")
            if sae.d_in != c.d_model:
                raise bad_request(f"edit {i}: SAE {e.get('sae')!r} has d_in {sae.d_in}; the model's d_model is {c.d_model}")
            out["sae"] = sae
            if op == "sae_latents":
                lat = e.get("latents")
                if not isinstance(lat, list) or not lat:
                    raise bad_request(f"edit {i} (sae_latents) needs a non-empty 'latents' list")
                parsed = []
                for L in lat:
                    k = _int(L.get("latent") if isinstance(L, dict) else None, f"edit {i} latent")
                    if not 0 <= k < sae.width:
                        raise bad_request(f"edit {i}: latent {k} is outside 0..<{sae.width}")
                    action, value = L.get("action"), L.get("value")
                    if action not in ("zero", "scale", "clamp"):
                        raise bad_request(f"edit {i}: latent action {action!r} is not zero, scale or clamp")
                    if action != "zero" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                        raise bad_request(f"edit {i}: latent action '{action}' needs a numeric 'value'")
                    parsed.append((k, action, np.float32(value or 0)))
                out["latents"] = parsed
        else:
            raise bad_request(f"edit {i} has op {op!r}; expected add, sae_reconstruct or sae_latents")
        return out


def main():
    out = proto.claim_stdout()   # before any import that might print
    try:
        import numpy  # noqa: F401
    except ImportError as e:
        proto.log(f"cannot import numpy: {e}")
        return proto.serve(proto.missing_dependency_handler("numpy", REQUIREMENTS, "apt-get install python3-numpy"), stdout=out)
    return proto.serve(NumpyWorker().handle, stdout=out)


if __name__ == "__main__":
    sys.exit(main())
