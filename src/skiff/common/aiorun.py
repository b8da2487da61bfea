"""Run a component's main coroutine until SIGTERM or SIGINT (the standalone control-plane commands)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any


def run_until_signalled(main: Callable[[], Coroutine[Any, Any, Any]], cleanup: Callable[[], Awaitable[Any]]) -> None:
    """asyncio.run(main()), cancelled by SIGTERM/SIGINT; cleanup() runs either way."""
    async def amain() -> None:
        task = asyncio.create_task(main())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            await cleanup()

    asyncio.run(amain())
