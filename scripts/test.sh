#!/usr/bin/env bash
# Runs the whole test suite: lint and types, then unit, integration (root) and interop tests.
# Arguments go to pytest; with arguments, the lint step is skipped (a focused run).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ] || [ "${SKIFF_LINT:-0}" = "1" ]; then
  .venv/bin/ruff check src tests bench
  .venv/bin/mypy
fi
exec .venv/bin/python -m pytest "$@"
