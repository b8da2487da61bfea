"""Several containers' logs as one stream: each line prefixed with the container's short name
(`web_1  | `), coloured per container on a terminal, as docker-compose prints `up` and `logs`."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from skiff.common.stdcopy import read_frames
from skiff.compose.converge import Existing

COLOURS = ["36", "33", "32", "35", "34", "1;36", "1;33", "1;32", "1;35", "1;34"]


def short_name(project: str, name: str) -> str:
    """`proj_web_1` → `web_1` (a custom container_name stays whole)."""
    return name[len(project) + 1:] if name.startswith(project + "_") else name


def prefixes(project: str, names: list[str], colour: bool) -> dict[str, str]:
    width = max((len(short_name(project, n)) for n in names), default=0)
    out = {}
    for i, name in enumerate(names):
        text = short_name(project, name).ljust(width) + " | "
        out[name] = f"\x1b[{COLOURS[i % len(COLOURS)]}m{text}\x1b[0m" if colour else text
    return out


def split_lines(pending: bytes, data: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines of pending+data, and what is left after the last newline."""
    buf = pending + data
    *lines, rest = buf.split(b"\n")
    return lines, rest


class LogPrinter:
    """Follows (or dumps) the logs of containers on threads; `run()` prints them until every
    stream has ended, or `stop_when` says so. Returns (container name, exit code) of the
    first container whose stream ended when `exit_codes` is set."""

    def __init__(self, api, project: str, containers: list[Existing], write: Callable[[str], None], *,
                 follow: bool, tail: str = "all", timestamps: bool = False, colour: bool = False,
                 exit_codes: bool = False):
        self.api = api
        self.project = project
        self.containers = containers
        self.write = write
        self.follow = follow
        self.tail = tail
        self.timestamps = timestamps
        self.exit_codes = exit_codes
        self.prefix = prefixes(project, [c.name for c in containers], colour)
        self.events: queue.Queue = queue.Queue()

    def _stream(self, c: Existing) -> None:
        params = {"stdout": True, "stderr": True, "follow": self.follow, "tail": self.tail,
                  "timestamps": self.timestamps}
        try:
            tty = bool((self.api.get(f"/containers/{c.id}/json").get("Config") or {}).get("Tty"))
            resp = self.api.request("GET", f"/containers/{c.id}/logs", params)
            pending = b""
            chunks = ((1, d) for d in iter(resp.body.read_some, b"")) if tty else read_frames(resp.body.read_exact)
            for _stream, data in chunks:
                lines, pending = split_lines(pending, data)
                for line in lines:
                    self.events.put(("line", c, line.decode("utf-8", "replace").rstrip("\r")))
            if pending:
                self.events.put(("line", c, pending.decode("utf-8", "replace")))
            resp.close()
        except Exception as e:  # a container removed under us ends its stream, nothing more
            if getattr(e, "status", None) not in (404, 409):
                self.events.put(("line", c, f"error reading logs: {e}"))
        code = None
        if self.exit_codes:
            try:
                code = (self.api.post(f"/containers/{c.id}/wait") or {}).get("StatusCode")
            except Exception:
                code = None
        self.events.put(("end", c, code))

    def start(self) -> None:
        for c in self.containers:
            threading.Thread(target=self._stream, args=(c,), daemon=True).start()

    def run(self, stop_on_first_exit: bool = False) -> tuple[Existing, int | None] | None:
        self.start()
        live = len(self.containers)
        first: tuple[Existing, int | None] | None = None
        while live:
            kind, c, payload = self.events.get()
            if kind == "line":
                self.write(f"{self.prefix[c.name]}{payload}\n")
                continue
            live -= 1
            if self.exit_codes and payload is not None:
                self.write(f"{c.name} exited with code {payload}\n")
            if first is None:
                first = (c, payload)
                if stop_on_first_exit:
                    return first
        return first
