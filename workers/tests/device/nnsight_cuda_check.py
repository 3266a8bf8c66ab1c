#!/usr/bin/env python3
"""Device check of the nnsight worker on CUDA (scripts/device/nnsight_cuda_check.sh runs it on a GPU machine).

    python3 workers/tests/device/nnsight_cuda_check.py      # from the repository root; OUT=dir for a JSON summary

It writes a small random Llama as a Hugging Face directory (4 blocks, d_model 128, 8 query / 2 key-value heads,
an untied head with spread logits, 288 logits for a 267-token byte-level BPE tokenizer: padded embeddings), then
drives workers/nnsight/tdx_nnsight_worker.py as a subprocess through protocol v1 in several configurations:
cpu-f32, cpu-bf16, cuda-f32, cuda-bf16 and cuda-f32 through nnsight's simulated remote (remote="local", the
serialisation NDIF uses). Every op is sent: hello, load, tokenize, sae (a relu SAE with an input shift, a topk SAE
that subtracts its decoder bias), forward with logits at many positions, captures at several blocks, each edit
kind (add; sae_latents zero / scale / clamp; sae_reconstruct; all at once) and a bad request.

The reference is independent of nnsight and of the worker: the same model in plain transformers on the CPU in
float32, one unpadded sequence at a time, edits applied by forward hooks with the SAE math in float64 NumPy.

Tolerances (errors are max |a − ref| / max |ref| over a request's arrays):
* float32 (CPU or CUDA): 1e-3. The passes differ only in summation order (about 1e-6; torch keeps TF32 off for
  float32 matmuls by default); a wrong row, a lost edit or a device mix-up is an O(1) error.
* bfloat16: weights and the residual stream carry 8 significant bits (2^-9 relative rounding per op), which over
  4 blocks grows to a few percent of an array's scale. So: max error ≤ 0.1, every logit and residual row
  correlates ≥ 0.99 with the reference, top-1 token agrees on ≥ 90 % of all logit rows (random logits have near
  ties), and each edit's effect (edited − unedited, both from the same configuration) correlates ≥ 0.95 with the
  reference's, so an edit that silently does nothing fails in bfloat16 too. cpu-bf16 calibrates these here.
* sae_reconstruct replaces the stream by the SAE's reconstruction x̂ (the error dropped): it is checked like
  the other edits, against the reference and by its effect's correlation.
Also checked: the load answer (dtype used, config), tokenize against the Hugging Face tokenizer, and that a CUDA
worker really computed on the GPU (a probe put on the worker's PYTHONPATH reports torch's peak CUDA allocation at
exit, which must cover the weights) while a CPU worker never initialised CUDA.

Without a CUDA device the cuda configurations are skipped with a message (a failure when TDX_REQUIRE_CUDA=1).
Exit status 0 when every check passed.
"""
import json
import os
import sys
import tempfile
import time
import traceback

import numpy as np
import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, WORKERS)

from tests.helpers import NNSIGHT_WORKER, PayloadWriter, WorkerProcess, floats, save_tiny_hf_tokenizer  # noqa: E402

BLOCKS, D, HEADS, KV, FFN, VOCAB, CONTEXT = 4, 128, 8, 2, 256, 288, 128
WIDTH = 512
TEXTS = ["hello world, hello world!", "  hello, wörld 42 — ok\n", "hellohello world"]

F32_TOL = 1e-3
BF16 = dict(max_rel=0.1, row_corr=0.99, top1=0.9, effect_corr=0.95)

PROBE = '''
import atexit, os, runpy, sys
def _tdxcheck_report():
    t = sys.modules.get("torch")
    try:
        if t is not None and t.cuda.is_initialized():
            msg = "initialized peak_allocated=%d" % t.cuda.max_memory_allocated()
        else:
            msg = "not_initialized"
    except Exception as e:
        msg = "error %r" % (e,)
    sys.stderr.write("TDXCHECK cuda %s\\n" % msg)
    sys.stderr.flush()
atexit.register(_tdxcheck_report)
_next = os.environ.get("TDXCHECK_NEXT_SITECUSTOMIZE")
if _next:
    runpy.run_path(_next, run_name="sitecustomize")
'''


# MARK: the model and the reference

def write_model(directory, seed=0):
    tok, _ = save_tiny_hf_tokenizer(directory)
    cfg = transformers.LlamaConfig(vocab_size=VOCAB, hidden_size=D, intermediate_size=FFN, num_hidden_layers=BLOCKS,
                                   num_attention_heads=HEADS, num_key_value_heads=KV, head_dim=D // HEADS,
                                   max_position_embeddings=CONTEXT, rms_norm_eps=1e-5, rope_theta=10000.0,
                                   tie_word_embeddings=False, bos_token_id=0, eos_token_id=1)
    torch.manual_seed(seed)
    model = transformers.LlamaForCausalLM(cfg).float()
    with torch.no_grad():   # unit-scale activations and logits of std ≈ 3, so top-1 tokens are mostly clear
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif "embed_tokens" in name:
                p.normal_(0, 1)
            elif "lm_head" in name:
                p.normal_(0, 3 * D ** -0.5)
            else:
                p.normal_(0, p.shape[1] ** -0.5)
    model.save_pretrained(directory)
    return tok


def make_sae(rng, relu):
    """s1: relu with an input shift; s2: topk:8 that subtracts its decoder bias. Weights as float64 arrays."""
    return {"handle": "s1" if relu else "s2", "activation": "relu" if relu else "topk:8",
            "topk": None if relu else 8, "scale": 0.5 if relu else 2.0, "subtract_decoder_bias": not relu,
            "w_enc": rng.standard_normal((D, WIDTH)) * D ** -0.5, "b_enc": rng.standard_normal(WIDTH) * 0.1 - 0.2,
            "w_dec": rng.standard_normal((WIDTH, D)) * 0.5, "b_dec": rng.standard_normal(D) * 0.1,
            "shift": rng.standard_normal(D) * 0.2 if relu else None}


def sae_request(s):
    pw = PayloadWriter()
    req = {"op": "sae", "handle": s["handle"], "d_in": D, "width": WIDTH, "input_scale": s["scale"],
           "subtract_decoder_bias": s["subtract_decoder_bias"], "activation": s["activation"],
           "encoder": pw.add(s["w_enc"]), "encoder_bias": pw.add(s["b_enc"]), "decoder": pw.add(s["w_dec"]),
           "decoder_bias": pw.add(s["b_dec"])}
    if s["shift"] is not None:
        req["input_shift"] = pw.add(s["shift"])
    return req, pw.data


def f32(a):
    return np.asarray(a, np.float32).astype(np.float64)   # the values as the worker receives them


def sae_encode(x, s):
    xn = x - f32(s["shift"]) if s["shift"] is not None else x
    xn = xn * np.float32(s["scale"])
    if s["subtract_decoder_bias"]:
        xn = xn - f32(s["b_dec"])
    f = xn @ f32(s["w_enc"]) + f32(s["b_enc"])
    if s["topk"] is not None:
        keep = np.argsort(-f, axis=-1)[:, :s["topk"]]
        g = np.zeros_like(f)
        np.put_along_axis(g, keep, np.take_along_axis(f, keep, -1), -1)
        f = g
    return np.maximum(f, 0)


def sae_decode(f, s):
    y = (f @ f32(s["w_dec"]) + f32(s["b_dec"])) / float(s["scale"])
    return y + f32(s["shift"]) if s["shift"] is not None else y


def apply_edit(x, e, saes):
    """x: rows [n, d] float64 → edited rows (the protocol's semantics)."""
    if e["op"] == "add":
        return x + f32(e["_v"])
    s = saes[e["sae"]]
    f = sae_encode(x, s)
    if e["op"] == "sae_reconstruct":
        return sae_decode(f, s)
    delta = np.zeros_like(x)
    for L in e["latents"]:
        k, old = L["latent"], f[:, L["latent"]]
        new = {"zero": 0 * old, "scale": old * L.get("value", 0), "clamp": 0 * old + L.get("value", 0)}[L["action"]]
        delta += (new - old)[:, None] * f32(s["w_dec"])[k][None, :]
    return x + delta / float(s["scale"])


def reference(model, req, saes):
    """{"logits": [[n, V] per sequence], "resid": [[B, n, d] per sequence]} from plain transformers, float64."""
    out = {"logits": [], "resid": []}
    blocks = req["capture_blocks"]
    for si, seq in enumerate(req["sequences"]):
        n = len(seq)
        res = lambda p: p + n if p < 0 else p
        by_block = {}
        for e in req.get("edits") or []:
            if e["sequences"] is None or si in e["sequences"]:
                by_block.setdefault(e["block"], []).append(e)
        caps = [res(p) for p in req["capture_positions"][si]]
        captured, hooks = {}, []

        def hook(mod, inp, output, b):
            h = output[0] if isinstance(output, tuple) else output
            x = h[0].detach().double().numpy().copy()
            for e in by_block.get(b, []):
                for p in e["positions"]:
                    x[res(p):res(p) + 1] = apply_edit(x[res(p):res(p) + 1], e, saes)
            captured[b] = x[caps].copy()
            new = torch.from_numpy(x).to(h.dtype)[None]
            return (new,) + tuple(output[1:]) if isinstance(output, tuple) else new
        for b in sorted(set(blocks) | set(by_block)):
            hooks.append(model.model.layers[b].register_forward_hook(lambda m, i, o, b=b: hook(m, i, o, b)))
        try:
            with torch.no_grad():
                logits = model(torch.tensor([seq])).logits[0].double().numpy()
        finally:
            for h in hooks:
                h.remove()
        out["logits"].append(logits[[res(p) for p in req["logit_positions"][si]]])
        out["resid"].append(np.stack([captured[b] for b in blocks]) if blocks else np.zeros((0, len(caps), D)))
    return out


# MARK: requests

def build_requests(seqs, ref_model, saes, rng):
    """name → (request, payload, reference arrays); the latents edited are ones active in the reference."""
    base = {"op": "forward", "sequences": seqs,
            "logit_positions": [list(range(len(seqs[0]))), [-1, 0, 5, -2], [-i for i in range(1, len(seqs[2]) + 1)]],
            "capture_blocks": [3, 0, 2], "capture_positions": [[0, -1, 2], [], [1, -1]]}
    plain_ref = reference(ref_model, dict(base, edits=[]), saes)
    # latents that fire on sequence 0's last token: block 2 for s1 (relu), block 0 for s2 (topk)
    x2, x0 = plain_ref["resid"][0][2][1:2], plain_ref["resid"][0][1][1:2]
    top1 = np.argsort(-sae_encode(x2, saes["s1"])[0])[:4].tolist()
    top2 = np.argsort(-sae_encode(x0, saes["s2"])[0])[:2].tolist()
    rms = float(np.sqrt((plain_ref["resid"][0] ** 2).mean()))
    v0, v1 = rng.standard_normal(D) * rms, rng.standard_normal(D) * rms * 0.5
    add = [{"block": 1, "sequences": None, "positions": [1, -1, 1], "op": "add", "_v": v0},
           {"block": 0, "sequences": [2], "positions": [0], "op": "add", "_v": v1}]
    latents_relu = [{"block": 2, "sequences": [0, 2], "positions": [-1, 2], "op": "sae_latents", "sae": "s1",
                     "latents": [{"latent": top1[0], "action": "zero"},
                                 {"latent": top1[1], "action": "scale", "value": -3.0},
                                 {"latent": top1[2], "action": "clamp", "value": 3.5},
                                 {"latent": top1[3], "action": "scale", "value": 4.0}]}]
    latents_topk = [{"block": 0, "sequences": None, "positions": [0, -1], "op": "sae_latents", "sae": "s2",
                     "latents": [{"latent": top2[0], "action": "zero"},
                                 {"latent": top2[1], "action": "scale", "value": 4.0}]}]
    recon = [{"block": 1, "sequences": None, "positions": [0, 1, 2, -2, -1], "op": "sae_reconstruct", "sae": "s1"},
             {"block": 3, "sequences": [0, 1], "positions": [0, -1], "op": "sae_reconstruct", "sae": "s2"}]
    cases = {"plain": [], "add": add, "sae_latents_relu": latents_relu, "sae_latents_topk": latents_topk,
             "sae_reconstruct": recon, "all_edits": add + latents_topk + recon[:1] + latents_relu + recon[1:]}
    out = {}
    for name, edits in cases.items():
        pw = PayloadWriter()   # add vectors in edit order, as tdx lays them out
        wire = [{k: v for k, v in e.items() if k != "_v"} | ({"vector": pw.add(e["_v"])} if "_v" in e else {})
                for e in edits]
        req = dict(base, edits=wire)
        out[name] = (req, pw.data, reference(ref_model, dict(base, edits=edits), saes))
    return out


# MARK: comparison

def split_response(resp, data, req):
    logits, resid = [], []
    for s in range(len(req["sequences"])):
        n_l, n_c = len(req["logit_positions"][s]), len(req["capture_positions"][s])
        L, R = resp["logits"][s], resp["residuals"][s]
        if L["count"] != n_l * VOCAB or R["count"] != len(req["capture_blocks"]) * n_c * D:
            raise AssertionError(f"sequence {s}: counts {L['count']}, {R['count']} do not match the request")
        logits.append(floats(data, L).astype(np.float64).reshape(n_l, VOCAB))
        resid.append(floats(data, R).astype(np.float64).reshape(len(req["capture_blocks"]), n_c, D))
    return {"logits": logits, "resid": resid}


def rows(arrays, key):
    return np.concatenate([a.reshape(-1, a.shape[-1]) for a in arrays[key]], axis=0)


def max_rel(a, r):
    return float(np.abs(a - r).max() / max(np.abs(r).max(), 1e-30)) if r.size else 0.0


def row_corr_min(a, r):
    cs = [np.corrcoef(x, y)[0, 1] for x, y in zip(a, r) if np.std(y) > 0]
    return float(min(cs)) if cs else 1.0


def corr(a, b):
    a, b = a.reshape(-1), b.reshape(-1)
    if np.std(a) == 0 or np.std(b) == 0:
        return 1.0 if np.allclose(a, b) else 0.0
    return float(np.corrcoef(a, b)[0, 1])


# MARK: running one configuration

class Report:
    def __init__(self):
        self.results = []

    def add(self, config, check, ok, detail, **metrics):
        status = {True: "PASS", False: "FAIL", None: "SKIP"}[ok]
        self.results.append(dict(config=config, check=check, status=status, detail=detail, **metrics))
        print(f"{status} {config:<16} {check:<18} {detail}", flush=True)

    @property
    def failed(self):
        return [r for r in self.results if r["status"] == "FAIL"]


def expect_ok(w, req, payload=b""):
    r, data = w.request(req, payload)
    if not r.get("ok"):
        raise AssertionError(f"{req['op']} failed: {r.get('error')}")
    return r, data


def run_config(name, device, dtype, env_extra, model_dir, hf_tok, saes, cases, report, probe_env, cpu_f32):
    env = dict(probe_env)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    env.update(env_extra)
    t0 = time.time()
    w = WorkerProcess(NNSIGHT_WORKER, env=env, timeout=120)
    results = {}
    timings = {}
    try:
        r, _ = w.request({"op": "hello", "protocol": 1})
        ok = r.get("ok") and r.get("worker") == "nnsight" and r.get("protocol") == 1
        report.add(name, "hello", bool(ok), f"worker={r.get('worker')} protocol={r.get('protocol')}"
                   + ("" if ok else f" {r.get('error')}"))
        if not ok:
            return results, timings, w
        t1 = time.time()
        r, _ = w.request({"op": "load", "model": model_dir, "revision": "", "dtype": dtype, "remote": False})
        timings["start_and_hello_s"], timings["load_s"] = round(t1 - t0, 2), round(time.time() - t1, 2)
        want_cfg = {"blocks": BLOCKS, "d_model": D, "vocab": VOCAB, "heads": HEADS, "kv_heads": KV, "ffn": FFN,
                    "context": CONTEXT}
        ok = r.get("ok") and r.get("dtype") == dtype and r.get("config") == want_cfg and r.get("add_bos") is False
        report.add(name, "load", bool(ok), f"dtype={r.get('dtype')} config={'ok' if r.get('config') == want_cfg else r.get('config')}"
                   f" bos={r.get('bos')} add_bos={r.get('add_bos')} ({timings['load_s']} s)"
                   + ("" if r.get("ok") else f" error={r.get('error')}"))
        if not r.get("ok"):
            return results, timings, w
        bad = []
        for text in TEXTS:
            r, _ = expect_ok(w, {"op": "tokenize", "text": text, "add_special": True})
            want = hf_tok(text, add_special_tokens=True)["input_ids"]
            if r["ids"] != want or sum(r["lengths"]) != len(text.encode()) or len(r["lengths"]) != len(r["ids"]):
                bad.append((text, r["ids"], want, r["lengths"]))
        report.add(name, "tokenize", not bad, f"{len(TEXTS)} texts: ids = HF tokenizer's, lengths sum to bytes"
                   if not bad else f"mismatch {bad[0]}")
        for s in saes.values():
            req, payload = sae_request(s)
            expect_ok(w, req, payload)
        report.add(name, "sae", True, f"registered s1 (relu, shift) and s2 (topk:8, -b_dec), width {WIDTH}")
        for case, (req, payload, _) in cases.items():
            t = time.time()
            r, data = w.request(req, payload)
            timings[f"forward_{case}_s"] = round(time.time() - t, 3)
            if not r.get("ok"):
                report.add(name, case, False, f"forward failed: {r.get('error')}")
                continue
            results[case] = split_response(r, data, req)
        r, _ = w.request({"op": "forward", "sequences": [[1, 2, 3]], "logit_positions": [[7]]})
        code = (r.get("error") or {}).get("code")
        r2, _ = w.request(dict(cases["plain"][0]))
        report.add(name, "bad_request", code == "bad_request" and r2.get("ok"),
                   f"out-of-range position → {code}; next forward ok={r2.get('ok')}")
    except Exception as e:
        report.add(name, "worker", False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        traceback.print_exc()
    finally:
        rc = w.close()
        for _ in range(40):   # the probe's line comes at exit
            if "TDXCHECK cuda" in w.stderr:
                break
            time.sleep(0.05)
    probe = next((ln for ln in w.stderr.splitlines() if ln.startswith("TDXCHECK cuda")), "")
    n_params = (2 * VOCAB * D + D + BLOCKS * (2 * D * D + 2 * D * (D // HEADS) * KV + 3 * D * FFN + 2 * D))
    weight_bytes = n_params * (4 if dtype == "float32" else 2)
    if device == "cuda":
        peak = int(probe.split("peak_allocated=")[1]) if "peak_allocated=" in probe else 0
        report.add(name, "on_gpu", peak >= weight_bytes,
                   f"peak CUDA allocation {peak / 1e6:.2f} MB ≥ weights {weight_bytes / 1e6:.2f} MB ({probe or 'no probe line'})",
                   peak_cuda_bytes=peak)
    else:
        report.add(name, "on_cpu", "not_initialized" in probe, probe or "no probe line")
    report.add(name, "close", rc == 0, f"exit status {rc}")
    compare(name, dtype, results, cases, report, cpu_f32)
    return results, timings, w


def compare(name, dtype, results, cases, report, cpu_f32):
    plain = results.get("plain")
    top1_hits = top1_rows = 0
    for case, (req, _, ref) in cases.items():
        got = results.get(case)
        if got is None:
            continue
        la, lr = rows(got, "logits"), rows(ref, "logits")
        ra, rr = rows(got, "resid"), rows(ref, "resid")
        m = {"logits_max_rel": max_rel(la, lr), "resid_max_rel": max_rel(ra, rr)}
        checks = []
        if dtype == "float32":
            checks.append(max(m.values()) <= F32_TOL)
            desc = f"vs reference: logits {m['logits_max_rel']:.1e}, resid {m['resid_max_rel']:.1e} (≤ {F32_TOL:g})"
            if cpu_f32 is not None and case in cpu_f32 and name != "cpu-f32":
                m["vs_cpu_f32_max_rel"] = max(max_rel(la, rows(cpu_f32[case], "logits")),
                                              max_rel(ra, rows(cpu_f32[case], "resid")))
                checks.append(m["vs_cpu_f32_max_rel"] <= F32_TOL)
                desc += f"; vs cpu-f32 worker {m['vs_cpu_f32_max_rel']:.1e}"
        else:
            m["logits_row_corr_min"], m["resid_row_corr_min"] = row_corr_min(la, lr), row_corr_min(ra, rr)
            hits = int((la.argmax(1) == lr.argmax(1)).sum())
            top1_hits, top1_rows = top1_hits + hits, top1_rows + len(la)
            m["top1_agree"] = hits / len(la)
            checks += [max(m["logits_max_rel"], m["resid_max_rel"]) <= BF16["max_rel"],
                       min(m["logits_row_corr_min"], m["resid_row_corr_min"]) >= BF16["row_corr"]]
            desc = (f"vs reference: max rel {m['logits_max_rel']:.3f}/{m['resid_max_rel']:.3f} (≤ {BF16['max_rel']}), "
                    f"row corr ≥ {min(m['logits_row_corr_min'], m['resid_row_corr_min']):.4f} (≥ {BF16['row_corr']}), "
                    f"top1 {hits}/{len(la)}")
        if case != "plain" and plain is not None:
            da = np.concatenate([(la - rows(plain, "logits")).ravel(), (ra - rows(plain, "resid")).ravel()])
            dr = np.concatenate([(lr - rows(cases["plain"][2], "logits")).ravel(),
                                 (rr - rows(cases["plain"][2], "resid")).ravel()])
            m["effect_corr"] = corr(da, dr)
            m["effect_size"] = float(np.abs(dr).max() / np.abs(lr).max())
            if dtype != "float32":
                checks.append(m["effect_corr"] >= BF16["effect_corr"])
            desc += f"; effect corr {m['effect_corr']:.4f} (size {m['effect_size']:.2f})"
        report.add(name, case, all(checks), desc, **m)
    if dtype != "float32" and top1_rows:
        frac = top1_hits / top1_rows
        report.add(name, "top1_overall", frac >= BF16["top1"],
                   f"top-1 token = reference's on {top1_hits}/{top1_rows} logit rows ({frac:.1%} ≥ {BF16['top1']:.0%})",
                   top1_agree=frac)


# MARK: main

def main():
    report = Report()
    summary = {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__}
    try:
        import nnsight   # a real install wins over the namespace package workers/nnsight
        summary["nnsight"] = getattr(nnsight, "__version__", "?") if hasattr(nnsight, "LanguageModel") else "missing"
    except Exception as e:   # the worker will answer missing_dependency; the checks then fail
        summary["nnsight"] = f"not importable: {e}"
    try:
        import nnsight.intervention.backends.local  # noqa: F401
        remote_sim = True
    except Exception:
        remote_sim = False
    cuda = torch.cuda.is_available()
    summary["cuda_device"] = torch.cuda.get_device_name(0) if cuda else None
    print("versions:", json.dumps(summary), flush=True)
    torch.set_num_threads(min(8, os.cpu_count() or 1))

    t_start = time.time()
    tmp = tempfile.TemporaryDirectory()
    model_dir = os.path.join(tmp.name, "tiny-llama")
    hf_tok = write_model(model_dir)
    ref_model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    rng = np.random.default_rng(7)
    saes = {"s1": make_sae(rng, relu=True), "s2": make_sae(rng, relu=False)}
    seqs = [hf_tok(TEXTS[0])["input_ids"], rng.integers(2, 267, 13).tolist(), rng.integers(2, 267, 7).tolist()]
    cases = build_requests(seqs, ref_model, saes, rng)
    summary["reference_s"] = round(time.time() - t_start, 2)

    probe_dir = os.path.join(tmp.name, "probe")
    os.makedirs(probe_dir)
    with open(os.path.join(probe_dir, "sitecustomize.py"), "w") as f:
        f.write(PROBE)
    prev = sys.modules.get("sitecustomize")
    probe_env = {"PYTHONPATH": os.pathsep.join([probe_dir] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
                 "TDXCHECK_NEXT_SITECUSTOMIZE": getattr(prev, "__file__", None) or "",
                 "TOKENIZERS_PARALLELISM": "false"}

    configs = [("cpu-f32", "cpu", "float32", {}), ("cpu-bf16", "cpu", "bfloat16", {}),
               ("cuda-f32", "cuda", "float32", {}), ("cuda-bf16", "cuda", "bfloat16", {}),
               ("cuda-f32-remote", "cuda", "float32", {"TDX_NNSIGHT_SIMULATE_REMOTE": "1"})]
    cpu_f32, timings = None, {}
    for name, device, dtype, extra in configs:
        if device == "cuda" and not cuda:
            require = os.environ.get("TDX_REQUIRE_CUDA") == "1"
            report.add(name, "all", False if require else None, "no CUDA device (torch.cuda.is_available() is False)")
            continue
        if extra.get("TDX_NNSIGHT_SIMULATE_REMOTE") and not remote_sim:
            report.add(name, "all", None, "nnsight has no remote=\"local\" simulation (needs ≥ 0.8)")
            continue
        print(f"--- {name}", flush=True)
        n_failed = len(report.failed)
        results, timings[name], w = run_config(name, device, dtype, extra, model_dir, hf_tok, saes, cases, report,
                                               probe_env, cpu_f32)
        if name == "cpu-f32":
            cpu_f32 = results
        if len(report.failed) > n_failed:
            print(f"--- {name} worker stderr (last 40 lines):\n" + "\n".join(w.stderr.splitlines()[-40:]), flush=True)
            summary.setdefault("stderr_tails", {})[name] = "\n".join(w.stderr.splitlines()[-40:])
    tmp.cleanup()

    summary["wall_s"] = round(time.time() - t_start, 1)
    summary["timings"] = timings
    summary["results"] = report.results
    summary["ok"] = not report.failed
    n = {k: sum(r["status"] == k for r in report.results) for k in ("PASS", "FAIL", "SKIP")}
    print(f"\n{n['PASS']} passed, {n['FAIL']} failed, {n['SKIP']} skipped ({summary['wall_s']} s)", flush=True)
    for r in report.failed:
        print(f"FAILED: {r['config']} {r['check']}: {r['detail']}")
    out = os.environ.get("OUT")
    if out:
        with open(os.path.join(out, "nnsight_cuda.json"), "w") as f:
            json.dump(summary, f, indent=1, default=str)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
