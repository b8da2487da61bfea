"""A write burst for the crash tests: `python -m tests.integration.storage.crash_writer ENDPOINT DATA_DIR PREFIX`.

Sixteen concurrent writers create and update keys under PREFIX, printing
`ack KEY REVISION VALUE` (flushed) the moment each write is acknowledged, until killed.
"""

from __future__ import annotations

import asyncio
import sys

from skiff.cluster.storage import open_store


async def main(endpoint: str, data_dir: str, prefix: str) -> None:
    store = open_store(endpoint, data_dir)

    def ack(key: str, rev: int, value: bytes) -> None:
        sys.stdout.write(f"ack {key} {rev} {value.decode()}\n")
        sys.stdout.flush()

    async def writer(w: int) -> None:
        i = 0
        while True:
            key = f"{prefix}{w}-{i}"
            kv = await store.create(key, b"0" * 100)
            ack(key, kv.mod_revision, kv.value)
            for n in range(1, 4):
                kv = await store.update(key, str(n).encode() * 100, kv.mod_revision)
                ack(key, kv.mod_revision, kv.value)
            i += 1

    await asyncio.gather(*(writer(w) for w in range(16)))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
