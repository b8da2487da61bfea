"""http1.Http1Pool against a local aiohttp server: keep-alive, bodies, and connections the server ends."""

import asyncio
import contextlib

import pytest
from aiohttp import web

from skiff.cluster.client.http1 import Http1Pool, ProtocolError, encode_request, parse_head


def test_parse_head_and_encode_request():
    status, headers = parse_head(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2")
    assert status == 201 and headers == {"content-type": "application/json", "content-length": "2"}
    with pytest.raises(ProtocolError):
        parse_head(b"SSH-2.0-OpenSSH\r\n")
    raw = encode_request("POST", "/x?a=1", "h:1", {"Accept": "application/json"}, b"{}")
    assert raw == b"POST /x?a=1 HTTP/1.1\r\nHost: h:1\r\nAccept: application/json\r\nContent-Length: 2\r\n\r\n{}"
    assert b"Content-Length" not in encode_request("GET", "/", "h", {}, None)


async def _serve(handler):
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def _raw_pool(on_conn):
    """A pool to a bare asyncio server whose connection handler writes what a test wants."""
    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    pool = Http1Pool(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", None)
    try:
        yield pool
    finally:
        await pool.close()
        server.close()
        await server.wait_closed()


def test_keep_alive_chunked_and_close():
    peers = set()

    async def handler(request: web.Request) -> web.StreamResponse:
        peers.add(request.transport.get_extra_info("peername"))
        if request.path == "/chunked":
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            for part in (b"ab", b"cd", b"e"):
                await resp.write(part)
            await resp.write_eof()
            return resp
        if request.path == "/close":
            return web.Response(body=b"bye", headers={"Connection": "close"})
        return web.Response(status=404 if request.path == "/missing" else 200,
                            body=request.method.encode() + b" " + await request.read())

    async def main():
        runner, url = await _serve(handler)
        pool = Http1Pool(url, None, limit=1)
        try:
            first = await pool.request("POST", "/a", {}, b"body")
            second = await pool.request("GET", "/b", {})
            assert (first.status, first.body, second.body) == (200, b"POST body", b"GET ")
            assert len(peers) == 1  # one connection, kept alive
            assert (await pool.request("GET", "/chunked", {})).body == b"abcde"
            assert (await pool.request("GET", "/missing", {})).status == 404
            assert (await pool.request("GET", "/close", {})).body == b"bye"
            assert (await pool.request("GET", "/c", {})).body == b"GET "
            assert len(peers) == 2  # the server said close: a new connection
        finally:
            await pool.close()
            await runner.cleanup()

    asyncio.run(main())


def test_a_request_on_a_connection_the_server_dropped_is_sent_again():
    calls = []

    async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        calls.append(1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # without saying so: the pool finds out on its next request

    async def main():
        async with _raw_pool(on_conn) as pool:
            assert (await pool.request("GET", "/", {})).body == b"ok"
            await asyncio.sleep(0.05)
            assert (await pool.request("GET", "/", {})).body == b"ok"
            assert len(calls) == 2

    asyncio.run(main())


def test_an_answer_cut_short_is_an_error_not_a_retry():
    calls = []

    async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        calls.append(1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
        await writer.drain()
        writer.close()

    async def main():
        async with _raw_pool(on_conn) as pool:
            with pytest.raises(OSError):
                await pool.request("POST", "/", {}, b"x")
            assert len(calls) == 1  # a POST the server may have acted on is not repeated

    asyncio.run(main())
