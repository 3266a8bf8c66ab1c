#!/usr/bin/env bash
# The test command (README): installs missing system packages, builds in release with testing
# enabled (numeric code is 10-100x slower in debug), fetches the default model the model tests use,
# and runs the whole suite. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
FLAGS=(-c release -Xswiftc -enable-testing)
swift build "${FLAGS[@]}"
.build/release/tdx model fetch smollm2-135m
swift test "${FLAGS[@]}" 2>&1
