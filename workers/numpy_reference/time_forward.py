#!/usr/bin/env python3
"""Times the NumPy worker through the protocol: load, then one forward pass of N tokens with the logits of the
last position. Usage: python3 workers/numpy_reference/time_forward.py MODEL.gguf [N]"""
import json
import os
import subprocess
import sys
import time

model = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tdx_numpy_worker.py")
p = subprocess.Popen([sys.executable, worker], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def request(header):
    p.stdin.write(json.dumps(header).encode() + b"\n")
    p.stdin.flush()
    r = json.loads(p.stdout.readline())
    p.stdout.read(r.get("payload_bytes", 0))
    if not r["ok"]:
        sys.exit(f"worker error: {r['error']}")
    return r


t = time.perf_counter()
cfg = request({"id": 1, "op": "load", "model": model})["config"]
print(f"load: {time.perf_counter() - t:.2f} s")
ids = [(7 * i + 100) % cfg["vocab"] for i in range(n)]
t = time.perf_counter()
request({"id": 2, "op": "forward", "sequences": [ids], "logit_positions": [[-1]]})
print(f"forward of {n} tokens through {cfg['blocks']} blocks: {time.perf_counter() - t:.2f} s")
request({"id": 3, "op": "close"})
