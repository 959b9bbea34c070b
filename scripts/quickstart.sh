#!/usr/bin/env bash
# The main job on a fresh machine: install, start a local registry holding a hello image built
# from busybox-static, start sampand on temporary roots, pull the image and list it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/python -m tests.support.quickstart "$@"
