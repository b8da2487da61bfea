"""Endpoint changes appended to `networks/<id>.journal` instead of rewriting `<id>.json`.

Every plug and unplug of a bridge container used to rewrite the whole network record (config,
IPAM pool, every endpoint): a file create and rename per start and per stop, growing with the
number of containers. Now each appends one JSON line to the network's journal through a
descriptor kept open (one `write`); loading replays the journal over the record, and a full
save (network create, engine start, or a journal past `COMPACT_AT` lines) rewrites the record
and empties the journal.

Crash safety: a line is written whole or, at a crash mid-write, left torn at the end, where
replay stops. Replay is idempotent (plug sets, unplug removes), so a crash between a full
save and the truncation after it replays changes the record already holds, harmlessly.
Like the record, the journal is not fsync'd: after a host crash no container runs, and
`startup` drops the endpoints of containers that do not.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import orjson

from skiff.engine.network.model import Endpoint, Network

COMPACT_AT = 512  # lines; then the next change rewrites the record instead


def plug_line(net: Network, ep: Endpoint) -> bytes:
    cursor = net.pool._cursor if net.pool is not None else 0
    return orjson.dumps({"plug": ep.to_dict(), "cursor": cursor}) + b"\n"


def unplug_line(cid: str) -> bytes:
    return orjson.dumps({"unplug": cid}) + b"\n"


def replay(net: Network, data: bytes) -> int:
    """Apply journal lines to a network loaded from its record; returns how many applied
    (a torn or unreadable line ends the replay)."""
    applied = 0
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            entry = orjson.loads(line)
            if "plug" in entry:
                ep = Endpoint.from_dict(entry["plug"])
                net.endpoints[ep.container_id] = ep
                if net.pool is not None:
                    net.pool.allocated[ep.ip] = ep.container_id
                    net.pool._cursor = int(entry.get("cursor", net.pool._cursor))
            elif "unplug" in entry:
                cid = entry["unplug"]
                net.endpoints.pop(cid, None)
                if net.pool is not None:
                    net.pool.release_owner(cid)
            else:
                break
        except (ValueError, TypeError, KeyError):
            break
        applied += 1
    return applied


class Journals:
    """The open journal of each network in a directory (append-only descriptors)."""

    def __init__(self, directory: Path):
        self.dir = directory
        self._fds: dict[str, int] = {}
        self._lines: dict[str, int] = {}

    def path(self, nid: str) -> Path:
        return self.dir / f"{nid}.journal"

    def read(self, nid: str) -> bytes:
        try:
            return self.path(nid).read_bytes()
        except FileNotFoundError:
            return b""

    def append(self, nid: str, line: bytes) -> bool:
        """Append one line; False when the journal is long enough to be compacted instead."""
        if self._lines.get(nid, 0) >= COMPACT_AT:
            return False
        fd = self._fds.get(nid)
        if fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = self._fds[nid] = os.open(self.path(nid), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                                          0o600)
            self._lines[nid] = self._lines.get(nid, 0)
        os.write(fd, line)
        self._lines[nid] += 1
        return True

    def loaded(self, nid: str, lines: int) -> None:
        """The journal held `lines` lines when its network was loaded."""
        self._lines[nid] = lines

    def reset(self, nid: str) -> None:
        """The record was just saved whole: empty the journal."""
        fd = self._fds.get(nid)
        if fd is not None:
            os.ftruncate(fd, 0)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.truncate(self.path(nid), 0)
        self._lines[nid] = 0

    def drop(self, nid: str) -> None:
        """The network is gone: close and delete its journal."""
        fd = self._fds.pop(nid, None)
        if fd is not None:
            os.close(fd)
        self._lines.pop(nid, None)
        with contextlib.suppress(FileNotFoundError):
            self.path(nid).unlink()

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
