#!/bin/sh
# Builds llama.cpp's llama-bench (CPU only) from the llama-cpp-python 0.3.36 source archive on PyPI, as the
# benchmark-only reference for `tdx bench forward` (never a dependency of tdx). Needs Debian's cmake and g++.
# Usage: build_llama_bench.sh [DIR]  (default ~/.cache/tdx/llamacpp); then
#   LLAMA_BENCH=DIR/build/bin/llama-bench tdx bench forward
set -eu
DIR="${1:-${HOME}/.cache/tdx/llamacpp}"
mkdir -p "$DIR"
if [ ! -f "$DIR/CMakeLists.txt" ]; then
  T=$(mktemp -d)
  pip download --no-deps --no-binary llama-cpp-python -d "$T" llama-cpp-python==0.3.36 >/dev/null
  tar xzf "$T/llama_cpp_python-0.3.36.tar.gz" -C "$DIR" --strip-components=3 llama_cpp_python-0.3.36/vendor/llama.cpp
  rm -rf "$T"
fi
cd "$DIR"
cmake -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF >/dev/null
cmake --build build --target llama-bench -j 2 >/dev/null
echo "$DIR/build/bin/llama-bench"
