"""Shared test helpers: paths, a worker subprocess client, a minimal GGUF writer with simple quantisers,
and a tiny random Llama model with a small byte-level BPE vocabulary."""
import json
import os
import struct
import subprocess
import sys
import threading

WORKERS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(WORKERS)
NUMPY_WORKER = os.path.join(WORKERS, "numpy_reference", "tdx_numpy_worker.py")
NNSIGHT_WORKER = os.path.join(WORKERS, "nnsight", "tdx_nnsight_worker.py")

SMOLLM2 = os.path.expanduser("~/.cache/tdx/models/SmolLM2-135M-Instruct.Q4_1.gguf")
FIXTURES = os.path.join(REPO, "Tests", "Fixtures", "models")


def have_numpy():
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


# MARK: worker subprocess

class WorkerProcess:
    """A worker child speaking protocol v1; `request` returns (response header, payload bytes)."""

    def __init__(self, script, env=None, timeout=120):
        e = dict(os.environ)
        e.setdefault("OPENBLAS_NUM_THREADS", "1")   # steadier on a busy 2-core machine
        e.update(env or {})
        self.timeout = timeout
        self.proc = subprocess.Popen([sys.executable, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=e, cwd=REPO)
        self._next_id = 0
        self._stderr = []
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr), daemon=True).start()

    @property
    def stderr(self):
        return b"".join(self._stderr).decode("utf-8", "replace")

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_response(self):
        box = []

        def run():
            line = self.proc.stdout.readline()
            if not line:
                box.append(None)
                return
            header = json.loads(line)
            n = header.get("payload_bytes", 0)
            payload = self.proc.stdout.read(n) if n > 0 else b""
            box.append((header, payload))
        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join(self.timeout)
        if not box:
            self.proc.kill()
            raise TimeoutError(f"worker gave no response within {self.timeout} s; stderr:\n{self.stderr}")
        if box[0] is None:
            raise EOFError(f"worker closed its output; stderr:\n{self.stderr}")
        return box[0]

    def request(self, header, payload=b""):
        if "id" not in header:
            self._next_id += 1
            header = dict(header, id=self._next_id)
        if payload:
            header = dict(header, payload_bytes=len(payload))
        self.send_raw(json.dumps(header).encode() + b"\n" + payload)
        return self.read_response()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.request({"op": "close"})
            except (EOFError, BrokenPipeError, TimeoutError):
                pass
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        return rc


def floats(payload, ref):
    import numpy as np
    return np.frombuffer(payload, dtype="<f4", count=ref["count"], offset=ref["offset"])


class PayloadWriter:
    def __init__(self):
        self.data = b""

    def add(self, array):
        import numpy as np
        b = np.ascontiguousarray(array, dtype="<f4").tobytes()
        ref = {"offset": len(self.data), "count": len(b) // 4}
        self.data += b
        return ref


# MARK: GGUF writer

F32, F16, Q4_0, Q4_1, Q8_0, BF16 = 0, 1, 2, 3, 8, 30


def quantize(values, ggml_type):
    """Raw bytes of a float array in a ggml type (round-to-nearest; the dequantisers are what is tested)."""
    import numpy as np
    x = np.asarray(values, np.float32).reshape(-1)
    if ggml_type == F32:
        return x.astype("<f4").tobytes()
    if ggml_type == F16:
        return x.astype("<f2").tobytes()
    if ggml_type == BF16:
        return (x.view(np.uint32) >> 16).astype("<u2").tobytes()
    out = bytearray()
    for blk in x.reshape(-1, 32):
        if ggml_type == Q8_0:
            d = float(np.abs(blk).max()) / 127 or 1.0
            q = np.clip(np.round(blk / np.float16(d).astype(np.float32)), -127, 127).astype(np.int8)
            out += np.float16(d).tobytes() + q.tobytes()
        elif ggml_type == Q4_1:
            lo, hi = float(blk.min()), float(blk.max())
            d = (hi - lo) / 15 or 1.0
            dh, mh = np.float16(d), np.float16(lo)
            q = np.clip(np.round((blk - np.float32(mh)) / np.float32(dh)), 0, 15).astype(np.uint8)
            out += dh.tobytes() + mh.tobytes() + (q[:16] | (q[16:] << 4)).astype(np.uint8).tobytes()
        elif ggml_type == Q4_0:
            d = float(np.abs(blk).max()) / 7 or 1.0
            dh = np.float16(d)
            q = np.clip(np.round(blk / np.float32(dh)) + 8, 0, 15).astype(np.uint8)
            out += dh.tobytes() + (q[:16] | (q[16:] << 4)).astype(np.uint8).tobytes()
        else:
            raise ValueError(ggml_type)
    return bytes(out)


def _f16_at(raw, i):
    return struct.unpack_from("<e", raw, i)[0]


def reference_dequantize(raw, ggml_type, n):
    """Straightforward per-element dequantisation of n values, from the ggml block layouts."""
    out = []
    if ggml_type == F32:
        return list(struct.unpack_from(f"<{n}f", raw))
    if ggml_type == F16:
        return list(struct.unpack_from(f"<{n}e", raw))
    if ggml_type == BF16:
        return [struct.unpack("<f", struct.pack("<I", h << 16))[0] for h in struct.unpack_from(f"<{n}H", raw)]
    size = {Q8_0: 34, Q4_1: 20, Q4_0: 18}[ggml_type]
    for b in range(n // 32):
        o = b * size
        block = [0.0] * 32
        if ggml_type == Q8_0:
            d = _f16_at(raw, o)
            for j in range(32):
                block[j] = d * struct.unpack_from("<b", raw, o + 2 + j)[0]
        elif ggml_type == Q4_1:
            d, m = _f16_at(raw, o), _f16_at(raw, o + 2)
            for j in range(16):
                q = raw[o + 4 + j]
                block[j] = d * (q & 15) + m
                block[j + 16] = d * (q >> 4) + m
        else:
            d = _f16_at(raw, o)
            for j in range(16):
                q = raw[o + 2 + j]
                block[j] = d * ((q & 15) - 8)
                block[j + 16] = d * ((q >> 4) - 8)
        out.extend(block)
    return out


def _gguf_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _gguf_value(v):
    """(type id, bytes) of a metadata value; ints are int32 (or uint32 ≥ 2^31), floats float32."""
    if isinstance(v, bool):
        return 7, struct.pack("<?", v)
    if isinstance(v, int):
        return (4, struct.pack("<I", v)) if v >= 2 ** 31 else (5, struct.pack("<i", v))
    if isinstance(v, float):
        return 6, struct.pack("<f", v)
    if isinstance(v, str):
        return 8, _gguf_str(v)
    if isinstance(v, list):
        et = _gguf_value(v[0])[0] if v else 5
        return 9, struct.pack("<IQ", et, len(v)) + b"".join(_gguf_value(x)[1] for x in v)
    raise TypeError(type(v))


def write_gguf(path, metadata, tensors, alignment=32):
    """tensors: name → (array with row-major shape [rows, cols] or [n], ggml type)."""
    import numpy as np
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for k, v in metadata.items():
        t, b = _gguf_value(v)
        head += _gguf_str(k) + struct.pack("<I", t) + b
    blobs, off = [], 0
    for name, (arr, t) in tensors.items():
        arr = np.asarray(arr, np.float32)
        dims = list(reversed(arr.shape))
        head += _gguf_str(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        head += struct.pack("<IQ", t, off)
        blob = quantize(arr, t)
        pad = (-len(blob)) % alignment
        blobs.append(blob + b"\0" * pad)
        off += len(blob) + pad
    head += b"\0" * ((-len(head)) % alignment)
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)


# MARK: tiny model

def byte_chars():
    table, n = [], 0
    for b in range(256):
        if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255:
            table.append(chr(b))
        else:
            table.append(chr(256 + n))
            n += 1
    return table


TINY_MERGES = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "l d", "Ġw or", "Ġwor ld"]


def tiny_vocab():
    """(tokens, types, merges): two control tokens, the 256 byte characters, one token per merge."""
    tokens = ["<|bos|>", "<|eos|>"] + byte_chars()
    types = [3, 3] + [1] * 256
    for m in TINY_MERGES:
        tokens.append(m.replace(" ", ""))
        types.append(1)
    return tokens, types, TINY_MERGES


TINY = dict(blocks=3, d=32, heads=4, kv=2, ffn=48, context=64)


def save_tiny_hf_tokenizer(directory):
    """The tiny byte-level BPE vocabulary as a Hugging Face fast tokenizer saved in directory (needs
    transformers and tokenizers); returns the tokenizer and its vocabulary size."""
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    tokens, _, merges = tiny_vocab()
    bpe = models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ")) for m in merges])
    tk = Tokenizer(bpe)
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tk.decoder = decoders.ByteLevel()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<|bos|>", eos_token="<|eos|>")
    transformers.utils.logging.disable_progress_bar()
    tok.save_pretrained(directory)
    return tok, len(tokens)


def tiny_model(path, seed=0, tied=True, types=None, pre="gpt2", add_bos=True, rope_freqs=False):
    """Writes a tiny random Llama GGUF; returns {name: float32 array as stored (after quantisation)}.

    types: name suffix (e.g. "attn_q.weight") → ggml type for the matrices; default F32."""
    import numpy as np
    rng = np.random.default_rng(seed)
    c = TINY
    d, H, KV, F = c["d"], c["heads"], c["kv"], c["ffn"]
    hd = d // H
    tokens, ttypes, merges = tiny_vocab()
    V = len(tokens)
    types = types or {}

    def mat(rows, cols, scale=None):
        return rng.standard_normal((rows, cols)).astype(np.float32) * np.float32(scale or cols ** -0.5)

    tensors = {"token_embd.weight": (mat(V, d, 1.0), types.get("token_embd.weight", F32)),
               "output_norm.weight": (1 + 0.1 * rng.standard_normal(d).astype(np.float32), F32)}
    if not tied:
        tensors["output.weight"] = (mat(V, d), types.get("output.weight", F32))
    if rope_freqs:
        tensors["rope_freqs.weight"] = (np.linspace(1, 4, hd // 2).astype(np.float32), F32)
    for i in range(c["blocks"]):
        b = f"blk.{i}."
        for name, shape in (("attn_q.weight", (H * hd, d)), ("attn_k.weight", (KV * hd, d)),
                            ("attn_v.weight", (KV * hd, d)), ("attn_output.weight", (d, H * hd)),
                            ("ffn_gate.weight", (F, d)), ("ffn_up.weight", (F, d)), ("ffn_down.weight", (d, F))):
            tensors[b + name] = (mat(*shape), types.get(name, F32))
        tensors[b + "attn_norm.weight"] = (1 + 0.1 * rng.standard_normal(d).astype(np.float32), F32)
        tensors[b + "ffn_norm.weight"] = (1 + 0.1 * rng.standard_normal(d).astype(np.float32), F32)
    md = {"general.architecture": "llama", "general.alignment": 32,
          "llama.block_count": c["blocks"], "llama.embedding_length": d, "llama.feed_forward_length": F,
          "llama.attention.head_count": H, "llama.attention.head_count_kv": KV, "llama.context_length": c["context"],
          "llama.attention.layer_norm_rms_epsilon": 1e-5, "llama.rope.freq_base": 10000.0,
          "llama.rope.dimension_count": hd,
          "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": pre, "tokenizer.ggml.tokens": tokens,
          "tokenizer.ggml.token_type": ttypes, "tokenizer.ggml.merges": merges,
          "tokenizer.ggml.bos_token_id": 0, "tokenizer.ggml.eos_token_id": 1,
          "tokenizer.ggml.add_bos_token": add_bos}
    write_gguf(path, md, tensors)
    stored = {}
    for name, (arr, t) in tensors.items():
        vals = reference_dequantize(quantize(arr, t), t, arr.size) if t != F32 else arr.reshape(-1)
        stored[name] = np.asarray(vals, np.float32).reshape(arr.shape)
    return stored
