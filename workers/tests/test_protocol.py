"""Protocol v1 framing and error paths of both workers, talking to them as subprocesses."""
import os
import tempfile
import unittest

from tests.helpers import NNSIGHT_WORKER, NUMPY_WORKER, WorkerProcess, have_numpy

from tdx_worker_protocol import PayloadBuilder, read_floats, read_message, write_message, ProtocolError


def hidden_modules_env(tmp, *names):
    """PYTHONPATH entry whose packages `names` raise ImportError, hiding any installed ones."""
    for n in names:
        os.makedirs(os.path.join(tmp, n), exist_ok=True)
        with open(os.path.join(tmp, n, "__init__.py"), "w") as f:
            f.write(f"raise ImportError('{n} hidden by the test')\n")
    return {"PYTHONPATH": tmp}


class FramingTests(unittest.TestCase):
    def test_round_trip_of_header_and_payload(self):
        import io
        buf = io.BytesIO()
        pb = PayloadBuilder()
        ref = pb.add(b"\x00\x00\x80\x3f" * 3)
        write_message(buf, {"id": 1, "ok": True, "text": "line\nbreak", "x": ref}, pb.bytes())
        raw = buf.getvalue()
        self.assertEqual(raw.count(b"\n"), 1, "the header must not contain a raw newline")
        buf.seek(0)
        header, payload = read_message(buf)
        self.assertEqual(header["payload_bytes"], 12)
        self.assertEqual(header["text"], "line\nbreak")
        self.assertEqual(read_floats(header, "x", payload, 3), (1.0, 1.0, 1.0))
        self.assertIsNone(read_message(buf))

    def test_bad_array_refs(self):
        for ref in ({"offset": 2, "count": 1}, {"offset": 0, "count": 4}, {"offset": -4, "count": 1}, [0, 1]):
            with self.assertRaises(ProtocolError):
                read_floats({"v": ref}, "v", b"\0" * 12)


    def test_claimed_stdout_keeps_other_output_off_the_protocol(self):
        import subprocess
        import sys
        from tests.helpers import WORKERS
        code = ("import os, sys; sys.path.insert(0, %r); import tdx_worker_protocol as p; o = p.claim_stdout(); "
                "print('noise'); os.write(1, b'fd noise'); o.write(b'ok\\n'); o.flush()") % os.path.join(WORKERS, "common")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
        self.assertEqual(r.stdout, b"ok\n")
        self.assertIn(b"noise", r.stderr)
        self.assertIn(b"fd noise", r.stderr)


class WorkerProtocolMixin:
    """Checks every worker passes; subclasses set `script` and `env`."""
    script, env = None, None

    def setUp(self):
        self.w = WorkerProcess(self.script, env=self.env)

    def tearDown(self):
        self.w.close()

    def test_close_answers_and_exits_zero(self):
        r, _ = self.w.request({"id": 7, "op": "close"})
        self.assertEqual(r, {"id": 7, "ok": True})
        self.assertEqual(self.w.proc.wait(10), 0)

    def test_end_of_input_exits_zero(self):
        self.w.proc.stdin.close()
        self.assertEqual(self.w.proc.wait(10), 0)


class NumpyWorkerProtocolTests(WorkerProtocolMixin, unittest.TestCase):
    script = NUMPY_WORKER

    @unittest.skipUnless(have_numpy(), "numpy is not installed")
    def test_hello(self):
        r, _ = self.w.request({"id": 1, "op": "hello", "protocol": 1})
        self.assertEqual(r["id"], 1)
        self.assertTrue(r["ok"])
        self.assertEqual((r["protocol"], r["worker"]), (1, "numpy-reference"))
        self.assertEqual(set(r["capabilities"]), {"tokenize", "forward", "capture", "edit.add", "edit.sae"})

    @unittest.skipUnless(have_numpy(), "numpy is not installed")
    def test_error_paths_keep_the_worker_serving(self):
        r, _ = self.w.request({"id": 1, "op": "hello", "protocol": 2})
        self.assertEqual((r["ok"], r["error"]["code"], r["protocol"]), (False, "unsupported_protocol", 1))
        r, _ = self.w.request({"id": 2, "op": "frobnicate"})
        self.assertEqual(r["error"]["code"], "bad_request")
        self.assertEqual(set(r["error"]), {"code", "message", "help"})
        r, _ = self.w.request({"id": 3, "op": "forward", "sequences": [[1]]})
        self.assertEqual(r["error"]["code"], "bad_request")
        self.assertIn("load", r["error"]["message"])
        r, _ = self.w.request({"id": 4, "op": "load", "model": "/nonexistent/model.gguf"})
        self.assertEqual((r["id"], r["error"]["code"]), (4, "model_not_found"))
        with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
            f.write(b"not a gguf file at all, really")
            f.flush()
            r, _ = self.w.request({"id": 5, "op": "load", "model": f.name})
            self.assertEqual(r["error"]["code"], "bad_request")
        r, _ = self.w.request({"id": 6, "op": "load", "model": "x.gguf", "remote": True})
        self.assertEqual(r["error"]["code"], "bad_request")
        self.w.send_raw(b"this is not json\n")
        r, _ = self.w.read_response()
        self.assertEqual((r["id"], r["error"]["code"]), (None, "bad_request"))
        # A payload is consumed even when the request fails, so the stream stays in step.
        r, _ = self.w.request({"id": 8, "op": "sae", "handle": "s", "d_in": 2, "width": 2,
                               "encoder": {"offset": 0, "count": 4}}, b"\0" * 8)
        self.assertEqual((r["id"], r["error"]["code"]), (8, "bad_request"))
        r, _ = self.w.request({"id": 9, "op": "hello", "protocol": 1})
        self.assertEqual((r["id"], r["ok"]), (9, True))

    def test_missing_numpy_answers_missing_dependency(self):
        with tempfile.TemporaryDirectory() as tmp:
            w = WorkerProcess(NUMPY_WORKER, env=hidden_modules_env(tmp, "numpy"))
            try:
                r, _ = w.request({"id": 1, "op": "hello", "protocol": 1})
                self.assertEqual((r["id"], r["ok"], r["error"]["code"]), (1, False, "missing_dependency"))
                self.assertIn("pip install -r workers/numpy_reference/requirements.txt", r["error"]["message"])
                self.assertIn("apt-get install python3-numpy", r["error"]["help"])
                r, _ = w.request({"id": 2, "op": "load", "model": "x.gguf"})
                self.assertEqual(r["error"]["code"], "missing_dependency")
            finally:
                self.assertEqual(w.close(), 0)


class NnsightWorkerProtocolTests(WorkerProtocolMixin, unittest.TestCase):
    script = NNSIGHT_WORKER

    def test_missing_nnsight_answers_missing_dependency(self):
        with tempfile.TemporaryDirectory() as tmp:
            w = WorkerProcess(NNSIGHT_WORKER, env=hidden_modules_env(tmp, "nnsight", "torch"))
            try:
                r, _ = w.request({"id": 1, "op": "hello", "protocol": 1})
                self.assertEqual((r["id"], r["ok"], r["error"]["code"]), (1, False, "missing_dependency"))
                self.assertIn("pip install -r workers/nnsight/requirements.txt", r["error"]["message"])
            finally:
                self.assertEqual(w.close(), 0)

    def test_hello_or_missing_dependency(self):
        r, _ = self.w.request({"id": 1, "op": "hello", "protocol": 1})
        if r["ok"]:
            self.assertEqual((r["protocol"], r["worker"]), (1, "nnsight"))
            r, _ = self.w.request({"id": 2, "op": "tokenize", "text": "x"})
            self.assertEqual(r["error"]["code"], "bad_request")
        else:
            self.assertEqual(r["error"]["code"], "missing_dependency")


if __name__ == "__main__":
    unittest.main()
