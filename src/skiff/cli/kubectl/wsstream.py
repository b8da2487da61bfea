"""The client side of exec and attach: one WebSocket in Kubernetes' channel protocol
(v5.channel.k8s.io, else v4), with the terminal in raw mode under -t and its size sent on
channel 4. Returns the remote command's exit code from the Status on the error channel."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import struct
import sys
import threading
from typing import Any

from skiff.cli.kubectl.session import CommandError

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


def exit_code(status: dict[str, Any]) -> tuple[int, str]:
    """(exit code, message to print) from the error channel's Status."""
    if status.get("status") == "Success":
        return 0, ""
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                code = int(cause.get("message") or 1)
                return code, f"command terminated with exit code {code}"
    return 1, f"error: {status.get('message') or 'the remote command failed'}"


def terminal_size() -> tuple[int, int] | None:
    import fcntl
    import termios

    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(1, termios.TIOCGWINSZ, b"\0" * 8))
        return rows, cols
    except OSError:
        return None


def _stdin_thread(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    while True:
        try:
            data = os.read(0, 32768)
        except OSError:
            data = b""
        loop.call_soon_threadsafe(queue.put_nowait, data)
        if not data:
            return


async def _session(url: str, tls: Any, headers: dict[str, str], stdin: bool, tty: bool,
                   given: bytes | None = None, out: Any = None) -> int:
    import aiohttp

    status: dict[str, Any] = {"status": "Failure", "message": "the connection closed without a status"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=30)) as http:
        try:
            ws = await http.ws_connect(url, protocols=PROTOCOLS, ssl=tls, headers=headers, max_msg_size=0,
                                       autoping=True)
        except aiohttp.WSServerHandshakeError as e:
            raise CommandError(f"unable to upgrade connection: {e.message}") from None
        except (aiohttp.ClientError, OSError) as e:
            raise CommandError(f"unable to upgrade connection: {e}") from None
        loop = asyncio.get_running_loop()
        v5 = ws.protocol == PROTOCOLS[0]

        async def send_size() -> None:
            size = terminal_size()
            if size and not ws.closed:
                await ws.send_bytes(bytes((RESIZE,)) + json.dumps({"Width": size[1], "Height": size[0]}).encode())

        async def pump_stdin() -> None:
            queue: asyncio.Queue = asyncio.Queue()
            if given is not None:  # bytes from the caller (cp) instead of the terminal
                for i in range(0, len(given), 32768):
                    queue.put_nowait(given[i:i + 32768])
                queue.put_nowait(b"")
            else:
                threading.Thread(target=_stdin_thread, args=(loop, queue), daemon=True).start()
            while data := await queue.get():
                await ws.send_bytes(bytes((STDIN,)) + data)
            if v5:
                await ws.send_bytes(bytes((CLOSE, STDIN)))

        tasks = []
        if stdin:
            tasks.append(asyncio.create_task(pump_stdin()))
        if tty:
            await send_size()
            loop.add_signal_handler(signal.SIGWINCH, lambda: tasks.append(asyncio.create_task(send_size())))
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY or not msg.data:
                    continue
                channel, payload = msg.data[0], msg.data[1:]
                if channel == STDOUT and out is not None:
                    out.write(payload)
                elif channel == STDOUT:
                    sys.stdout.buffer.write(payload)
                    sys.stdout.buffer.flush()
                elif channel == STDERR:
                    sys.stderr.buffer.write(payload)
                    sys.stderr.buffer.flush()
                elif channel == ERROR and payload:
                    status = json.loads(payload)
        finally:
            if tty:
                loop.remove_signal_handler(signal.SIGWINCH)
            for t in tasks:
                t.cancel()
            await ws.close()
    code, message = exit_code(status)
    if message:
        sys.stderr.write(message + "\n")
    return code


def run_stream(session: Any, path: str, stdin: bool, tty: bool, given: bytes | None = None, out: Any = None) -> int:
    """Connect to `path` (with its query) on the session's server and pump until the command ends;
    stdin from the terminal (or `given`), stdout to the terminal (or the file object `out`)."""
    from skiff.cluster.client.rest import ssl_context

    client = session.client
    url = f"{'wss' if client.scheme == 'https' else 'ws'}://{client.host}:{client.port}{client.base}{path}"
    headers = {k: v for k, v in client._headers("*/*", None).items() if k != "Accept"}
    tls = ssl_context(session.connection) if client.scheme == "https" else True
    raw = tty and stdin and given is None and os.isatty(0)
    saved = None
    if raw:
        import termios
        import tty as ttymod

        saved = termios.tcgetattr(0)
        ttymod.setraw(0)
    try:
        return asyncio.run(_session(url, tls, headers, stdin, tty, given, out))
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSADRAIN, saved)
