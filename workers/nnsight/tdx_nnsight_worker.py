#!/usr/bin/env python3
"""tdx worker (protocol v1) running a Hugging Face causal LM through nnsight, locally or on NDIF.

    python3 workers/nnsight/tdx_nnsight_worker.py      # then JSON-lines requests on stdin

`load` with remote=true runs every trace on NDIF (nnsight reads the API key from NDIF_API_KEY or
nnsight's CONFIG). Request translation lives in common/tdx_forward_plan.py and nnsight_plan.py (no torch
there); this file holds the trace itself and the SAE math in torch. See workers/README.md.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "common"))

import tdx_worker_protocol as proto  # noqa: E402
from tdx_worker_protocol import ProtocolError, bad_request  # noqa: E402
import nnsight_plan as hf  # noqa: E402
import tdx_forward_plan as fp  # noqa: E402

REQUIREMENTS = os.path.join(HERE, "requirements.txt")
DTYPES = ("float32", "float16", "bfloat16", "auto")


# MARK: torch side (runs inside the trace, locally or on the NDIF server; pickled by value from __main__)

def sae_encode(x, sae):
    """Latents [n, width] of rows x [n, d] (float32): act(((x − shift)·scale [− b_dec])·W_enc + b_enc)."""
    import torch
    xn = x - sae["shift"] if sae["shift"] is not None else x
    xn = xn * sae["scale"]
    if sae["subtract_decoder_bias"]:
        xn = xn - sae["b_dec"]
    f = xn @ sae["w_enc"] + sae["b_enc"]
    k = sae["topk"]
    if k is not None and k < f.shape[-1]:
        idx = f.topk(k, dim=-1).indices
        f = torch.zeros_like(f).scatter(-1, idx, f.gather(-1, idx))
    return torch.relu(f)


def sae_decode(f, sae):
    y = (f @ sae["w_dec"] + sae["b_dec"]) / sae["scale"]
    return y + sae["shift"] if sae["shift"] is not None else y


def edit_rows(x, edit, saes):
    """New values of rows x [n, d] (float32) under one edit (see the protocol's edit semantics)."""
    import torch
    op = edit["op"]
    if op == "add":
        return x + edit["vector"]
    sae = {k: (v.to(x.device) if torch.is_tensor(v) else v) for k, v in saes[edit["sae"]].items()}
    f = sae_encode(x, sae)
    if op == "sae_reconstruct":
        return sae_decode(f, sae)   # x̂: the SAE's error is dropped
    delta = torch.zeros_like(x)
    for k, action, value in edit["latents"]:
        old = f[:, k]
        new = torch.zeros_like(old) if action == "zero" else (old * value if action == "scale" else torch.full_like(old, value))
        delta = delta + (new - old)[:, None] * sae["w_dec"][k][None, :]
    return x + delta / sae["scale"]


def run_steps(model, steps, saes, logit_rows, saved):
    """The body of the trace: visits the blocks in forward order, edits rows of each block's output in place
    before anything later reads it, saves captured rows, then the logits rows. Appends float32 CPU tensors
    to `saved` (captures in step order, then logits)."""
    import torch
    layers = model.model.layers
    for block, edits, capture, cap_s, cap_p in steps:
        out = layers[block].output
        h = out[0] if isinstance(out, (tuple, list)) else out   # transformers < 5: (hidden, ...); ≥ 5: hidden
        for e in edits:
            s, p = e["s"].to(h.device), e["p"].to(h.device)
            rows = h[s, p, :].float()
            h[s, p, :] = edit_rows(rows, {**e, "vector": e["vector"].to(h.device) if e["vector"] is not None else None},
                                   saes).to(h.dtype)
        if capture:
            saved.append(h[cap_s.to(h.device), cap_p.to(h.device), :].detach().float().cpu())
    if logit_rows is not None:
        lg = model.lm_head.output
        s, p = logit_rows
        saved.append(lg[s.to(lg.device), p.to(lg.device), :].detach().float().cpu())


# MARK: worker

class NnsightWorker(proto.Worker):
    NAME, VERSION = "nnsight", "0.1"

    def __init__(self):
        super().__init__()
        self.shape = None
        self.remote = False

    def register_sae(self, req, payload):
        handle, spec = fp.parse_sae(req, payload)
        self.saes[handle] = spec
        return {}

    def load(self, req):
        import torch
        import transformers
        from nnsight import CONFIG, LanguageModel
        model_id = req.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise bad_request("'model' must be a Hugging Face model id or a local directory")
        revision = req.get("revision") or None
        dtype = req.get("dtype", "auto") or "auto"
        if dtype not in DTYPES:
            raise bad_request(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        remote = bool(req.get("remote", False))
        if remote and not (os.environ.get("NDIF_API_KEY") or CONFIG.API.APIKEY):
            raise ProtocolError("remote_error", "remote=true needs an NDIF API key, and none is set",
                                "Get one at https://login.ndif.us and export NDIF_API_KEY=<key>.")
        kwargs = {"device_map": "auto"}
        if not remote:
            new_kw = tuple(int(x) for x in transformers.__version__.split(".")[:2]) >= (4, 56)
            kwargs["dtype" if new_kw else "torch_dtype"] = dtype if dtype == "auto" else getattr(torch, dtype)
        try:
            # Remote: a meta-device model here; NDIF runs the real weights. Local: weights load now.
            model = LanguageModel(model_id, revision=revision, dispatch=not remote, **kwargs)
        except OSError as e:   # unknown repo, no access, missing files
            raise ProtocolError("model_not_found", f"cannot load {model_id!r}: {proto.first_line(e)}",
                                "Check the model id (and revision), and HF_TOKEN for gated models.")
        except torch.cuda.OutOfMemoryError:
            raise ProtocolError("out_of_memory", f"{model_id!r} does not fit in GPU memory",
                                "Use a smaller dtype, more GPUs, or remote=true.")
        cfg = model.config
        summary = hf.config_summary(cfg)
        if not hasattr(getattr(model, "model", None), "layers"):
            raise bad_request(f"{model_id!r} has no model.layers; the nnsight worker supports Llama-family models")
        self.model, self.remote = model, remote
        self.shape = fp.ModelShape(summary["blocks"], summary["d_model"], summary["vocab"], summary["context"] or 10 ** 9)
        tok = model.tokenizer
        bos = tok.bos_token_id
        probe = tok("a", add_special_tokens=True)["input_ids"]
        add_bos = bos is not None and len(probe) > 0 and probe[0] == bos
        used = str(getattr(cfg, "dtype", None) or getattr(cfg, "torch_dtype", None) or dtype).replace("torch.", "")
        if not remote:   # the loaded weights' dtype (the Envoy forwards to the Hugging Face module)
            used = str(next(iter(model.parameters())).dtype).replace("torch.", "")
        proto.log(f"loaded {model_id} ({'remote on NDIF' if remote else 'local'}), {summary}")
        return {"model_id": model_id, "revision": getattr(cfg, "_commit_hash", None) or (revision or ""),
                "dtype": used, "config": summary, "bos": bos, "add_bos": add_bos}

    def tokenize(self, req):
        text = req.get("text")
        if not isinstance(text, str):
            raise bad_request("'text' must be a string")
        tok = self.model.tokenizer
        enc = tok(text, add_special_tokens=bool(req.get("add_special", False)), return_offsets_mapping=True,
                  return_special_tokens_mask=True)
        ids = list(enc["input_ids"])
        lengths = hf.byte_lengths(text, enc["offset_mapping"], enc["special_tokens_mask"],
                                        tok.convert_ids_to_tokens(ids))
        return {"ids": ids, "lengths": lengths}

    def forward(self, req, payload):
        import nnsight
        import torch
        tok = self.model.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        plan = fp.plan_forward(req, payload, self.shape, self.saes, pad_id=pad)

        def f32(data):
            return torch.frombuffer(bytearray(data), dtype=torch.float32) if data else None

        def idx(rows):
            return (torch.tensor([s for s, _ in rows], dtype=torch.long), torch.tensor([p for _, p in rows], dtype=torch.long))
        d = self.shape.d_model
        saes = {}
        for h in plan.saes_used:
            sp = self.saes[h]
            saes[h] = {"w_enc": f32(sp.encoder).view(sp.d_in, sp.width), "b_enc": f32(sp.encoder_bias),
                       "w_dec": f32(sp.decoder).view(sp.width, sp.d_in), "b_dec": f32(sp.decoder_bias),
                       "shift": f32(sp.input_shift) if sp.input_shift else None, "scale": sp.input_scale,
                       "subtract_decoder_bias": sp.subtract_decoder_bias, "topk": sp.topk}
        cap_s, cap_p = idx(plan.capture_rows)
        steps = []
        for st in plan.steps:
            edits = []
            for e in st.edits:
                s, p = idx(e.rows)
                edits.append({"op": e.op, "s": s, "p": p, "vector": f32(e.vector).view(d) if e.vector else None,
                              "sae": e.sae, "latents": e.latents})
            steps.append((st.block, edits, st.capture, cap_s, cap_p))
        logit_rows = idx(plan.logit_rows) if plan.logit_rows else None
        inputs = {"input_ids": torch.tensor(plan.input_ids, dtype=torch.long),
                  "attention_mask": torch.tensor(plan.attention_mask, dtype=torch.long)}
        model = self.model
        # TDX_NNSIGHT_SIMULATE_REMOTE=1 sends local traces through nnsight's remote="local" mode (nnsight ≥ 0.8),
        # which serialises them exactly as for NDIF: the tests' check that the trace body ships.
        remote = self.remote or ("local" if os.environ.get("TDX_NNSIGHT_SIMULATE_REMOTE") else False)
        try:
            with model.trace(inputs, remote=remote):
                saved = nnsight.save([])
                run_steps(model, steps, saes, logit_rows, saved)
        except torch.cuda.OutOfMemoryError:
            raise ProtocolError("out_of_memory", "the GPU ran out of memory during the forward pass",
                                "Send fewer or shorter sequences per request.")
        except ProtocolError:
            raise
        except Exception as e:
            if self.remote:
                raise ProtocolError("remote_error", f"the NDIF request failed: {proto.first_line(e)}",
                                    "Check https://nnsight.net/status for the model's availability and your NDIF_API_KEY.")
            raise
        saved = list(saved)
        n_cap = sum(1 for st in plan.steps if st.capture)
        captured = [t.contiguous().numpy().astype("<f4").tobytes() for t in saved[:n_cap]]
        logits = saved[n_cap].contiguous().numpy().astype("<f4").tobytes() if logit_rows is not None else b""
        return fp.assemble_forward(plan, d, self.shape.vocab, captured, logits)


def main():
    out = proto.claim_stdout()   # before any import that might print
    try:
        import nnsight  # noqa: F401
        import accelerate  # noqa: F401  (device_map="auto")
        import torch  # noqa: F401
        import transformers  # noqa: F401
        if not hasattr(nnsight, "LanguageModel"):   # e.g. only a directory named nnsight on sys.path
            raise ImportError("nnsight has no LanguageModel")
    except ImportError as e:
        proto.log(f"cannot import the nnsight worker's dependencies: {e}")
        return proto.serve(proto.missing_dependency_handler("nnsight, torch, transformers and accelerate", REQUIREMENTS), stdout=out)
    return proto.serve(NnsightWorker().handle, stdout=out)


if __name__ == "__main__":
    sys.exit(main())
