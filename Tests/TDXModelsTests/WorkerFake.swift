import Foundation
import XCTest
@testable import TDXModels

/// A fake worker for the Worker* tests: a python3 script (standard library only) written to a temp dir,
/// speaking protocol v1 with a tiny deterministic "model" (3 blocks, d 4, vocabulary 7), and told by argv
/// to misbehave at one request.
enum WorkerFake {
    /// Timeouts small enough that a hang fails a test in about a second.
    static let quick = WorkerProcess.Timeouts(load: 5, request: 5, exit: 1)

    /// ["python3", script, mode, op(, echoFile)]; skips the test when python3 is missing.
    static func command(_ mode: String = "good", at op: String = "-", echo: String? = nil) throws -> [String] {
        guard WorkerProcess.resolveExecutable("python3", path: ProcessInfo.processInfo.environment["PATH"]) != nil else {
            throw XCTSkip("python3 is not on PATH; the worker tests need it to run their fake worker")
        }
        return ["python3", try scriptPath(), mode, op] + (echo.map { [$0] } ?? [])
    }

    /// A fresh file for the fake to append one JSON line per request to.
    static func echoFile() -> String {
        let p = directory + "/echo-\(UUID().uuidString).jsonl"
        _ = FileManager.default.createFile(atPath: p, contents: nil)
        return p
    }

    /// The echoed requests: [{"header": {...}, "arrays"|"vectors": ...}].
    static func echoed(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// The script and echo files of this test process, removed when it exits.
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "tdx-worker-fake-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: WorkerFake.directory) }
        return dir
    }()

    nonisolated(unsafe) private static var written: String?
    private static let lock = NSLock()

    static func scriptPath() throws -> String {
        try lock.withLock {
            if let w = written { return w }
            let path = directory + "/fake_worker.py"
            try source.write(toFile: path, atomically: true, encoding: .utf8)
            written = path
            return path
        }
    }

    static let source = #"""
# A fake tdx worker (protocol v1) for WorkerProcess/WorkerBackend tests. Standard library only.
# argv: MODE OP [ECHO_FILE]. MODE says how to misbehave when a request with op OP arrives ("good": never).
import json, struct, sys, time

mode, at = sys.argv[1], sys.argv[2]
echo_path = sys.argv[3] if len(sys.argv) > 3 else None
inp, out = sys.stdin.buffer, sys.stdout.buffer
V, D, BLOCKS = 7, 4, 3
saes = {}

def send(obj, payload=b""):
    if payload:
        obj["payload_bytes"] = len(payload)
    out.write(json.dumps(obj).encode() + b"\n" + payload)
    out.flush()

def floats(payload, ref):
    return list(struct.unpack("<%df" % ref["count"], payload[ref["offset"]:ref["offset"] + 4 * ref["count"]]))

def log(s):
    sys.stderr.write(s + "\n")
    sys.stderr.flush()

log("fake worker: mode %s at %s" % (mode, at))
if mode == "exit_at_start":
    log("fatal: cannot start")
    sys.exit(2)
while True:
    line = inp.readline()
    if not line:
        break
    req = json.loads(line)
    op, rid = req["op"], req["id"]
    n = req.get("payload_bytes") or 0
    if op == at and mode == "close_stdin":
        log("closing stdin before the payload")
        inp.close()
        time.sleep(0.2)
        sys.exit(5)
    payload = inp.read(n) if n else b""
    assert len(payload) == n
    if echo_path:
        rec = {"header": req, "payload_bytes_read": len(payload)}
        if op == "sae":
            rec["arrays"] = {k: floats(payload, req[k]) for k in ("encoder", "encoder_bias", "decoder", "decoder_bias", "input_shift") if k in req}
        if op == "forward":
            rec["vectors"] = [floats(payload, e["vector"]) for e in req["edits"] if e["op"] == "add"]
        with open(echo_path, "a") as f:
            f.write(json.dumps(rec) + "\n")
    if op == at:
        if mode == "die":
            log("Traceback (most recent call last):")
            log("RuntimeError: boom in " + op)
            sys.exit(3)
        if mode == "die_mid":
            out.write(b'{"id": %d, "ok"' % rid)
            out.flush()
            log("dying mid-answer")
            sys.exit(4)
        if mode == "hang":
            log("hanging")
            time.sleep(1000)
        if mode == "garbage":
            out.write(b"Loading checkpoint shards: 100%\n")
            out.flush()
            continue
        if mode == "array":
            send([1, 2])
            continue
        if mode == "no_id":
            send({"ok": True})
            continue
        if mode == "missing_field":
            send({"id": rid, "ok": True})
            continue
        if mode == "wrong_version":
            send({"id": rid, "ok": True, "protocol": 2, "worker": "fake"})
            continue
        if mode == "unsupported":
            send({"id": rid, "ok": False, "protocol": 2, "error": {"code": "unsupported_protocol", "message": "I speak 2", "help": ""}})
            continue
        if mode == "wrong_id":
            send({"id": rid + 7, "ok": True, "protocol": 1, "worker": "fake"})
            continue
        if mode == "short":
            out.write(json.dumps({"id": rid, "ok": True, "payload_bytes": 400}).encode() + b"\n" + b"\0" * 40)
            out.flush()
            log("stopping after 40 bytes")
            sys.exit(0)
        if mode == "fail":
            send({"id": rid, "ok": False, "error": {"code": "model_not_found", "message": "no model named x", "help": "check the model id"}})
            continue
        if mode == "stderr_flood":
            for i in range(20000):
                sys.stderr.write("log line %d\n" % i)
            sys.stderr.flush()
    if op == "hello":
        send({"id": rid, "ok": True, "protocol": 1, "worker": "fake", "worker_version": "0.1",
              "capabilities": ["tokenize", "forward", "capture", "edit.add", "edit.sae"]})
    elif op == "load":
        send({"id": rid, "ok": True, "model_id": "fake/" + req["model"], "revision": req["revision"] or "main",
              "dtype": "float32" if req["dtype"] == "auto" else req["dtype"],
              "config": {"blocks": BLOCKS, "d_model": D, "vocab": V, "heads": 2, "kv_heads": 1, "ffn": 8, "context": 64},
              "bos": 1, "add_bos": True})
    elif op == "tokenize":
        ids, lengths = ([1], [0]) if req["add_special"] else ([], [])
        for ch in req["text"]:
            ids.append(2 + ord(ch) % 5)
            lengths.append(len(ch.encode("utf-8")))
        send({"id": rid, "ok": True, "ids": ids, "lengths": lengths})
    elif op == "sae":
        saes[req["handle"]] = req
        send({"id": rid, "ok": True})
    elif op == "forward":
        # logits[s][i][v] = 1000 s + 10 p + v; residual after block b at p: 1000 s + 100 b + p + j/4, plus add edits at blocks <= b.
        seqs = req["sequences"]
        body, lrefs, rrefs = b"", [], []
        def put(vals):
            global body
            ref = {"offset": len(body), "count": len(vals)}
            body += struct.pack("<%df" % len(vals), *vals)
            return ref
        vecs = iter([floats(payload, e["vector"]) if e["op"] == "add" else None for e in req["edits"]])
        adds = [(e, next(vecs)) for e in req["edits"]]
        for s, seq in enumerate(seqs):
            L = len(seq)
            ab = lambda p: p + L if p < 0 else p
            vals = []
            for p in req["logit_positions"][s]:
                vals += [1000.0 * s + 10 * ab(p) + v for v in range(V)]
            lrefs.append(put(vals))
            vals = []
            for b in req["capture_blocks"]:
                for p in req["capture_positions"][s]:
                    x = [1000.0 * s + 100 * b + ab(p) + j / 4 for j in range(D)]
                    for e, v in adds:
                        if v is not None and e["block"] <= b and (e["sequences"] is None or s in e["sequences"]) \
                                and ab(p) in [ab(q) for q in e["positions"]]:
                            x = [a + c for a, c in zip(x, v)]
                    vals += x
            rrefs.append(put(vals))
        send({"id": rid, "ok": True, "logits": lrefs, "residuals": rrefs}, body)
    elif op == "close":
        send({"id": rid, "ok": True})
        sys.exit(0)
    else:
        send({"id": rid, "ok": False, "error": {"code": "bad_request", "message": "unknown op " + op, "help": ""}})
"""#
}
