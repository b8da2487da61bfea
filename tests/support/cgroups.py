"""Removing the cgroup folders an engine leaves behind (skiff keeps /<prefix>, dockerd its parent)."""

import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def remove_cgroups(parent: str) -> None:
    """rmdir the cgroup parent in every hierarchy, children first; busy ones stay."""
    for base in [p for p in CGROUP_ROOT.iterdir() if p.is_dir()]:
        top = base / parent.lstrip("/")
        if not top.is_dir():
            continue
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
