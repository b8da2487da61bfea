#!/usr/bin/env bash
# Runs the whole test suite: unit, integration (root) and interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest "$@"
