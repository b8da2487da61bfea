"""Container records on disk and in memory: atomic saves, unique names, lookup by id, prefix or name."""

from __future__ import annotations

import os
import threading
from collections.abc import Set as AbstractSet
from pathlib import Path

import orjson

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.common.ids import NAME_PATTERN
from skiff.engine import trash
from skiff.engine.containers.record import Container

RECORD = "config.v2.json"


class ContainerStore:
    def __init__(self, root: Path):
        self.root = root  # <data-root>/containers
        self.root.mkdir(parents=True, exist_ok=True)
        self._by_id: dict[str, Container] = {}
        self._names: dict[str, str] = {}

    def dir(self, cid: str) -> Path:
        return self.root / cid

    def load_all(self) -> list[Container]:
        for d in sorted(self.root.iterdir()):
            path = d / RECORD
            if not path.is_file():
                if len(d.name) == 64 and d.is_dir():  # removed (record first) when the engine stopped
                    trash.discard(str(d))
                continue
            try:
                c = Container.from_record(orjson.loads(path.read_bytes()))
            except (ValueError, TypeError):
                continue
            self._by_id[c.id] = c
            self._names[c.name] = c.id
        return list(self._by_id.values())

    def save(self, c: Container, durable: bool = False) -> None:
        """Atomic (rename). fsync'd only when `durable` (a create or rename, acknowledged to the
        client): a state change the host loses is rebuilt by `restore` from the runtime's files."""
        os.replace(self.write_pending(c, durable), str(self.dir(c.id)) + "/" + RECORD)

    def write_pending(self, c: Container, durable: bool,
                      tag: str = "") -> str:
        """Write (and fsync when `durable`) the record to a temporary file; `publish` renames
        it into place. Split so a create's fsync can overlap its snapshot's."""
        d = str(self.dir(c.id))
        # saves run on the event loop and in worker threads: each thread its own temporary file
        tmp = f"{d}/{RECORD}.{tag or threading.get_native_id()}.tmp"
        data = orjson.dumps(c.to_record())
        try:
            f = open(tmp, "wb")
        except FileNotFoundError:
            os.makedirs(d, exist_ok=True)
            f = open(tmp, "wb")
        with f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        return tmp

    def publish(self, cid: str, tmp: str) -> None:
        os.replace(tmp, str(self.dir(cid)) + "/" + RECORD)

    # -- names --------------------------------------------------------------------------------
    def check_name(self, name: str) -> str:
        name = name.lstrip("/") if name.startswith("/") else name
        if not NAME_PATTERN.match(name):
            raise InvalidArgument(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        owner = self._names.get(name)
        if owner is not None:
            raise Conflict(f'Conflict. The container name "/{name}" is already in use by container "{owner}". '
                           "You have to remove (or rename) that container to be able to reuse that name.")
        return name

    def names(self) -> AbstractSet[str]:
        """A live view (no copy: a create without --name asks, and there may be thousands)."""
        return self._names.keys()

    def add(self, c: Container) -> None:
        self.register(c)
        self.save(c, durable=True)

    def register(self, c: Container) -> None:
        """Make a container (whose record is already saved) known; Conflict if its name was taken meanwhile."""
        self.check_name(c.name)
        self._by_id[c.id] = c
        self._names[c.name] = c.id

    def rename(self, c: Container, new: str) -> None:
        new = self.check_name(new)
        del self._names[c.name]
        c.name = new
        self._names[new] = c.id
        self.save(c, durable=True)

    def remove(self, c: Container) -> None:
        self._by_id.pop(c.id, None)
        if self._names.get(c.name) == c.id:
            del self._names[c.name]

    # -- lookup -------------------------------------------------------------------------------
    def all(self) -> list[Container]:
        return list(self._by_id.values())

    def find(self, ref: str) -> Container | None:
        if not ref:
            return None
        c = self._by_id.get(ref)
        if c:
            return c
        name = ref[1:] if ref.startswith("/") else ref
        cid = self._names.get(name)
        if cid:
            return self._by_id[cid]
        matches = [c for cid, c in self._by_id.items() if cid.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgument(f"Multiple IDs found with provided prefix: {ref}")
        return None

    def get(self, ref: str) -> Container:
        c = self.find(ref)
        if c is None:
            raise NotFound(f"No such container: {ref}")
        return c
