#!/usr/bin/env bash
# Device check of the nnsight worker on CUDA: the command for the device `run` tool, from the repository root,
# with carry [".whl"] (nnsight 0.8.1 and the dependencies the GPU image lacks, as cp312 wheels):
#     bash scripts/device/nnsight_cuda_check.sh
# Writes $OUT/nnsight_cuda.json and $OUT/nnsight_cuda.log; exits non-zero when a check fails.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "wheel install failed"; exit 3; }
export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 TDX_REQUIRE_CUDA=1
nvidia-smi -L
python3 -c 'import sys, torch, transformers, nnsight; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__, "nnsight", nnsight.__version__)'
timeout 240 python3 workers/tests/device/nnsight_cuda_check.py 2>&1 | tee "${OUT:-/tmp}/nnsight_cuda.log"
