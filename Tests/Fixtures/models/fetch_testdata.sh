#!/bin/sh
# Fetches llama.cpp's vocabulary test files (MIT) from the llama-cpp-python 0.3.36 source archive on PyPI
# into a cache outside the repository. Usage: fetch_testdata.sh [DEST] (default ~/.cache/tdx/testdata).
set -eu
DEST="${1:-${HOME}/.cache/tdx/testdata}"
M="$DEST/vendor/llama.cpp/models"
if [ -f "$M/ggml-vocab-qwen2.gguf.out" ]; then exit 0; fi
mkdir -p "$DEST/sdist"
pip download --no-deps --no-binary llama-cpp-python -d "$DEST/sdist" llama-cpp-python==0.3.36 >/dev/null
tar xzf "$DEST/sdist/llama_cpp_python-0.3.36.tar.gz" -C "$DEST" --strip-components=1 \
  --wildcards 'llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-*'
rm -f "$DEST/sdist/llama_cpp_python-0.3.36.tar.gz"
test -f "$M/ggml-vocab-qwen2.gguf.out"
