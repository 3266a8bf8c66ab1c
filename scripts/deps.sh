#!/usr/bin/env bash
# Installs the Debian packages tdx builds against, only if they are missing. Idempotent.
# --tests also installs what the test suite's oracles use: python3 and NumPy (the reference worker).
set -euo pipefail
pkgs=(libsqlite3-dev libopenblas-dev)
[ "${1:-}" = "--tests" ] && pkgs+=(python3 python3-numpy)
need=()
for pkg in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "tdx setup: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
