#!/usr/bin/env bash
# The test command (README): installs missing system packages, builds in release with testing
# enabled (numeric code is 10-100x slower in debug), fetches the default model the model tests use,
# and runs the whole suite (XCTest). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --tests
FLAGS=(-c release -Xswiftc -enable-testing)
swift build "${FLAGS[@]}"
.build/release/tdx model fetch smollm2-135m
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test "${FLAGS[@]}" --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line: "N passed, N failed, N skipped".
summary=$(grep -E "Executed [0-9]+ tests?, with" "$log" | tail -n 1)
if [[ $summary =~ Executed\ ([0-9]+)\ tests?,\ with\ (([0-9]+)\ tests?\ skipped\ and\ )?([0-9]+)\ failures? ]]; then
  total=${BASH_REMATCH[1]}; skipped=${BASH_REMATCH[3]:-0}; failed=${BASH_REMATCH[4]}
  echo "$((total - skipped - failed)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
