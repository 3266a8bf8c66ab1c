"""Translation of `forward` and `sae` requests into plans (common/tdx_forward_plan.py), on fakes."""
import struct
import unittest

import tdx_forward_plan as P
from tdx_worker_protocol import ProtocolError

SHAPE = P.ModelShape(blocks=4, d_model=3, vocab=10, context=16)


def f32(*xs):
    return struct.pack(f"<{len(xs)}f", *xs)


def sae_spec(d=3, width=2):
    z = f32(*([0.0] * (d * width)))
    return P.SAESpec(d, width, 1.0, False, None, z, f32(0, 0), z, f32(*([0.0] * d)), None)


class PlanTests(unittest.TestCase):
    def plan(self, req, payload=b"", saes=None):
        return P.plan_forward(req, payload, SHAPE, saes or {}, pad_id=9)

    def test_padding_positions_and_defaults(self):
        p = self.plan({"sequences": [[1, 2, 3], [4]]})
        self.assertEqual(p.input_ids, [[1, 2, 3], [4, 9, 9]])
        self.assertEqual(p.attention_mask, [[1, 1, 1], [1, 0, 0]])
        self.assertEqual(p.logit_rows, [(0, 2), (1, 0)])        # default: the last position
        self.assertEqual((p.logit_counts, p.capture_rows, p.steps), ([1, 1], [], []))

    def test_blocks_visited_in_forward_order_with_edits_before_captures(self):
        pay = f32(1, 2, 3)
        req = {"sequences": [[1, 2, 3], [4, 5]], "logit_positions": [[], [-1]], "capture_blocks": [3, 1],
               "capture_positions": [[0, -1], [1]],
               "edits": [{"block": 2, "sequences": None, "positions": [-1], "op": "add",
                          "vector": {"offset": 0, "count": 3}},
                         {"block": 1, "sequences": [1], "positions": [0, 1], "op": "sae_reconstruct", "sae": "s"}]}
        p = self.plan(req, pay, {"s": sae_spec()})
        self.assertEqual([(st.block, st.capture, len(st.edits)) for st in p.steps], [(1, True, 1), (2, False, 1), (3, True, 0)])
        self.assertEqual(p.steps[1].edits[0].rows, [(0, 2), (1, 1)])   # −1 resolved per sequence
        self.assertEqual(p.steps[1].edits[0].vector, pay)
        self.assertEqual(p.steps[0].edits[0].rows, [(1, 0), (1, 1)])
        self.assertEqual(p.capture_rows, [(0, 0), (0, 2), (1, 1)])
        self.assertEqual((p.capture_counts, p.logit_rows, p.saes_used), ([2, 1], [(1, 1)], ["s"]))

    def test_repeated_positions_become_successive_rounds(self):
        req = {"sequences": [[1, 2, 3]], "edits": [{"block": 0, "sequences": None, "positions": [1, 1, 2, -2],
                                                    "op": "add", "vector": {"offset": 0, "count": 3}}]}
        p = self.plan(req, f32(1, 1, 1))
        self.assertEqual([e.rows for e in p.steps[0].edits], [[(0, 1)], [(0, 1), (0, 2)], [(0, 1)]])

    def test_latent_edits_parsed(self):
        req = {"sequences": [[1]], "edits": [{"block": 0, "sequences": None, "positions": [0], "op": "sae_latents",
                                              "sae": "s", "latents": [{"latent": 1, "action": "clamp", "value": 3.5},
                                                                      {"latent": 0, "action": "zero"}]}]}
        e = self.plan(req, saes={"s": sae_spec()}).steps[0].edits[0]
        self.assertEqual((e.op, e.sae, e.latents), ("sae_latents", "s", [(1, "clamp", 3.5), (0, "zero", 0.0)]))

    def test_invalid_requests(self):
        vec = {"offset": 0, "count": 3}
        cases = [{"sequences": []}, {"sequences": [[]]}, {"sequences": [[10]]}, {"sequences": [[1] * 17]},
                 {"sequences": [[1]], "logit_positions": [[1]]}, {"sequences": [[1]], "capture_blocks": [4]},
                 {"sequences": [[1]], "capture_positions": [[0], [0]]},
                 {"sequences": [[1]], "edits": [{"block": 0, "sequences": [1], "positions": [0], "op": "add", "vector": vec}]},
                 {"sequences": [[1]], "edits": [{"block": 0, "positions": [0], "op": "add", "vector": {"offset": 0, "count": 2}}]},
                 {"sequences": [[1]], "edits": [{"block": 0, "positions": [0], "op": "sae_reconstruct", "sae": "nope"}]},
                 {"sequences": [[1]], "edits": [{"block": 0, "positions": [0], "op": "sae_reconstruct", "sae": "wide"}]},
                 {"sequences": [[1]], "edits": [{"block": 0, "positions": [0], "op": "sae_latents", "sae": "s",
                                                 "latents": [{"latent": 2, "action": "zero"}]}]},
                 {"sequences": [[1]], "edits": [{"block": 0, "positions": [0], "op": "sae_latents", "sae": "s",
                                                 "latents": [{"latent": 0, "action": "clamp"}]}]},
                 {"sequences": [[1]], "edits": [{"block": 0, "positions": [0], "op": "shift"}]}]
        for req in cases:
            with self.subTest(req=req):
                with self.assertRaises(ProtocolError) as cm:
                    self.plan(req, f32(0, 0, 0), {"s": sae_spec(), "wide": sae_spec(d=4)})
                self.assertEqual(cm.exception.code, "bad_request")

    def test_parse_sae(self):
        d, w = 2, 3
        pay = f32(*range(6)) + f32(0, 0, 0) + f32(*range(6)) + f32(1, 1) + f32(5, 5)
        req = {"handle": "s1", "d_in": d, "width": w, "input_scale": 0.05, "activation": "topk:2",
               "subtract_decoder_bias": True, "encoder": {"offset": 0, "count": 6}, "encoder_bias": {"offset": 24, "count": 3},
               "decoder": {"offset": 36, "count": 6}, "decoder_bias": {"offset": 60, "count": 2},
               "input_shift": {"offset": 68, "count": 2}}
        h, s = P.parse_sae(req, pay)
        self.assertEqual((h, s.topk, s.input_scale, s.subtract_decoder_bias, s.input_shift), ("s1", 2, 0.05, True, f32(5, 5)))
        for bad in ({"activation": "topk:x"}, {"activation": "gelu"}, {"input_scale": 0}, {"encoder": {"offset": 0, "count": 5}}):
            with self.assertRaises(ProtocolError):
                P.parse_sae(dict(req, **bad), pay)


class AssembleTests(unittest.TestCase):
    def test_block_major_per_sequence_in_request_order(self):
        req = {"sequences": [[1, 2, 3], [4, 5]], "logit_positions": [[0, 1], []], "capture_blocks": [2, 0],
               "capture_positions": [[0, 2], [1]]}
        p = P.plan_forward(req, b"", SHAPE, {})
        # Capture rows (0,0) (0,2) (1,1); the trace saves steps in block order 0 then 2. Row value = 100·block + row.
        rows = lambda b: b"".join(f32(*[100 * b + r] * 3) for r in range(3))
        logits = f32(*[1.0] * 10) + f32(*[2.0] * 10)
        fields, data = P.assemble_forward(p, 3, 10, [rows(0), rows(2)], logits)
        self.assertEqual(fields["payload_bytes"], len(data))
        get = lambda ref: list(struct.unpack_from(f"<{ref['count']}f", data, ref["offset"]))
        self.assertEqual(get(fields["logits"][0]), [1.0] * 10 + [2.0] * 10)
        self.assertEqual(fields["logits"][1]["count"], 0)
        self.assertEqual(get(fields["residuals"][0]), [200.0] * 3 + [201.0] * 3 + [0.0] * 3 + [1.0] * 3)
        self.assertEqual(get(fields["residuals"][1]), [202.0] * 3 + [2.0] * 3)
        with self.assertRaises(ProtocolError):
            P.assemble_forward(p, 3, 10, [rows(0)], logits)


if __name__ == "__main__":
    unittest.main()
