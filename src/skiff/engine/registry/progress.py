"""Docker's JSON progress messages for pull and push (pure).

The docker CLI draws a bar per `id` from `progressDetail`; `progress` is the text bar it
shows when it cannot (and what docker-py users print).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

Progress = Callable[[dict], Coroutine[Any, Any, None]]

BAR_WIDTH = 50


def human_size(n: float) -> str:
    """Docker's units.HumanSize: decimal units, 3 significant digits (`1.23MB`)."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while n >= 1000 and i < len(units) - 1:
        n /= 1000
        i += 1
    return f"{n:.4g}{units[i]}" if i else f"{int(n)}B"


def bar(current: int, total: int) -> str:
    """`[=====>        ]  1.2MB/3.4MB`, as jsonmessage.JSONProgress renders it."""
    if total <= 0:
        return human_size(current)
    filled = min(BAR_WIDTH, int(BAR_WIDTH * current / total))
    arrow = ">" if filled < BAR_WIDTH else ""
    body = "=" * max(filled - (1 if arrow else 0), 0) + arrow
    return f"[{body.ljust(BAR_WIDTH)}] {human_size(current):>8}/{human_size(total)}"


def status(text: str, ident: str = "") -> dict:
    msg: dict = {"status": text}
    if ident:
        msg["id"] = ident
    return msg


def layer(text: str, ident: str) -> dict:
    """A per-layer status without numbers: `Pulling fs layer`, `Pull complete`, `Pushed`..."""
    return {"status": text, "progressDetail": {}, "id": ident}


def ticking(text: str, ident: str, current: int, total: int) -> dict:
    """`Downloading` / `Extracting` / `Pushing` with the numbers the CLI draws its bar from."""
    return {"status": text, "progressDetail": {"current": current, "total": total},
            "progress": bar(current, total), "id": ident}


def error(message: str) -> dict:
    return {"errorDetail": {"message": message}, "error": message}


def aux(tag: str, digest: str, size: int) -> dict:
    return {"progressDetail": {}, "aux": {"Tag": tag, "Digest": digest, "Size": size}}


def short(digest: str) -> str:
    """The 12-hex id a layer has in progress output."""
    return digest.split(":", 1)[-1][:12]


class Throttle:
    """Lets a progress tick through at most every `step` bytes, and always the last one."""

    def __init__(self, total: int, parts: int = 100):
        self.step = max(total // parts, 256 << 10)
        self.next = 0

    def due(self, current: int, total: int) -> bool:
        if current >= self.next or current >= total:
            self.next = current + self.step
            return True
        return False
