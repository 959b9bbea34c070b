#!/usr/bin/env bash
# Install what the tests need, check style and types, then run the whole suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
.venv/bin/ruff check src tests bench
.venv/bin/mypy
# pytest exits 5 when it collected nothing: that is a failure here, like any other non-zero code.
exec .venv/bin/python -m pytest -q -ra "${@:-tests}"
