"""GGUF v2/v3 reader and NumPy dequantisers (F32, F16, BF16, Q8_0, Q4_0, Q4_1).

GGUF lists dims fastest-first (ne0 is contiguous), so a tensor with dims [in, out] is `out` rows of `in`:
`tensor()` returns it reshaped to reversed(dims), i.e. row-major [out, in].
"""
import mmap
import struct

import numpy as np

GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q4_1, GGML_Q8_0, GGML_BF16 = 0, 1, 2, 3, 8, 30
TYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K",
              11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 30: "BF16"}
# (values per block, bytes per block)
BLOCK = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_BF16: (1, 2), GGML_Q8_0: (32, 34),
         GGML_Q4_0: (32, 18), GGML_Q4_1: (32, 20)}

_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


class GGUFError(Exception):
    pass


# MARK: dequantisers (raw uint8 blocks → float32)

def _f16(raw_u8_pairs):
    return np.ascontiguousarray(raw_u8_pairs).view(np.float16).astype(np.float32)


def dequant_f16(raw):
    return np.ascontiguousarray(raw).view("<f2").astype(np.float32)


def dequant_bf16(raw):
    return (np.ascontiguousarray(raw).view("<u2").astype(np.uint32) << 16).view(np.float32)


def dequant_q8_0(raw):
    b = raw.reshape(-1, 34)
    d = _f16(b[:, 0:2])                       # [n, 1]
    q = np.ascontiguousarray(b[:, 2:]).view(np.int8).astype(np.float32)
    return (d * q).reshape(-1)


def dequant_q4_0(raw):
    b = raw.reshape(-1, 18)
    d = _f16(b[:, 0:2])
    qs = b[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8
    return (d * q).reshape(-1)


def dequant_q4_1(raw):
    b = raw.reshape(-1, 20)
    d, m = _f16(b[:, 0:2]), _f16(b[:, 2:4])
    qs = b[:, 4:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
    return (d * q + m).reshape(-1)


DEQUANT = {GGML_F32: lambda raw: np.ascontiguousarray(raw).view("<f4").astype(np.float32),
           GGML_F16: dequant_f16, GGML_BF16: dequant_bf16, GGML_Q8_0: dequant_q8_0,
           GGML_Q4_0: dequant_q4_0, GGML_Q4_1: dequant_q4_1}


# MARK: file

class GGUFFile:
    """Metadata and tensor directory of a GGUF file; tensor data stays memory-mapped until asked for."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        mm = self._mm
        if len(mm) < 24 or mm[:4] != b"GGUF":
            raise GGUFError(f"{path} is not a GGUF file (bad magic)")
        self.version, = struct.unpack_from("<I", mm, 4)
        if self.version not in (2, 3):
            raise GGUFError(f"{path} is GGUF version {self.version}; versions 2 and 3 are supported")
        n_tensors, n_kv = struct.unpack_from("<QQ", mm, 8)
        self._pos = 24
        self.metadata = {}
        for _ in range(n_kv):
            key = self._str()
            t, = self._unpack("I")
            self.metadata[key] = self._value(t)
        self.tensors = {}   # name → (dims, type, offset)
        for _ in range(n_tensors):
            name = self._str()
            nd, = self._unpack("I")
            dims = self._unpack("Q" * nd)
            t, off = self._unpack("IQ")
            self.tensors[name] = (tuple(dims), t, off)
        align = int(self.metadata.get("general.alignment", 32))
        self.data_start = (self._pos + align - 1) // align * align

    def _unpack(self, fmt):
        try:
            v = struct.unpack_from("<" + fmt, self._mm, self._pos)
        except struct.error:
            raise GGUFError(f"{self.path} is truncated (header ends at byte {self._pos})")
        self._pos += struct.calcsize("<" + fmt)
        return v

    def _str(self):
        n, = self._unpack("Q")
        s = self._mm[self._pos:self._pos + n]
        if len(s) < n:
            raise GGUFError(f"{self.path} is truncated (string at byte {self._pos})")
        self._pos += n
        return s.decode("utf-8", errors="replace")

    def _value(self, t):
        if t in _SCALAR:
            return self._unpack(_SCALAR[t])[0]
        if t == 8:
            return self._str()
        if t == 9:
            et, n = self._unpack("IQ")
            if et == 8:
                return [self._str() for _ in range(n)]
            if et in _SCALAR:
                fmt = _SCALAR[et]
                vals = list(struct.unpack_from(f"<{n}{fmt}", self._mm, self._pos))
                self._pos += n * struct.calcsize("<" + fmt)
                return vals
            return [self._value(et) for _ in range(n)]
        raise GGUFError(f"{self.path}: unknown metadata value type {t}")

    def tensor(self, name):
        """Dequantised float32 array of shape reversed(dims)."""
        if name not in self.tensors:
            raise GGUFError(f"{self.path} has no tensor '{name}'")
        dims, t, off = self.tensors[name]
        if t not in DEQUANT:
            raise GGUFError(f"{self.path}: tensor '{name}' has type {TYPE_NAMES.get(t, t)}; "
                            "the NumPy worker reads F32, F16, BF16, Q8_0, Q4_0 and Q4_1")
        n = int(np.prod(dims, dtype=np.int64))
        per, size = BLOCK[t]
        if n % per:
            raise GGUFError(f"{self.path}: tensor '{name}' has {n} values, not a multiple of the block size {per}")
        nbytes = n // per * size
        start = self.data_start + off
        if start + nbytes > len(self._mm):
            raise GGUFError(f"{self.path} is truncated (tensor '{name}')")
        raw = np.frombuffer(self._mm, dtype=np.uint8, count=nbytes, offset=start)
        return DEQUANT[t](raw).reshape(tuple(reversed(dims)))
