#!/usr/bin/env bash
# The test command (README): installs missing system packages, builds in release with testing
# enabled (numeric code is 10-100x slower in debug), fetches the default model, runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
FLAGS=(-c release -Xswiftc -enable-testing)
swift build "${FLAGS[@]}"
swift test "${FLAGS[@]}" 2>&1
