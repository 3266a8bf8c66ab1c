"""A plain NumPy Llama forward pass over a GGUF file, with residual-stream reads and edits.

Independent of tdx's Swift engine, so it can serve as an oracle for it: float32 weights and activations,
float64 where it is cheap (RMSNorm means, softmax sums, RoPE angles). GGUF files store Q and K rows
permuted by llama.cpp's converter so that RoPE rotates adjacent pairs (2i, 2i+1); that is what `rope`
does. "After block b" is the residual stream leaving block b, before block b+1's norm.
"""
from dataclasses import dataclass, field

import numpy as np

from gguf_numpy import GGUFFile


class ModelError(Exception):
    """A request or file the model cannot serve; the message is one sentence for the user."""


@dataclass
class Config:
    blocks: int
    d_model: int
    ffn: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    context: int
    rms_eps: float
    rope_base: float
    rope_freq_factors: object = None   # [head_dim/2] divisors of the frequencies (Llama-3.1), or None
    tied: bool = True


@dataclass
class Block:
    attn_norm: np.ndarray   # [d]
    wqkv: np.ndarray        # [(H + 2KV)·hd, d]: q rows, k rows, v rows
    wo: np.ndarray          # [d, H·hd]
    ffn_norm: np.ndarray    # [d]
    wgu: np.ndarray         # [2F, d]: gate rows, up rows
    wdown: np.ndarray       # [d, F]


class SAE:
    """x̂ = (x − shift)·scale [− b_dec]; f = act(x̂·W_enc + b_enc); x′ = (f·W_dec + b_dec)/scale + shift."""

    def __init__(self, d_in, width, encoder, encoder_bias, decoder, decoder_bias, input_scale=1.0,
                 input_shift=None, subtract_decoder_bias=False, topk=None):
        self.d_in, self.width = d_in, width
        self.w_enc = np.asarray(encoder, np.float32).reshape(d_in, width)
        self.b_enc = np.asarray(encoder_bias, np.float32).reshape(width)
        self.w_dec = np.asarray(decoder, np.float32).reshape(width, d_in)
        self.b_dec = np.asarray(decoder_bias, np.float32).reshape(d_in)
        self.shift = None if input_shift is None else np.asarray(input_shift, np.float32).reshape(d_in)
        self.scale = np.float32(input_scale)
        self.subtract_decoder_bias = subtract_decoder_bias
        self.topk = topk

    def encode(self, x):
        """Latents f [n, width] of rows x [n, d_in]."""
        xn = x - self.shift if self.shift is not None else x.copy()
        xn = xn * self.scale
        if self.subtract_decoder_bias:
            xn = xn - self.b_dec
        f = xn @ self.w_enc + self.b_enc
        if self.topk is not None and self.topk < self.width:
            drop = np.argpartition(-f, self.topk, axis=1)[:, self.topk:]
            np.put_along_axis(f, drop, 0, axis=1)
        return np.maximum(f, 0).astype(np.float32)

    def decode(self, f):
        y = (f @ self.w_dec + self.b_dec) / self.scale
        return y + self.shift if self.shift is not None else y


@dataclass
class Edit:
    """One edit of the residual stream after `block` at `positions` of `sequences` (None = all)."""
    block: int
    sequences: object
    positions: list
    op: str                      # "add" | "sae_reconstruct" | "sae_latents"
    vector: object = None        # add: [d]
    sae: object = None           # an SAE
    latents: list = field(default_factory=list)   # [(latent, action, value)]


def _rms(x, w, eps):
    ms = np.mean(np.square(x, dtype=np.float64), axis=-1, keepdims=True)
    return (x / np.sqrt(ms + eps)).astype(np.float32) * w


class LlamaNumpy:
    def __init__(self, config, embedding, blocks, output_norm, output):
        self.config = config
        self.embedding = embedding     # [V, d]
        self.blocks = blocks
        self.output_norm = output_norm  # [d]
        self.output = output           # [V, d], or the embedding when tied

    @classmethod
    def from_gguf(cls, g: GGUFFile):
        md, p = g.metadata, g.path
        arch = md.get("general.architecture")
        if arch != "llama":
            raise ModelError(f"{p} has architecture {arch!r}; the NumPy worker runs 'llama' only")

        def key(k, default=None, required=True):
            v = md.get(f"{arch}.{k}", default)
            if v is None and required:
                raise ModelError(f"{p} lacks metadata '{arch}.{k}'")
            return v
        d, heads = int(key("embedding_length")), int(key("attention.head_count"))
        kv = int(key("attention.head_count_kv", heads))
        hd = int(key("attention.key_length", d // heads))
        rot = key("rope.dimension_count", required=False)
        if rot is not None and int(rot) != hd:
            raise ModelError(f"{p}: partial rotary embeddings ({arch}.rope.dimension_count = {rot}) are not supported")
        if "token_embd.weight" not in g.tensors:
            raise ModelError(f"{p} has no tensor token_embd.weight")
        emb = g.tensor("token_embd.weight")
        if emb.ndim != 2 or emb.shape[1] != d:
            raise ModelError(f"{p}: token_embd.weight has shape {emb.shape[::-1]}, not [{d}, vocab]")
        freqs = g.tensor("rope_freqs.weight").reshape(-1) if "rope_freqs.weight" in g.tensors else None
        cfg = Config(blocks=int(key("block_count")), d_model=d, ffn=int(key("feed_forward_length")), heads=heads,
                     kv_heads=kv, head_dim=hd, vocab=emb.shape[0], context=int(key("context_length", 8192)),
                     rms_eps=float(key("attention.layer_norm_rms_epsilon", 1e-5)),
                     rope_base=float(key("rope.freq_base", 10000.0)), rope_freq_factors=freqs,
                     tied="output.weight" not in g.tensors)

        def t(name, shape):
            a = g.tensor(name)
            if a.shape != shape:
                raise ModelError(f"{p}: tensor {name} has shape {list(a.shape)}, expected {list(shape)} (rows × columns)")
            return a
        blocks = []
        for i in range(cfg.blocks):
            b = f"blk.{i}."
            blocks.append(Block(
                attn_norm=t(b + "attn_norm.weight", (d,)),
                wqkv=np.concatenate([t(b + "attn_q.weight", (heads * hd, d)), t(b + "attn_k.weight", (kv * hd, d)),
                                     t(b + "attn_v.weight", (kv * hd, d))]),
                wo=t(b + "attn_output.weight", (d, heads * hd)),
                ffn_norm=t(b + "ffn_norm.weight", (d,)),
                wgu=np.concatenate([t(b + "ffn_gate.weight", (cfg.ffn, d)), t(b + "ffn_up.weight", (cfg.ffn, d))]),
                wdown=t(b + "ffn_down.weight", (d, cfg.ffn))))
        out = emb if cfg.tied else t("output.weight", (cfg.vocab, d))
        return cls(cfg, emb, blocks, t("output_norm.weight", (d,)), out)

    # MARK: forward

    def rope_tables(self, n):
        """cos, sin [n, hd/2] of position·θᵢ, computed in float64."""
        c = self.config
        theta = c.rope_base ** (-np.arange(0, c.head_dim, 2, dtype=np.float64) / c.head_dim)
        if c.rope_freq_factors is not None:
            theta = theta / c.rope_freq_factors.astype(np.float64)
        ang = np.arange(n, dtype=np.float64)[:, None] * theta[None, :]
        return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)

    @staticmethod
    def rope(x, cos, sin):
        """Rotates adjacent pairs of x [T, heads, hd] in place."""
        a, b = x[..., 0::2].copy(), x[..., 1::2].copy()
        c, s = cos[:, None, :], sin[:, None, :]
        x[..., 0::2] = a * c - b * s
        x[..., 1::2] = a * s + b * c

    def attention(self, q, k, v, chunk=256):
        """Causal GQA attention. q [T, H, hd], k/v [T, KV, hd] → [T, H·hd]. Query head h reads KV head
        h // (H/KV). Per KV head, the queries of its heads go in row chunks, each against only the keys it
        can see, as one 2-D product (stacked batched products here fall off NumPy's BLAS path)."""
        c = self.config
        T, H, hd = q.shape
        KV = c.kv_heads
        rep = H // KV
        out = np.empty((T, H, hd), np.float32)
        scale = np.float32(1 / np.sqrt(hd))
        for g in range(KV):
            kg = np.ascontiguousarray(k[:, g, :])                               # [T, hd]
            vg = np.ascontiguousarray(v[:, g, :])                               # [T, hd]
            qg = np.ascontiguousarray(q[:, g * rep:(g + 1) * rep, :].transpose(1, 0, 2))   # [rep, T, hd]
            for i0 in range(0, T, chunk):
                m = min(chunk, T - i0)
                vis = i0 + m
                s = (qg[:, i0:vis].reshape(rep * m, hd) @ kg[:vis].T).reshape(rep, m, vis)
                s *= scale
                np.copyto(s, -np.inf, where=np.triu(np.ones((m, vis), bool), k=i0 + 1))
                s -= s.max(axis=-1, keepdims=True)
                np.exp(s, out=s)
                s /= s.sum(axis=-1, dtype=np.float64, keepdims=True).astype(np.float32)
                out[i0:vis, g * rep:(g + 1) * rep, :] = (s.reshape(rep * m, vis) @ vg[:vis]).reshape(rep, m, hd).transpose(1, 0, 2)
        return out.reshape(T, H * hd)

    def block(self, l, x, cos, sin):
        """x [T, d] → the residual stream after block l."""
        c, B = self.config, self.blocks[l]
        H, KV, hd = c.heads, c.kv_heads, c.head_dim
        T = x.shape[0]
        qkv = _rms(x, B.attn_norm, c.rms_eps) @ B.wqkv.T
        q = qkv[:, :H * hd].reshape(T, H, hd).copy()
        k = qkv[:, H * hd:(H + KV) * hd].reshape(T, KV, hd).copy()
        v = qkv[:, (H + KV) * hd:].reshape(T, KV, hd)
        self.rope(q, cos, sin)
        self.rope(k, cos, sin)
        x = x + self.attention(q, k, v) @ B.wo.T
        gu = _rms(x, B.ffn_norm, c.rms_eps) @ B.wgu.T
        g, u = gu[:, :c.ffn], gu[:, c.ffn:]
        with np.errstate(over="ignore"):
            act = g / (1 + np.exp(-g)) * u
        return x + act @ B.wdown.T

    def logits(self, rows):
        """Next-token logits [n, V] of residual rows [n, d]."""
        return _rms(rows, self.output_norm, self.config.rms_eps) @ self.output.T

    def forward_sequence(self, ids, logit_positions, capture_blocks, capture_positions, edits):
        """One sequence (absolute, validated positions). Returns (logits [P, V], residuals [B, C, d]).
        `edits` are this sequence's, in request order."""
        c = self.config
        T = len(ids)
        x = self.embedding[np.asarray(ids)].astype(np.float32)
        cos, sin = self.rope_tables(T)
        residuals = np.zeros((len(capture_blocks), len(capture_positions), c.d_model), np.float32)
        last = c.blocks - 1 if logit_positions else max([*capture_blocks, *(e.block for e in edits), -1])
        for l in range(last + 1):
            x = self.block(l, x, cos, sin)
            for e in edits:
                if e.block == l:
                    apply_edit(e, x)
            for bi, b in enumerate(capture_blocks):
                if b == l:
                    residuals[bi] = x[capture_positions]
        logits = self.logits(x[logit_positions]) if logit_positions else np.zeros((0, c.vocab), np.float32)
        return logits, residuals


def apply_edit(e, x):
    """Applies edit e in place to rows e.positions of x [T, d], in order (a repeated position is edited again)."""
    ps = e.positions
    if len(set(ps)) != len(ps):
        for p in ps:
            apply_edit(Edit(e.block, e.sequences, [p], e.op, e.vector, e.sae, e.latents), x)
        return
    rows = x[ps]
    if e.op == "add":
        x[ps] = rows + e.vector
    elif e.op == "sae_reconstruct":
        x[ps] = e.sae.decode(e.sae.encode(rows))   # x̂: the SAE's error is dropped
    elif e.op == "sae_latents":
        sae = e.sae
        f = sae.encode(rows)
        delta = np.zeros_like(rows)
        for k, action, value in e.latents:
            old = f[:, k]
            new = np.zeros_like(old) if action == "zero" else (old * np.float32(value) if action == "scale"
                                                               else np.full_like(old, value))
            delta += (new - old)[:, None] * sae.w_dec[k][None, :]
        x[ps] = rows + delta / sae.scale
    else:
        raise ModelError(f"unknown edit op {e.op!r}")
