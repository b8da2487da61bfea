"""The shim binary: compiled from shim.c with gcc on first use, cached by source hash."""

from __future__ import annotations

from pathlib import Path

from skiff.engine.cbinary import ensure_built

SOURCE = Path(__file__).with_name("shim.c")


def ensure_shim(bin_dir: str) -> str:
    """Path to a shim built from the current source; builds it if missing or stale."""
    return ensure_built(SOURCE, bin_dir, "skiff-shim", ["-O2", "-Wall"], "skiff-shim")
