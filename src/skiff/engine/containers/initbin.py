"""`--init`: a tiny init for pid 1 that forwards signals and reaps zombies, like Docker's docker-init.

No such binary ships on the host, so it is compiled from `init.c` next to this module on first
use (gcc is one of skiff's install-time packages) into `<data-root>/bin/skiff-init`, statically
linked so it runs in any image.
"""

from __future__ import annotations

from pathlib import Path

from skiff.engine.cbinary import ensure_built

_SOURCE = Path(__file__).with_name("init.c")


def ensure_init(bin_dir: Path) -> str:
    return ensure_built(_SOURCE, bin_dir, "skiff-init", ["-O2", "-static"],
                        "cannot build the init binary for --init")
