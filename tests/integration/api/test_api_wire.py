"""The API layer against in-memory services: routing, versions, errors, streams and the hijack,
driven by raw HTTP, the real docker CLI and docker-py. No root needed."""

from __future__ import annotations

import os
import pty
import select
import shutil
import socket
import time

import orjson
import pytest

needs_docker = pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")


def _create(api, config: dict) -> str:
    """POST /containers/create with `config`; the new container's id."""
    _status, body = api.request("POST", "/containers/create", orjson.dumps(config),
                                {"Content-Type": "application/json"})
    return orjson.loads(body)["Id"]


def _connect(path: str, timeout: float = 10) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(timeout)
    sock.connect(path)
    return sock


def _first_reply(path: str, request: bytes) -> bytes:
    """Send a raw request; the first chunk of the answer (a short response's head, at least)."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    sock.sendall(request)
    reply = sock.recv(4096)
    sock.close()
    return reply


def _read_head(sock: socket.socket) -> bytes:
    """The response head, read byte by byte so nothing of the stream after it is taken."""
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    return head


def _read_to_eof(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(4096):  # a hang here times out the test
        out += chunk
    return out


def test_ping_headers(api):
    head = _first_reply(api.socket, b"HEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\n").decode()
    assert head.startswith("HTTP/1.1 200")
    for h in ("API-Version: 1.50", "OSType: linux", "Docker-Experimental: false", "Builder-Version:", "Server:"):
        assert h in head


def test_every_response_names_the_server_and_api_version(api):
    head = _first_reply(api.socket, b"GET /v1.44/containers/nope/json HTTP/1.1\r\nHost: x\r\n\r\n").decode()
    assert head.startswith("HTTP/1.1 404")
    assert "Server: skiff/" in head and "API-Version: 1.50" in head and "OSType: linux" in head


def test_a_crashing_handler_is_a_500_and_the_engine_keeps_serving(api):
    async def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    api.ctx.containers.top = boom
    status, body = api.request("GET", "/containers/any/top")
    assert status == 500 and b"kaboom" in body
    assert api.request("GET", "/_ping") == (200, b"OK")


def test_versioned_and_bare_paths(api):
    assert api.request("GET", "/v1.41/version")[0] == 200
    status, body = api.request("GET", "/version")
    assert status == 200
    v = orjson.loads(body)
    assert v["ApiVersion"] == "1.50" and v["MinAPIVersion"] == "1.41"


def test_version_out_of_range(api):
    status, body = api.request("GET", "/v1.12/containers/json")
    assert status == 400
    assert b"client version 1.12 is too old" in body
    status, body = api.request("GET", "/v9.0/containers/json")
    assert status == 400 and b"too new" in body


def test_unknown_route_is_page_not_found(api):
    assert api.request("GET", "/nothing/here") == (404, b'{"message":"page not found"}')
    assert api.request("PATCH", "/containers/json")[0] == 404


def test_bad_json_body_is_400(api):
    status, body = api.request("POST", "/containers/create", b"{not json", {"Content-Type": "application/json"})
    assert status == 400
    assert orjson.loads(body)["message"].startswith("invalid JSON")


def test_service_errors_keep_their_status(api):
    status, body = api.request("GET", "/containers/nope/json")
    assert (status, orjson.loads(body)) == (404, {"message": "No such container: nope"})
    status, body = api.request("POST", "/containers/create",
                               orjson.dumps({"Image": "missing:1", "Cmd": ["true"]}), {"Content-Type": "application/json"})
    assert status == 404 and b"No such image: missing:1" in body


def test_load_rejects_garbage_and_keeps_serving(api):
    status, body = api.request("POST", "/images/load", b"this is not a tarball" * 50)
    assert status == 400
    assert api.request("GET", "/_ping") == (200, b"OK")


def test_pull_says_no_registry_client(api):
    status, body = api.request("POST", "/images/create?fromImage=alpine&tag=3")
    assert status == 501 and b"no registry client" in body


def test_wait_sends_headers_before_the_exit(api):
    """docker run posts /wait before /start and needs the 200 header to come back first."""
    cid = _create(api, {"Image": "busybox", "Cmd": ["exit", "4"]})
    sock = _connect(api.socket)
    sock.sendall(f"POST /containers/{cid}/wait?condition=next-exit HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: 0\r\n\r\n".encode())
    head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 200")
    assert api.request("POST", f"/containers/{cid}/start")[0] == 204
    rest = b""
    while b'"StatusCode":4' not in rest:
        chunk = sock.recv(4096)
        assert chunk, "connection closed before the wait result"
        rest += chunk
    sock.close()


def test_attach_without_upgrade_streams_until_close(api):
    """A client that does not ask to upgrade gets 200 and the raw stream, unchunked, to EOF."""
    cid = _create(api, {"Image": "busybox", "Cmd": ["echo", "x"]})
    sock = _connect(api.socket)
    sock.sendall(f"POST /containers/{cid}/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = _read_head(sock)
    assert head.startswith(b"HTTP/1.1 200") and b"Transfer-Encoding" not in head
    assert api.request("POST", f"/containers/{cid}/start")[0] == 204
    out = _read_to_eof(sock)
    sock.close()
    assert out == b"\x01\x00\x00\x00\x00\x00\x00\x02x\n"


def test_raw_hijack_with_half_close(api):
    """Attach by hand: 101 UPGRADED, stdin in, our half-close, then the output still arrives framed."""
    cid = _create(api, {"Image": "busybox", "Cmd": ["cat"], "OpenStdin": True, "StdinOnce": True})
    sock = _connect(api.socket)
    sock.sendall(f"POST /v1.50/containers/{cid}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\n"
                 "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n".encode())
    head = _read_head(sock)
    assert head.startswith(b"HTTP/1.1 101 UPGRADED")
    assert b"application/vnd.docker.multiplexed-stream" in head
    assert api.request("POST", f"/containers/{cid}/start")[0] == 204
    sock.sendall(b"ping\n")
    sock.shutdown(socket.SHUT_WR)
    out = _read_to_eof(sock)
    sock.close()
    assert out == b"\x01\x00\x00\x00\x00\x00\x00\x05ping\n"


@needs_docker
def test_docker_cli_run_exit_codes_and_output(api):
    r = api.docker("run", "--rm", "busybox", "echo", "hello", "world")
    assert (r.returncode, r.stdout) == (0, b"hello world\n")
    r = api.docker("run", "busybox", "err", "oops")
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"oops\n")
    assert api.docker("run", "busybox", "exit", "3").returncode == 3


@needs_docker
def test_docker_cli_run_piped_stdin(api):
    r = api.docker("run", "-i", "--rm", "busybox", "cat", input=b"line one\nline two\n")
    assert (r.returncode, r.stdout) == (0, b"line one\nline two\n")


@needs_docker
def test_docker_cli_missing_image_and_name_conflict(api):
    r = api.docker("run", "nope:1")
    assert r.returncode == 125
    assert b"Unable to find image 'nope:1' locally" in r.stderr and b"no registry client" in r.stderr
    assert api.docker("create", "--name", "twice", "busybox", "sleep").returncode == 0
    r = api.docker("run", "-d", "--name", "twice", "busybox", "sleep")
    assert r.returncode == 125 and b'The container name "/twice" is already in use' in r.stderr


@needs_docker
def test_docker_cli_detached_exec_logs_rm(api):
    r = api.docker("run", "-d", "--name", "bg", "busybox", "sleep")
    assert r.returncode == 0 and len(r.stdout.strip()) == 64
    assert b"bg" in api.docker("ps").stdout
    r = api.docker("exec", "bg", "echo", "from exec")
    assert (r.returncode, r.stdout) == (0, b"from exec\n")
    assert api.docker("exec", "bg", "exit", "7").returncode == 7
    r = api.docker("exec", "-i", "bg", "cat", input=b"piped\n")
    assert r.stdout == b"piped\n"
    r = api.docker("exec", "bg", "lose-eof")  # the engine closes the stream once the exit is known
    assert (r.returncode, r.stdout) == (0, b"bye\n")
    r = api.docker("rm", "bg")
    assert r.returncode == 1 and b"You cannot remove a running container" in r.stderr
    assert api.docker("rm", "-f", "bg").returncode == 0
    api.docker("run", "--name", "talker", "busybox", "echo", "logged")
    r = api.docker("logs", "talker")
    assert r.stdout == b"logged\n"


@needs_docker
def test_docker_cli_volumes_and_info(api):
    assert api.docker("volume", "create", "v1").stdout == b"v1\n"
    assert b"v1" in api.docker("volume", "ls").stdout
    r = api.docker("volume", "inspect", "nope")
    assert r.returncode == 1 and b"no such volume" in r.stderr
    r = api.docker("info", "--format", "{{.OSType}} {{.Driver}}")
    assert r.stdout == b"linux overlay2\n"


def _read_pty(fd: int, until: bytes, timeout: float = 10) -> bytes:
    out = b""
    end = time.monotonic() + timeout
    while until not in out and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 1024)
            except OSError:
                break
    return out


@needs_docker
def test_docker_cli_run_it_and_detach(api):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("docker", ["docker", "run", "-it", "--name", "tty1", "busybox", "cat"], api.env)
    try:
        time.sleep(0.5)
        os.write(fd, b"typed\r")
        assert b"typed" in _read_pty(fd, b"typed")
        os.write(fd, b"\x10\x11")  # ctrl-p ctrl-q: detach, the container keeps running
        _read_pty(fd, b"never", timeout=3)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"running" in api.docker("ps", "--filter", "name=tty1", "--format", "{{.State}}").stdout


def test_docker_py(api):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=api.host, version="auto")
    try:
        assert client.ping()
        assert client.containers.run("busybox", ["echo", "py"], remove=True) == b"py\n"
        c = client.containers.run("busybox", ["sleep"], detach=True)
        code, out = c.exec_run(["echo", "x"])
        assert (code, out) == (0, b"x\n")
        code, out = c.exec_run(["exit", "5"])
        assert code == 5
        with pytest.raises(docker.errors.APIError, match="no registry client"):
            client.containers.run("nothere:latest", ["true"])
        c.remove(force=True)
    finally:
        client.close()


@needs_docker
def test_registry_less_commands(api):
    # networks have their own tests against a real engine (tests/integration/network)
    r = api.docker("login", "-u", "someone", "--password-stdin", input=b"secret\n")
    assert r.returncode == 1 and b"no registry client" in r.stderr


def test_build_of_an_empty_context_is_400_and_build_cache_prune_empty(api):
    status, body = api.request("POST", "/v1.50/build", b"", {"Content-Type": "application/x-tar"})
    assert status == 400 and b"not a valid tar archive" in body
    assert api.request("POST", "/build/prune") == (200, b'{"CachesDeleted":null,"SpaceReclaimed":0}')


def test_attach_over_websocket(api):
    import asyncio

    import aiohttp

    cid = _create(api, {"Image": "busybox", "Cmd": ["cat"], "OpenStdin": True})
    assert api.request("POST", f"/containers/{cid}/start")[0] == 204

    async def talk() -> bytes:
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=api.socket)) as s:
            async with s.ws_connect(f"http://x/v1.50/containers/{cid}/attach/ws?stream=1&stdin=1&stdout=1") as ws:
                await ws.send_bytes(b"over ws\n")
                msg = await asyncio.wait_for(ws.receive(), 10)
                return msg.data

    assert asyncio.run(talk()) == b"over ws\n"  # raw, not framed


def _attach_raw(socket_path: str, cid: str, stdin: bytes) -> bytes:
    """Attach with stdin, send it, half-close, and read until the engine closes the stream."""
    sock = _connect(socket_path, timeout=15)
    sock.sendall(f"POST /v1.50/containers/{cid}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\n"
                 "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode())
    head = _read_head(sock)
    assert head.startswith(b"HTTP/1.1 101")
    sock.sendall(stdin)
    sock.shutdown(socket.SHUT_WR)
    out = _read_to_eof(sock)
    sock.close()
    return out


def test_stdin_eof_ends_the_attach_of_a_non_stdin_once_container(api):
    """dockerd's rule: without StdinOnce, the client's EOF ends its attach; the container runs on."""
    cid = _create(api, {"Image": "busybox", "Cmd": ["cat"], "OpenStdin": True})
    assert api.request("POST", f"/containers/{cid}/start")[0] == 204
    _attach_raw(api.socket, cid, b"some input\n")
    inspect = orjson.loads(api.request("GET", f"/containers/{cid}/json")[1])
    assert inspect["State"]["Running"] is True
