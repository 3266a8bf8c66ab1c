#!/usr/bin/env bash
# The first command (README): on a fresh Debian machine with Swift, installs what is missing
# (apt packages, the default model), builds tdx and runs the quick spec end to end. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release -Xswiftc -enable-testing --product tdx
TDX=.build/release/tdx
"$TDX" check specs/*.tdx
"$TDX" model fetch smollm2-135m
"$TDX" run specs/quick.tdx
