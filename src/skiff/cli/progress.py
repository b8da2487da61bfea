"""Rendering Docker's JSON message streams (pull, push, load, import): progress and errors.

On a terminal each layer keeps its own line, redrawn in place; otherwise one plain line is
printed per status change, as the docker CLI does when its output is not a tty.
"""

from __future__ import annotations

import os

from skiff.cli.client import APIError


def _is_tty(out) -> bool:
    try:
        return os.isatty(out.fileno())
    except (OSError, ValueError, AttributeError):
        return False


def format_message(msg: dict, tty: bool) -> str:
    """One message as docker's jsonmessage prints it (without cursor movement)."""
    if "stream" in msg:
        return msg["stream"]
    parts = []
    if msg.get("id"):
        parts.append(f"{msg['id']}: ")
    parts.append(msg.get("status", ""))
    if tty and msg.get("progress"):
        parts.append(" " + msg["progress"])
    return "".join(parts) + "\n"


def show_progress(body, out, quiet: bool = False) -> list[dict]:
    """Print a JSON message stream; raise APIError on an error message. Returns the messages."""
    tty = _is_tty(out)
    lines: dict[str, int] = {}  # id → line index from the top of the block (tty only)
    count = 0
    seen: list[dict] = []
    for msg in body.json_stream():
        seen.append(msg)
        if msg.get("error") or msg.get("errorDetail"):
            detail = msg.get("errorDetail") or {}
            raise APIError(500, msg.get("error") or detail.get("message", "unknown error"))
        if quiet:
            continue
        text = format_message(msg, tty)
        ident = msg.get("id")
        if tty and ident and "stream" not in msg:
            if ident in lines:
                up = count - lines[ident]
                out.write(f"\x1b[{up}A\r\x1b[2K{text}\x1b[{up - 1}B" if up > 1 else f"\x1b[1A\r\x1b[2K{text}")
                out.flush()
                continue
            lines[ident] = count
        if not tty and ident and "progress" in msg and msg.get("status") in ("Downloading", "Extracting",
                                                                             "Pushing", "Loading layer"):
            continue  # progress ticks carry nothing new without a bar to redraw
        out.write(text)
        out.flush()
        count += text.count("\n")
    return seen
