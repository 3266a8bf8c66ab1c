"""Byte-level BPE (GPT-2 style) from GGUF `tokenizer.ggml.*` metadata, as tdx's Swift tokenizer runs it:
special-token partition of the raw bytes, the model's pre-tokenizer split (llama.cpp's hand-coded
`unicode_regex_split_custom_*` for gpt2 / smollm / llama3 / qwen2), the GPT-2 byte→unicode mapping and
lowest-rank-first merges. Pure Python; `encode_with_lengths` also returns the UTF-8 byte length each
token covers.
"""
import unicodedata

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

PRE_NAMES = {
    "gpt2": ("gpt-2", "gpt2", "default", "mpt", "olmo", "jais"),
    "smollm": ("smollm", "starcoder", "refact", "codeshell"),
    "llama3": ("llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"),
    "qwen2": ("qwen2", "stablelm2", "hunyuan"),
}


def pre_from_gguf_name(name):
    for pre, names in PRE_NAMES.items():
        if name in names:
            return pre
    return None


def _byte_chars():
    table, n = [], 0
    for b in range(256):
        if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255:
            table.append(chr(b))
        else:
            table.append(chr(256 + n))
            n += 1
    return table


BYTE_CHAR = _byte_chars()
CHAR_BYTE = {c: b for b, c in enumerate(BYTE_CHAR)}

# Unicode White_Space (what Swift's `properties.isWhitespace` tests); str.isspace() differs (U+001C..U+001F).
WHITE_SPACE = frozenset([*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                         0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
_LETTER = frozenset(("Lu", "Ll", "Lt", "Lm", "Lo"))
_NUMBER = frozenset(("Nd", "Nl", "No"))

# Per-code-point flags: bit 1 letter, 2 number, 4 whitespace.
_L, _N, _W = 1, 2, 4
_flag_cache = {}


def _flags_of(cp):
    f = _flag_cache.get(cp)
    if f is None:
        cat = unicodedata.category(chr(cp))
        f = (_L if cat in _LETTER else 0) | (_N if cat in _NUMBER else 0) | (_W if cp in WHITE_SPACE else 0)
        _flag_cache[cp] = f
    return f


class _Flags:
    """CharFlags of the Swift side: out-of-range positions have every flag false."""
    __slots__ = ("in_range", "letter", "number", "whitespace")

    def __init__(self, cp=None):
        if cp is None:
            self.in_range = self.letter = self.number = self.whitespace = False
        else:
            f = _flags_of(cp)
            self.in_range = True
            self.letter, self.number, self.whitespace = bool(f & _L), bool(f & _N), bool(f & _W)

    @property
    def other(self):
        return self.in_range and not (self.whitespace or self.letter or self.number)


_OUT = _Flags()


def _gpt2_split(cps, lo, hi, out):
    """'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+ over cps[lo:hi]."""
    def flags(p):
        return _Flags(cps[p]) if lo <= p < hi else _OUT

    prev = [lo]

    def add(end):
        n = end - prev[0]
        if n > 0:
            out.append((prev[0], end))
        prev[0] = end
        return n

    pos = lo
    while pos < hi:
        c = cps[pos]
        f = flags(pos)
        if c == 0x27 and pos + 1 < hi:
            n = cps[pos + 1]
            if n in (0x73, 0x74, 0x6D, 0x64):
                pos += add(pos + 2)
                continue
            if pos + 2 < hi:
                nn = cps[pos + 2]
                if (n, nn) in ((0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C)):
                    pos += add(pos + 3)
                    continue
        f2 = flags(pos + 1) if c == 0x20 else f
        if f2.letter or f2.number or f2.other:
            kind = "letter" if f2.letter else ("number" if f2.number else "other")
            if c == 0x20:
                pos += 1
            while getattr(f2, kind):
                pos += 1
                f2 = flags(pos)
            add(pos)
            continue
        nws = 0
        while flags(pos + nws).whitespace:
            nws += 1
        if nws > 1 and pos + nws < hi:      # \s+(?!\S)
            pos += nws - 1
            add(pos)
            continue
        if nws > 0:
            pos += nws
            add(pos)
            continue
        pos += 1
        add(pos)


def _llama3_split(cps, lo, hi, max_digits, out):
    """(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,max}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"""
    def flags(p):
        return _Flags(cps[p]) if lo <= p < hi else _OUT

    def lower(v):
        return v + 32 if 0x41 <= v <= 0x5A else v

    prev = [lo]

    def add(end):
        n = end - prev[0]
        if n > 0:
            out.append((prev[0], end))
        prev[0] = end
        return n

    pos = lo
    while pos < hi:
        c = cps[pos]
        f = flags(pos)
        if c == 0x27 and pos + 1 < hi:
            n = lower(cps[pos + 1])
            if n in (0x73, 0x74, 0x6D, 0x64):
                pos += add(pos + 2)
                continue
            if pos + 2 < hi:
                nn = lower(cps[pos + 2])
                if (n, nn) in ((0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C)):
                    pos += add(pos + 3)
                    continue
        if not (c == 0x0D or c == 0x0A or f.number):
            if f.letter or flags(pos + 1).letter:
                pos += 1
                while flags(pos).letter:
                    pos += 1
                add(pos)
                continue
        if f.number:
            ini = pos
            while flags(pos).number:
                pos += 1
                if pos - ini >= max_digits:
                    add(pos)
                    ini = pos
            add(pos)
            continue
        f2 = flags(pos + 1) if c == 0x20 else f
        if not (f2.whitespace or f2.letter or f2.number) and f.in_range:
            if c == 0x20:
                pos += 1
            while f2.other:
                pos += 1
                f2 = flags(pos)
            while pos < hi and cps[pos] in (0x0D, 0x0A):
                pos += 1
            add(pos)
            continue
        nws, last_nl = 0, 0
        while flags(pos + nws).whitespace:
            if cps[pos + nws] in (0x0D, 0x0A):
                last_nl = pos + nws + 1
            nws += 1
        if last_nl > 0:
            pos = last_nl
            add(pos)
            continue
        if nws > 1 and pos + nws < hi:
            pos += nws - 1
            add(pos)
            continue
        if nws > 0:
            pos += nws
            add(pos)
            continue
        pos += 1
        add(pos)


def pre_split(pre, text):
    """Words of `text` (a str) under pre-tokenizer `pre`."""
    cps = [ord(ch) for ch in text]
    ranges = []
    if pre == "gpt2":
        _gpt2_split(cps, 0, len(cps), ranges)
    elif pre == "smollm":
        start = 0
        for i, cp in enumerate(cps):
            if _flags_of(cp) & _N:
                if start < i:
                    _gpt2_split(cps, start, i, ranges)
                ranges.append((i, i + 1))
                start = i + 1
        if start < len(cps):
            _gpt2_split(cps, start, len(cps), ranges)
    elif pre in ("llama3", "qwen2"):
        _llama3_split(cps, 0, len(cps), 3 if pre == "llama3" else 1, ranges)
    else:
        raise ValueError(f"unknown pre-tokenizer {pre!r}")
    return [text[a:b] for a, b in ranges]


class BPETokenizer:
    def __init__(self, tokens, merges, pre, types=None, bos=None, eos=None, add_bos=False, ignore_merges=None):
        self.tokens = tokens
        self.types = types if types is not None and len(types) == len(tokens) else [NORMAL] * len(tokens)
        self.pre = pre
        self.bos, self.eos, self.add_bos = bos, eos, add_bos
        self.ignore_merges = (pre == "llama3") if ignore_merges is None else ignore_merges
        self.ids = {}
        for i, t in enumerate(tokens):
            self.ids.setdefault(t, i)
        ids = self.ids
        self.merges = {}
        for rank, line in enumerate(merges):
            sp = line.find(" ")
            if sp < 0:
                raise ValueError(f"malformed merge {line!r}")
            a, b = line[:sp], line[sp + 1:]
            ia, ib, im = ids.get(a), ids.get(b), ids.get(a + b)
            if ia is None or ib is None or im is None:
                continue
            self.merges.setdefault((ia, ib), (rank, im))
        specials = [(t.encode("utf-8"), i) for i, (t, ty) in enumerate(zip(tokens, self.types))
                    if ty in (CONTROL, USER_DEFINED) and t]
        specials.sort(key=lambda s: -len(s[0]))
        self.specials_by_first = {}
        for text, i in specials:
            self.specials_by_first.setdefault(text[0], []).append((text, i))
        self._cache = {}

    @classmethod
    def from_gguf_metadata(cls, md, path="model"):
        model = md.get("tokenizer.ggml.model")
        if model is None:
            raise ValueError(f"{path} has no tokenizer.ggml.model")
        if model != "gpt2":
            raise ValueError(f"{path} uses tokenizer model '{model}'; only byte-level BPE ('gpt2') is supported")
        tokens = md.get("tokenizer.ggml.tokens")
        if not tokens:
            raise ValueError(f"{path} has no tokenizer.ggml.tokens")
        pre_name = md.get("tokenizer.ggml.pre", "default")
        pre = pre_from_gguf_name(pre_name)
        if pre is None:
            raise ValueError(f"{path} needs pre-tokenizer '{pre_name}', which is not implemented "
                             "(smollm, gpt-2, llama-bpe, qwen2 are)")
        add = md.get("tokenizer.ggml.add_bos_token")
        add_bos = bool(add) if add is not None else pre == "llama3"
        return cls(tokens, md.get("tokenizer.ggml.merges", []), pre, types=md.get("tokenizer.ggml.token_type"),
                   bos=md.get("tokenizer.ggml.bos_token_id"), eos=md.get("tokenizer.ggml.eos_token_id"),
                   add_bos=add_bos)

    def encode(self, text, add_special=False, parse_special=True):
        return self.encode_with_lengths(text, add_special, parse_special)[0]

    def encode_with_lengths(self, text, add_special=False, parse_special=True):
        """(ids, lengths): lengths[i] = UTF-8 bytes of `text` covered by token i (0 for an added BOS)."""
        ids, lengths = [], []
        if add_special and self.add_bos and self.bos is not None:
            ids.append(self.bos)
            lengths.append(0)
        for kind, value in self._partition(text.encode("utf-8"), parse_special):
            if kind == "special":
                ids.append(value[0])
                lengths.append(value[1])
                continue
            for word in pre_split(self.pre, value.decode("utf-8")):
                wi, wl = self._bpe(word)
                ids.extend(wi)
                lengths.extend(wl)
        return ids, lengths

    def _partition(self, data, parse_special):
        if not parse_special or not self.specials_by_first:
            return [("text", data)] if data else []
        out, start, i, n = [], 0, 0, len(data)
        while i < n:
            for text, sid in self.specials_by_first.get(data[i], ()):
                if data.startswith(text, i):
                    if start < i:
                        out.append(("text", data[start:i]))
                    out.append(("special", (sid, len(text))))
                    i += len(text)
                    start = i
                    break
            else:
                i += 1
        if start < n:
            out.append(("text", data[start:]))
        return out

    def _bpe(self, word):
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        mapped = "".join(BYTE_CHAR[b] for b in word.encode("utf-8"))
        if self.ignore_merges and mapped in self.ids:
            res = ([self.ids[mapped]], [len(mapped)])
        else:
            sym = [self.ids.get(ch, -1) for ch in mapped]
            lens = [1] * len(sym)
            merges = self.merges
            while len(sym) > 1:
                best, best_rank, best_id = -1, None, 0
                for j in range(len(sym) - 1):
                    m = merges.get((sym[j], sym[j + 1]))
                    if m is not None and (best_rank is None or m[0] < best_rank):
                        best, best_rank, best_id = j, m[0], m[1]
                if best < 0:
                    break
                sym[best] = best_id
                lens[best] += lens.pop(best + 1)
                del sym[best + 1]
            res = (sym, lens)
        if len(self._cache) < 100_000:
            self._cache[word] = res
        return res

    def token_bytes(self, tid):
        t = self.tokens[tid]
        if self.types[tid] in (CONTROL, USER_DEFINED, UNKNOWN):
            return t.encode("utf-8")
        return b"".join(bytes([CHAR_BYTE[ch]]) if ch in CHAR_BYTE else ch.encode("utf-8") for ch in t)

    def decode(self, ids):
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")
