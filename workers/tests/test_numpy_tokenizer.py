"""The NumPy worker's byte-level BPE tokenizer: a tiny vocabulary, the pre-tokenizer splits tdx's Swift tests
pin, the real SmolLM2 vocabulary and llama.cpp's vocabulary test cases (when cached)."""
import os
import tempfile
import unittest

from tests.helpers import SMOLLM2, have_numpy, tiny_vocab

from bpe_tokenizer import BPETokenizer, pre_split


def tiny_tokenizer(pre="gpt2", add_bos=True):
    tokens, types, merges = tiny_vocab()
    return BPETokenizer(tokens, merges, pre, types=types, bos=0, eos=1, add_bos=add_bos)


class TinyTokenizerTests(unittest.TestCase):
    def test_merges_apply_lowest_rank_first(self):
        tok = tiny_tokenizer()
        ids = tok.encode("hello world")
        self.assertEqual([tok.tokens[i] for i in ids], ["hello", "Ġworld"])
        self.assertEqual(tok.encode_with_lengths("hello world")[1], [5, 6])

    def test_unmerged_bytes_and_multibyte_characters(self):
        tok = tiny_tokenizer()
        ids, lengths = tok.encode_with_lengths("hé!")
        # 'h' alone (no 'h é' merge), é as its two UTF-8 bytes, '!' split off by the pre-tokenizer.
        self.assertEqual(len(ids), 4)
        self.assertEqual(lengths, [1, 1, 1, 1])
        self.assertEqual(tok.decode(ids), "hé!")

    def test_specials_bos_and_lengths(self):
        tok = tiny_tokenizer()
        text = "<|bos|>hello<|eos|> world"
        ids, lengths = tok.encode_with_lengths(text, add_special=True)
        self.assertEqual(ids[:3], [0, 0, tok.ids["hello"]])   # added BOS, then the BOS written in the text
        self.assertEqual(ids[3], 1)
        self.assertEqual(lengths[0], 0)
        self.assertEqual(lengths[1], len("<|bos|>"))
        self.assertEqual(sum(lengths), len(text.encode("utf-8")))
        self.assertEqual(tiny_tokenizer(add_bos=False).encode("hello", add_special=True), [tok.ids["hello"]])

    def test_lengths_sum_to_the_byte_length(self):
        tok = tiny_tokenizer()
        for text in ["", "  hello   world\n\n", "naïve 12 3.5 ümlaut's", "日本語 😀 x", "a\tb\r\nc"]:
            ids, lengths = tok.encode_with_lengths(text)
            self.assertEqual(sum(lengths), len(text.encode("utf-8")), text)
            self.assertEqual(tok.decode(ids), text)
            self.assertTrue(all(n > 0 for n in lengths))

    def test_pre_tokenizer_splits_pinned_by_the_swift_tests(self):
        self.assertEqual(pre_split("gpt2", "Hello world's  end"), ["Hello", " world", "'s", " ", " end"])
        self.assertEqual(pre_split("llama3", "abc 12345\n\n x"), ["abc", " ", "123", "45", "\n\n", " x"])
        self.assertEqual(pre_split("qwen2", "12a"), ["1", "2", "a"])
        self.assertEqual(pre_split("smollm", "a 12"), ["a", " ", "1", "2"])


def load_gguf_tokenizer(path):
    from gguf_numpy import GGUFFile
    return BPETokenizer.from_gguf_metadata(GGUFFile(path).metadata, path)


@unittest.skipUnless(have_numpy() and os.path.exists(SMOLLM2), f"{SMOLLM2} is not cached (tdx model fetch)")
class SmolLM2TokenizerTests(unittest.TestCase):
    """The same expectations as Tests/TDXModelsTests/TokenizerTests.swift."""

    def test_smollm2_tokens(self):
        tok = load_gguf_tokenizer(SMOLLM2)
        self.assertEqual(tok.pre, "smollm")
        self.assertFalse(tok.add_bos)
        self.assertEqual(tok.encode("The capital of France is"), [504, 3575, 282, 4649, 314])
        self.assertEqual([tok.tokens[i] for i in tok.encode("2024")], ["2", "0", "2", "4"])
        self.assertEqual(tok.encode("<|im_start|>user"), [1] + tok.encode("user"))
        text = "<|im_start|>user\nWhat's 12+7? Ünïcödé — 😀<|im_end|>\n"
        ids, lengths = tok.encode_with_lengths(text)
        self.assertEqual(tok.decode(ids), text)
        self.assertEqual(sum(lengths), len(text.encode("utf-8")))
        self.assertEqual([len(tok.token_bytes(i)) for i in ids], lengths)


def vocab_dir():
    root = os.environ.get("TDX_TESTDATA", os.path.expanduser("~/.cache/tdx/testdata"))
    return os.path.join(root, "vendor", "llama.cpp", "models")


@unittest.skipUnless(have_numpy() and os.path.exists(os.path.join(vocab_dir(), "ggml-vocab-qwen2.gguf.out")),
                     "llama.cpp vocab test files are not cached (Tests/Fixtures/models/fetch_testdata.sh)")
class LlamaCppVocabTests(unittest.TestCase):
    """llama.cpp's test-tokenizer-0 cases (add_special = false, parse_special = false)."""

    def run_cases(self, name):
        d = vocab_dir()
        tok = load_gguf_tokenizer(os.path.join(d, f"ggml-vocab-{name}.gguf"))
        with open(os.path.join(d, f"ggml-vocab-{name}.gguf.inp"), encoding="utf-8", newline="") as f:
            inputs = f.read().split("\n__ggml_vocab_test__\n")
        if inputs and inputs[-1] == "":
            inputs.pop()
        with open(os.path.join(d, f"ggml-vocab-{name}.gguf.out"), encoding="utf-8", newline="") as f:
            outputs = f.read().split("\n")
        self.assertGreater(len(inputs), 30)
        for i, text in enumerate(inputs):
            want = [int(t) for t in outputs[i].split()]
            ids, lengths = tok.encode_with_lengths(text, parse_special=False)
            self.assertEqual(ids, want, f"{name} case {i} {text!r}")
            self.assertEqual(sum(lengths), len(text.encode("utf-8")))

    def test_gpt2(self):
        self.run_cases("gpt-2")

    def test_llama_bpe(self):
        self.run_cases("llama-bpe")

    def test_qwen2(self):
        self.run_cases("qwen2")


if __name__ == "__main__":
    unittest.main()
