"""VolumeService: named and anonymous volumes with the `local` driver.

Volumes live under `root/volumes/<name>/_data` with their options in `opts.json`.
Returns Docker's Volume JSON shapes, so engine/api only serializes.
"""

from __future__ import annotations


class VolumeService:
    """`VolumeService(root, events)`; the container service registers a `users(name) -> [ids]` callback."""

    async def create(self, name: str | None = None, driver: str = "local", driver_opts: dict | None = None,
                     labels: dict | None = None) -> dict:
        """Docker's Volume JSON. Creating an existing name returns it unchanged (as Docker)."""
        raise NotImplementedError

    async def inspect(self, name: str) -> dict:
        """Docker's Volume JSON; NotFound `get <name>: no such volume`."""
        raise NotImplementedError

    async def list(self, filters: dict[str, list[str]] | None = None) -> dict:
        """{"Volumes": [...], "Warnings": []}."""
        raise NotImplementedError

    async def remove(self, name: str, force: bool = False) -> None:
        """Conflict `remove <name>: volume is in use - [<ids>]` unless force."""
        raise NotImplementedError

    async def prune(self, filters: dict[str, list[str]] | None = None) -> dict:
        """{"VolumesDeleted": [...], "SpaceReclaimed": int}."""
        raise NotImplementedError
