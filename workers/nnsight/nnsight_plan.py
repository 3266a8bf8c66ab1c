"""Hugging Face specifics of the nnsight worker, in pure Python (no torch, no nnsight at import time):
per-token byte lengths from a tokenizer's offsets, and the protocol's `config` from a model config.
The request translation itself is common/tdx_forward_plan.py."""


def _byte_chars():
    out, n = set(), 0
    for b in range(256):
        if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255:
            out.add(chr(b))
        else:
            out.add(chr(256 + n))
            n += 1
    return out


BYTE_LEVEL_CHARS = frozenset(_byte_chars())


def byte_lengths(text, offsets, special_mask=None, token_strings=None):
    """Per-token UTF-8 byte lengths of `text`, summing to its byte length (0 for an added special token).

    Byte-level BPE tokens (GPT-2 / Llama-3 style; `token_strings` from convert_ids_to_tokens) are counted
    exactly: one byte per character of the token string, special tokens by the text their offsets cover.
    Otherwise the character offsets decide: each token covers the bytes from the end of the previous token's
    span to the end of its own (a gap, such as a leading space trimmed from the offsets, goes to the token
    after it), a token whose span ends no later than the previous one gets 0, and bytes after the last span
    go to the token that reached furthest."""
    cum = [0]   # byte offset of each character boundary
    for ch in text:
        cum.append(cum[-1] + len(ch.encode("utf-8")))
    special = [bool(special_mask[i]) if special_mask is not None else False for i in range(len(offsets))]
    if token_strings is not None and len(token_strings) == len(offsets):
        out = []
        for i, ((a, b), t) in enumerate(zip(offsets, token_strings)):
            if special[i]:
                out.append(cum[b] - cum[a] if 0 <= a < b <= len(text) else 0)
            elif t is not None and all(ch in BYTE_LEVEL_CHARS for ch in t):
                out.append(len(t))
            else:
                break
        else:
            if sum(out) == cum[-1]:
                return out
    out, prev, last = [], 0, len(offsets) - 1
    for i, (a, b) in enumerate(offsets):
        if a == b and special[i]:
            out.append(0)
            continue
        end = cum[min(max(b, 0), len(text))]
        out.append(max(0, end - prev))
        if end > prev:
            prev, last = end, i
    if out and prev < cum[-1]:
        out[last] += cum[-1] - prev
    return out


def config_summary(cfg):
    """The protocol's `config` from a Hugging Face config (attribute access)."""
    def get(*names, default=None):
        for n in names:
            v = getattr(cfg, n, None)
            if v is not None:
                return v
        return default
    text = getattr(cfg, "text_config", None)
    if text is not None and getattr(cfg, "num_hidden_layers", None) is None:
        cfg = text
    heads = get("num_attention_heads", "n_head")
    return {"blocks": get("num_hidden_layers", "n_layer"), "d_model": get("hidden_size", "n_embd"),
            "vocab": get("vocab_size"), "heads": heads, "kv_heads": get("num_key_value_heads", default=heads),
            "ffn": get("intermediate_size", "n_inner"), "context": get("max_position_embeddings", "n_positions")}
