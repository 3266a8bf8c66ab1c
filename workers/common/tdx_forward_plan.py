"""Translation of protocol v1 `sae` and `forward` requests into plans, in pure Python (standard library only).

`plan_forward` validates a `forward` request and turns it into a ForwardPlan: the right-padded batch, the blocks
a pass must visit in forward order, per block the edits (as (sequence, position) rows, negative positions
resolved) and whether it is captured, and the rows whose logits are read. `assemble_forward` turns a batched
pass's saved rows (float32 little-endian bytes) back into the response's per-sequence arrays. Both workers use
it; the nnsight worker's trace and the NumPy worker's per-sequence loop read the same plan.
"""
from dataclasses import dataclass, field

from tdx_worker_protocol import ProtocolError, array_ref, bad_request


@dataclass
class ModelShape:
    blocks: int
    d_model: int
    vocab: int
    context: int


@dataclass
class SAESpec:
    """An SAE registered with `sae`, kept as float32 bytes until a request uses it."""
    d_in: int
    width: int
    input_scale: float
    subtract_decoder_bias: bool
    topk: object          # int K, or None for relu
    encoder: bytes        # [d_in × width] float32 LE
    encoder_bias: bytes   # [width]
    decoder: bytes        # [width × d_in]
    decoder_bias: bytes   # [d_in]
    input_shift: object   # bytes [d_in] or None


@dataclass
class EditStep:
    """One edit applied to distinct (sequence, position) rows of the block's output, in request order."""
    op: str                       # add | sae_reconstruct | sae_latents
    rows: list                    # [(s, p)] with no repeats
    vector: bytes = b""           # add: [d] float32 LE
    sae: str = ""                 # handle
    latents: list = field(default_factory=list)   # [(latent, action, value)]


@dataclass
class BlockStep:
    block: int
    edits: list                   # [EditStep]
    capture: bool                 # save the (edited) rows of capture_rows after the edits


@dataclass
class ForwardPlan:
    sequences: list               # token ids per sequence
    input_ids: list               # [S][T] right-padded with pad_id
    attention_mask: list          # [S][T] 1 for tokens, 0 for padding
    steps: list                   # [BlockStep] in increasing block order
    capture_blocks: list          # as requested (order and repeats kept)
    capture_rows: list            # [(s, p)] all sequences' capture positions, sequence-major
    capture_counts: list          # per sequence
    logit_rows: list              # [(s, p)] sequence-major
    logit_counts: list            # per sequence
    saes_used: list               # handles the edits need


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


def _rounds(rows):
    """Splits rows into runs without repeats, keeping order: a repeated row is edited again, as in sequence."""
    out, seen, cur = [], set(), []
    for r in rows:
        if r in seen:
            out.append(cur)
            cur, seen = [], set()
        cur.append(r)
        seen.add(r)
    if cur:
        out.append(cur)
    return out


def plan_forward(req, payload, shape, saes, pad_id=0):
    """ForwardPlan of a `forward` request; raises ProtocolError(bad_request) for anything invalid.
    saes: handle → a registered SAE (anything with `d_in` and `width`)."""
    seqs = req.get("sequences")
    if not isinstance(seqs, list) or not seqs:
        raise bad_request("'sequences' must be a non-empty list of token-id lists")
    seqs = [_int_list(s, "sequences") for s in seqs]
    S = len(seqs)
    for s, ids in enumerate(seqs):
        if not ids:
            raise bad_request(f"sequence {s} is empty")
        if len(ids) > shape.context:
            raise bad_request(f"sequence {s} has {len(ids)} tokens; the context is {shape.context}")
        bad = [t for t in ids if not 0 <= t < shape.vocab]
        if bad:
            raise bad_request(f"token id {bad[0]} is outside the vocabulary (0..<{shape.vocab})")

    def resolve(p, s, what):
        n = len(seqs[s])
        q = n + p if p < 0 else p
        if not 0 <= q < n:
            raise bad_request(f"{what} position {p} is outside sequence {s} (length {n})")
        return q
    logit_pos = [[resolve(p, s, "logit") for p in ps]
                 for s, ps in enumerate(_per_sequence(req, "logit_positions", S, [-1]))]
    cap_pos = [[resolve(p, s, "capture") for p in ps]
               for s, ps in enumerate(_per_sequence(req, "capture_positions", S, []))]
    blocks = _int_list(req.get("capture_blocks") or [], "capture_blocks")
    for b in blocks:
        if not 0 <= b < shape.blocks:
            raise bad_request(f"capture block {b} is outside 0..<{shape.blocks}")

    edits_by_block = {}
    used = []
    edits = req.get("edits") or []
    if not isinstance(edits, list):
        raise bad_request("'edits' must be a list")
    for i, e in enumerate(edits):
        if not isinstance(e, dict):
            raise bad_request(f"edit {i} must be an object")
        block = _int(e.get("block"), f"edit {i} block")
        if not 0 <= block < shape.blocks:
            raise bad_request(f"edit {i} block {block} is outside 0..<{shape.blocks}")
        positions = _int_list(e.get("positions"), f"edit {i} positions")
        targets = e.get("sequences")
        targets = list(range(S)) if targets is None else _int_list(targets, f"edit {i} sequences")
        rows = []
        for s in targets:
            if not 0 <= s < S:
                raise bad_request(f"edit {i} names sequence {s}; the request has {S}")
            rows += [(s, resolve(p, s, f"edit {i}")) for p in positions]
        op = e.get("op")
        fields = {}
        if op == "add":
            off, n = array_ref(e, "vector", payload)
            if n != shape.d_model:
                raise bad_request(f"edit {i}: 'vector' has {n} floats; d_model is {shape.d_model}")
            fields["vector"] = bytes(payload[off:off + 4 * n])
        elif op in ("sae_reconstruct", "sae_latents"):
            handle = e.get("sae")
            sae = saes.get(handle) if isinstance(handle, str) else None
            if sae is None:
                raise bad_request(f"edit {i} names SAE {handle!r}, which no 'sae' request registered")
            if sae.d_in != shape.d_model:
                raise bad_request(f"edit {i}: SAE {handle!r} has d_in {sae.d_in}; the model's d_model is {shape.d_model}")
            fields["sae"] = handle
            if handle not in used:
                used.append(handle)
            if op == "sae_latents":
                fields["latents"] = _latents(e.get("latents"), sae.width, i)
        else:
            raise bad_request(f"edit {i} has op {op!r}; expected add, sae_reconstruct or sae_latents")
        for run in _rounds(rows):
            edits_by_block.setdefault(block, []).append(EditStep(op=op, rows=run, **fields))

    steps = [BlockStep(b, edits_by_block.get(b, []), b in blocks) for b in sorted(set(blocks) | set(edits_by_block))]
    T = max(len(ids) for ids in seqs)
    return ForwardPlan(
        sequences=seqs,
        input_ids=[ids + [pad_id] * (T - len(ids)) for ids in seqs],
        attention_mask=[[1] * len(ids) + [0] * (T - len(ids)) for ids in seqs],
        steps=steps, capture_blocks=blocks,
        capture_rows=[(s, p) for s, ps in enumerate(cap_pos) for p in ps], capture_counts=[len(ps) for ps in cap_pos],
        logit_rows=[(s, p) for s, ps in enumerate(logit_pos) for p in ps], logit_counts=[len(ps) for ps in logit_pos],
        saes_used=used)


def _latents(lat, width, i):
    if not isinstance(lat, list):
        raise bad_request(f"edit {i} (sae_latents) needs a 'latents' list")
    out = []
    for L in lat:
        k = _int(L.get("latent") if isinstance(L, dict) else None, f"edit {i} latent")
        if not 0 <= k < width:
            raise bad_request(f"edit {i}: latent {k} is outside 0..<{width}")
        action, value = L.get("action"), L.get("value")
        if action not in ("zero", "scale", "clamp"):
            raise bad_request(f"edit {i}: latent action {action!r} is not zero, scale or clamp")
        if action != "zero" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise bad_request(f"edit {i}: latent action '{action}' needs a numeric 'value'")
        out.append((k, action, float(value or 0)))
    return out


def parse_sae(req, payload):
    """(handle, SAESpec) of an `sae` request."""
    handle = req.get("handle")
    if not isinstance(handle, str) or not handle:
        raise bad_request("'handle' must be a non-empty string")
    d, w = _int(req.get("d_in"), "d_in"), _int(req.get("width"), "width")
    if d <= 0 or w <= 0:
        raise bad_request("d_in and width must be positive")
    act = req.get("activation", "relu")
    topk = None
    if isinstance(act, str) and act.startswith("topk:"):
        topk = int(act[5:]) if act[5:].isdigit() else 0
        if topk <= 0:
            raise bad_request(f"activation {act!r} needs a positive K")
    elif act != "relu":
        raise bad_request(f"activation {act!r} is not 'relu' or 'topk:K'")
    scale = req.get("input_scale", 1.0)
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale == 0:
        raise bad_request("input_scale must be a non-zero number")

    def arr(key, count, required=True):
        ref = array_ref(req, key, payload, required)
        if ref is None:
            return None
        off, n = ref
        if n != count:
            raise bad_request(f"'{key}' has {n} floats; {count} expected")
        return bytes(payload[off:off + 4 * n])
    return handle, SAESpec(d, w, float(scale), bool(req.get("subtract_decoder_bias", False)), topk,
                           arr("encoder", d * w), arr("encoder_bias", w), arr("decoder", w * d),
                           arr("decoder_bias", d), arr("input_shift", d, required=False))


def assemble_forward(plan, d_model, vocab, captured, logits):
    """(response fields, payload) from the trace's results.

    captured: per plan step with capture=True, in step order, float32 LE bytes [len(capture_rows) × d];
    logits: float32 LE bytes [len(logit_rows) × V] (b"" when there are none)."""
    by_block = {}
    cap_steps = [st.block for st in plan.steps if st.capture]
    if len(captured) != len(cap_steps):
        raise ProtocolError("internal", f"the trace returned {len(captured)} captures for {len(cap_steps)} blocks")
    for b, data in zip(cap_steps, captured):
        if len(data) != 4 * d_model * len(plan.capture_rows):
            raise ProtocolError("internal", f"capture of block {b} has {len(data)} bytes")
        by_block[b] = data
    if len(logits) != 4 * vocab * len(plan.logit_rows):
        raise ProtocolError("internal", f"the trace returned {len(logits)} bytes of logits")
    parts, size = [], 0
    logit_refs, resid_refs = [], []
    row = 0
    for n in plan.logit_counts:
        chunk = logits[4 * vocab * row:4 * vocab * (row + n)]
        logit_refs.append({"offset": size, "count": n * vocab})
        parts.append(chunk)
        size += len(chunk)
        row += n
    row = 0
    rowbytes = 4 * d_model
    for n in plan.capture_counts:
        resid_refs.append({"offset": size, "count": len(plan.capture_blocks) * n * d_model})
        for b in plan.capture_blocks:   # block-major, in request order
            chunk = by_block[b][rowbytes * row:rowbytes * (row + n)]
            parts.append(chunk)
            size += len(chunk)
        row += n
    data = b"".join(parts)
    return {"logits": logit_refs, "residuals": resid_refs, "payload_bytes": len(data)}, data
