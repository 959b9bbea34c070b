#!/usr/bin/env bash
# Install everything sampan and its tests need on a fresh Debian 12 machine (run as root).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(docker-registry busybox-static runc skopeo iproute2 iptables gcc libc6-dev tini libseccomp2)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c 'import sampan, isal, zstandard, pytest, docker' 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  touch .venv/.installed
fi
# Byte-compile once: the runtime, shim and CLI start per command, and a machine that sets
# PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every start.
if [ ! -f .venv/.compiled ] || [ -n "$(find src -name '*.py' -newer .venv/.compiled -print -quit)" ]; then
  .venv/bin/python -m compileall -q src >/dev/null
  touch .venv/.compiled
fi
