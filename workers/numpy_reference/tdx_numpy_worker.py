#!/usr/bin/env python3
"""tdx worker (protocol v1) running a Llama-architecture GGUF model with plain NumPy.

    python3 workers/numpy_reference/tdx_numpy_worker.py      # then JSON-lines requests on stdin

An independent reference for tdx's Swift engine: clarity over speed. See workers/README.md.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "common"))

import tdx_forward_plan as fp  # noqa: E402
import tdx_worker_protocol as proto  # noqa: E402
from tdx_worker_protocol import ProtocolError, bad_request  # noqa: E402

REQUIREMENTS = os.path.join(HERE, "requirements.txt")
DTYPES = ("float32", "float16", "bfloat16", "auto")


class NumpyWorker(proto.Worker):
    NAME, VERSION = "numpy-reference", "0.1"

    def __init__(self):
        super().__init__()
        self.tokenizer = None

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
        import numpy as np
        from llama_numpy import SAE
        handle, sp = fp.parse_sae(req, payload)

        def arr(data):
            return None if data is None else np.frombuffer(data, dtype="<f4").astype(np.float32)
        self.saes[handle] = SAE(sp.d_in, sp.width, arr(sp.encoder), arr(sp.encoder_bias), arr(sp.decoder),
                                arr(sp.decoder_bias), input_scale=sp.input_scale, input_shift=arr(sp.input_shift),
                                subtract_decoder_bias=sp.subtract_decoder_bias, topk=sp.topk)
        return {}

    # MARK: forward

    def forward(self, req, payload):
        """One sequence at a time through the model, each with its share of the plan's rows and edits."""
        import numpy as np
        from llama_numpy import Edit
        c = self.model.config
        plan = fp.plan_forward(req, payload, fp.ModelShape(c.blocks, c.d_model, c.vocab, c.context), self.saes)
        out = proto.PayloadBuilder()
        logit_refs, resid_refs = [], []
        for s, ids in enumerate(plan.sequences):
            edits = []
            for st in plan.steps:
                for e in st.edits:
                    ps = [p for s2, p in e.rows if s2 == s]
                    if ps:
                        edits.append(Edit(st.block, [s], ps, e.op, sae=self.saes.get(e.sae), latents=e.latents,
                                          vector=np.frombuffer(e.vector, "<f4").astype(np.float32) if e.vector else None))
            logits, resid = self.model.forward_sequence(
                ids, [p for s2, p in plan.logit_rows if s2 == s], plan.capture_blocks,
                [p for s2, p in plan.capture_rows if s2 == s], edits)
            logit_refs.append(out.add(np.ascontiguousarray(logits, dtype="<f4").tobytes()))
            resid_refs.append(out.add(np.ascontiguousarray(resid, dtype="<f4").tobytes()))
        data = out.bytes()
        return {"logits": logit_refs, "residuals": resid_refs, "payload_bytes": len(data)}, data


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
