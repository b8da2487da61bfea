"""exec and attach over the channel WebSocket protocol, between a client and an engine session.

Output goes out on stdout/stderr (the engine frames them Docker's way unless there is a tty);
stdin, resize and (v5) the stdin close come in. When the process's output ends the Status goes
out on the error channel and the WebSocket closes, as the kubelet does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from skiff.cluster.kubelet.streaming import channels
from skiff.common.stdcopy import Deframer

log = logging.getLogger(__name__)

Resize = Callable[[int, int], Awaitable[None]]


async def pump_output(ws: web.WebSocketResponse, session: Any) -> None:
    deframer = None if session.tty else Deframer()
    async for chunk in session.output():
        if deframer is None:
            await ws.send_bytes(channels.frame(channels.STDOUT, chunk))
            continue
        for stream, payload in deframer.feed(chunk):
            if payload:
                await ws.send_bytes(channels.frame(channels.STDERR if stream == 2 else channels.STDOUT, payload))


async def pump_input(ws: web.WebSocketResponse, session: Any, resize: Resize) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:  # the base64 protocols are not offered; treat text as bytes
            data = msg.data.encode()
        elif msg.type == WSMsgType.BINARY:
            data = msg.data
        else:
            break
        channel, payload = channels.split(data)
        if channel == channels.STDIN and payload:
            if not await session.write_stdin(payload):
                break
        elif channel == channels.RESIZE:
            size = channels.parse_resize(payload)
            if size and (size[0] or size[1]):
                with contextlib.suppress(Exception):  # a resize after exit is harmless
                    await resize(*size)
        elif channel == channels.CLOSE and payload[:1] == bytes((channels.STDIN,)):
            await session.close_stdin()
    else:
        return
    await session.close_stdin()


async def serve_session(ws: web.WebSocketResponse, session: Any, resize: Resize,
                        final_status: Callable[[], Awaitable[bytes]]) -> None:
    """Pump both ways until the output ends (then send the status) or the client goes."""
    inbound = asyncio.create_task(pump_input(ws, session, resize))
    outbound = asyncio.create_task(pump_output(ws, session))
    try:
        done, _ = await asyncio.wait({inbound, outbound}, return_when=asyncio.FIRST_COMPLETED)
        if outbound in done:
            outbound.result()
            if not ws.closed:
                await ws.send_bytes(channels.frame(channels.ERROR, await final_status()))
        else:  # the client went away first: stop reading the process's output
            await session.close()
            outbound.cancel()
    except (ConnectionError, RuntimeError) as e:  # the client's socket broke mid-write
        log.debug("stream ended: %s", e)
    finally:
        inbound.cancel()
        outbound.cancel()
        for task in (inbound, outbound):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await session.close()
        await ws.close()
