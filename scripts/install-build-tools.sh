#!/usr/bin/env bash
# Installs the toolchain that `npm ci` needs to build fs-ext's native addon with node-gyp
# (make, a C++ compiler, Python 3) from Debian's packages: build-essential and python3.
# With --if-missing it does nothing when make, g++ and python3 are all present.
# .ci/run calls it before `npm ci`; scripts/install-dovecot.sh does the same for Dovecot.
set -euo pipefail
missing=()
for tool in make g++ python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ "${1:-}" == "--if-missing" && ${#missing[@]} == 0 ]]; then
  exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "The build tools for fs-ext are missing (${missing[*]:-none}). Install them as root with:" >&2
  echo "  apt-get install -y build-essential python3" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends build-essential python3 >/dev/null
for tool in make g++ python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-build-tools: $tool is still missing after installing build-essential python3" >&2; exit 1; }
done
echo "build tools: $(make --version | head -n 1); $(g++ --version | head -n 1); $(python3 --version)"
