"""The nnsight worker's Hugging Face helpers (nnsight_plan.py) with fakes: no torch, nnsight or GPU needed.
test_nnsight_worker.py runs the real model calls where nnsight and torch are installed."""
import types
import unittest

import nnsight_plan as P


class TokenizerOffsetTests(unittest.TestCase):
    def test_byte_lengths_from_offsets(self):
        # GPT-2-style offsets trim the leading space: " world" is (6, 11); BOS added with (0, 0).
        self.assertEqual(P.byte_lengths("hello world", [(0, 0), (0, 5), (6, 11)], [1, 0, 0]), [0, 5, 6])
        # Multi-byte characters; a character split over two byte tokens: both report its span.
        self.assertEqual(P.byte_lengths("né😀", [(0, 1), (1, 2), (2, 3), (2, 3)], None), [1, 2, 4, 0])
        # Trailing text no token covers goes to the last token.
        self.assertEqual(P.byte_lengths("ab  ", [(0, 1), (1, 2)], None), [1, 3])
        # A special token written in the text covers its characters.
        self.assertEqual(P.byte_lengths("<s>x", [(0, 3), (3, 4)], [1, 0]), [3, 1])

    def test_byte_level_tokens_are_counted_exactly(self):
        # "né😀" in GPT-2 byte characters: 'n', 'Ã©' (é), 'ðŁĺ' + 'Ģ' (😀 split over two tokens).
        toks = ["<|bos|>", "n", "\u00c3\u00a9", "\u00f0\u0141\u013a", "\u0122"]
        offsets = [(0, 0), (0, 1), (1, 2), (2, 3), (2, 3)]
        self.assertEqual(P.byte_lengths("né😀", offsets, [1, 0, 0, 0, 0], toks), [0, 1, 2, 3, 1])
        # Not byte-level (SentencePiece '▁'): back to offsets.
        self.assertEqual(P.byte_lengths("a b", [(0, 1), (1, 3)], [0, 0], ["\u2581a", "\u2581b"]), [1, 2])

    def test_config_summary(self):
        cfg = types.SimpleNamespace(num_hidden_layers=80, hidden_size=8192, vocab_size=128256, num_attention_heads=64,
                                    num_key_value_heads=8, intermediate_size=28672, max_position_embeddings=131072)
        self.assertEqual(P.config_summary(cfg), {"blocks": 80, "d_model": 8192, "vocab": 128256, "heads": 64,
                                                 "kv_heads": 8, "ffn": 28672, "context": 131072})


if __name__ == "__main__":
    unittest.main()
