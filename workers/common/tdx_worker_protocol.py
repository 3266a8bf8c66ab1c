"""tdx worker protocol v1: framing, payload arrays, structured errors and the request loop.

Standard library only, so that a worker whose numeric dependencies are missing can still answer
every request with a `missing_dependency` error. See workers/README.md and notes/PROTOCOL_DRAFT.md.

Framing: one header line of UTF-8 JSON (no raw newlines), then exactly `payload_bytes` raw bytes when
the header has `"payload_bytes": N` with N > 0. Payloads are little-endian float32 arrays laid back to
back, addressed from the header as `{"offset": byteOffset, "count": floatCount}`.
"""
import json
import os
import struct
import sys
import traceback

PROTOCOL_VERSION = 1
ERROR_CODES = ("unsupported_protocol", "bad_request", "model_not_found", "missing_dependency",
               "out_of_memory", "remote_error", "internal")


class ProtocolError(Exception):
    """An error answered as `{"ok": false, "error": {...}}`; `extra` lands at the top level of the response."""

    def __init__(self, code, message, help="", extra=None):
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code, self.message, self.help, self.extra = code, message, help, extra or {}


def bad_request(message, help=""):
    return ProtocolError("bad_request", message, help)


# MARK: framing

def read_message(stream):
    """Next (header dict, payload bytes) from a binary stream; None at end of input.

    A header that is not a JSON object raises ProtocolError (the stream stays in step only when the
    broken header carried no payload, which is all a reader can assume)."""
    line = stream.readline()
    if not line:
        return None
    try:
        header = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad_request(f"the header line is not valid UTF-8 JSON ({e})")
    if not isinstance(header, dict):
        raise bad_request("the header line must be a JSON object")
    n = header.get("payload_bytes", 0)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise bad_request(f"payload_bytes must be a non-negative integer, not {n!r}")
    payload = b""
    if n > 0:
        payload = _read_exactly(stream, n)
        if len(payload) < n:
            raise bad_request(f"the input ended after {len(payload)} of {n} payload bytes")
    return header, payload


def _read_exactly(stream, n):
    chunks, got = [], 0
    while got < n:
        c = stream.read(n - got)
        if not c:
            break
        chunks.append(c)
        got += len(c)
    return b"".join(chunks)


def write_message(stream, header, payload=b""):
    if payload:
        header = dict(header, payload_bytes=len(payload))
    line = json.dumps(header, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    stream.write(line.encode("ascii") + b"\n")
    if payload:
        stream.write(payload)
    stream.flush()


def error_response(request_id, err):
    resp = {"id": request_id, "ok": False,
            "error": {"code": err.code, "message": err.message, "help": err.help}}
    resp.update(err.extra)
    return resp


# MARK: payload arrays

def array_ref(header, key, payload, required=True):
    """(offset, count) of the float32 array that header[key] names, checked against the payload."""
    ref = header.get(key)
    if ref is None:
        if required:
            raise bad_request(f"'{key}' is missing")
        return None
    if not isinstance(ref, dict):
        raise bad_request(f"'{key}' must be {{\"offset\": bytes, \"count\": floats}}")
    off, count = ref.get("offset"), ref.get("count")
    for name, v in (("offset", off), ("count", count)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise bad_request(f"'{key}.{name}' must be a non-negative integer")
    if off % 4:
        raise bad_request(f"'{key}.offset' {off} is not a multiple of 4")
    if off + 4 * count > len(payload):
        raise bad_request(f"'{key}' ({count} floats at byte {off}) runs past the {len(payload)}-byte payload")
    return off, count


def read_floats(header, key, payload, expected_count=None, required=True):
    """The float32 array header[key] names, as a tuple of Python floats (stdlib only)."""
    ref = array_ref(header, key, payload, required)
    if ref is None:
        return None
    off, count = ref
    if expected_count is not None and count != expected_count:
        raise bad_request(f"'{key}' has {count} floats; {expected_count} expected")
    return struct.unpack_from(f"<{count}f", payload, off)


class PayloadBuilder:
    """Collects float32 arrays (as little-endian bytes) and hands out their {offset, count} refs."""

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, le_float32_bytes):
        assert len(le_float32_bytes) % 4 == 0
        ref = {"offset": self.size, "count": len(le_float32_bytes) // 4}
        if le_float32_bytes:
            self.parts.append(le_float32_bytes)
            self.size += len(le_float32_bytes)
        return ref

    def bytes(self):
        return b"".join(self.parts)


# MARK: request loop

def first_line(e, limit=300):
    """The first line of an exception's text, cut to `limit` characters, for a one-sentence message."""
    lines = str(e).strip().splitlines()
    text = lines[0] if lines else type(e).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def check_hello(req):
    """Raises unsupported_protocol unless the hello asks for version 1."""
    v = req.get("protocol")
    if v != PROTOCOL_VERSION:
        raise ProtocolError("unsupported_protocol",
                            f"this worker speaks protocol {PROTOCOL_VERSION}, not {v!r}",
                            "Use a tdx and a worker of the same protocol version.",
                            extra={"protocol": PROTOCOL_VERSION})


def claim_stdout():
    """The protocol's output stream; afterwards anything else written to stdout (print, libraries' progress
    displays, C code writing to fd 1) goes to stderr instead of corrupting the protocol."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def serve(handler, stdin=None, stdout=None):
    """Answers requests until `close` or end of input.

    handler(request, payload) → (response fields, payload bytes); it raises ProtocolError for errors.
    The loop adds `id` and `ok`, answers `close` itself, and maps any other exception to `internal`
    (MemoryError to `out_of_memory`) with the traceback on stderr. Returns the exit status."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or claim_stdout()
    while True:
        try:
            msg = read_message(stdin)
        except ProtocolError as e:
            write_message(stdout, error_response(None, e))
            continue
        if msg is None:
            return 0
        req, payload = msg
        rid = req.get("id")
        op = req.get("op")
        if op == "close":
            write_message(stdout, {"id": rid, "ok": True})
            return 0
        try:
            if not isinstance(op, str):
                raise bad_request("every request needs an 'op' string")
            fields, out = handler(req, payload)
            write_message(stdout, dict({"id": rid, "ok": True}, **fields), out)
        except ProtocolError as e:
            write_message(stdout, error_response(rid, e))
        except MemoryError:
            write_message(stdout, error_response(rid, ProtocolError(
                "out_of_memory", f"the worker ran out of memory during '{op}'",
                "Use a smaller batch or fewer positions per request.")))
        except Exception as e:  # a bug in the worker: report it and keep serving
            traceback.print_exc(file=sys.stderr)
            write_message(stdout, error_response(rid, ProtocolError(
                "internal", f"{type(e).__name__} during '{op}': {first_line(e)}",
                "This is a worker bug; the worker's stderr has the traceback.")))


class Worker:
    """Protocol v1 dispatch shared by the workers. Subclasses set NAME and VERSION and implement
    load(req), register_sae(req, payload), tokenize(req) and forward(req, payload); serve() calls handle."""
    NAME = VERSION = ""
    CAPABILITIES = ["tokenize", "forward", "capture", "edit.add", "edit.sae"]

    def __init__(self):
        self.model = None
        self.saes = {}

    def handle(self, req, payload):
        op = req["op"]
        if op == "hello":
            check_hello(req)
            return {"protocol": PROTOCOL_VERSION, "worker": self.NAME, "worker_version": self.VERSION,
                    "capabilities": list(self.CAPABILITIES)}, b""
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


def missing_dependency_handler(what, requirements_file, alternative=""):
    """A handler that answers every request with `missing_dependency` naming the install command."""
    req = requirements_file
    rel = os.path.relpath(req)
    if not rel.startswith(".."):
        req = rel
    cmd = f"pip install -r {req}"
    help = f"Install it with `{cmd}`" + (f" or `{alternative}`" if alternative else "") + "."

    def handler(request, payload):
        raise ProtocolError("missing_dependency", f"the worker cannot import {what}; install it with `{cmd}`", help)
    return handler
