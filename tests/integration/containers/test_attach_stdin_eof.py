"""Stdin sent and closed right after the start of an attached container: with StdinOnce (what
docker-py and `docker run -i` create) every byte reaches the process and all of its output comes
back, in a loop; without StdinOnce the EOF ends the attach but not the container's stdin, as
dockerd does (so output the process writes after that EOF is not in the stream)."""

import socket

import pytest

pytestmark = [pytest.mark.root, pytest.mark.interop]

ITERATIONS = 30


def _create(api, stdin_once: bool, cmd: list[str]) -> str:
    body = {"Image": "busybox", "Cmd": cmd, "OpenStdin": True, "StdinOnce": stdin_once, "AttachStdin": True,
            "AttachStdout": True, "AttachStderr": True, "HostConfig": {"NetworkMode": "none"}}
    return api._result(api._post_json(api._url("/containers/create"), data=body), True)["Id"]


def _attach_start_send_close(api, cid: str, data: bytes, start: bool = True) -> bytes:
    sock = api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    raw = getattr(sock, "_sock", sock)
    try:
        if start:
            api.start(cid)
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        raw.settimeout(20)
        out = b""
        while chunk := raw.recv(65536):
            out += chunk
        return out
    finally:
        raw.close()


def test_stdin_once_output_is_never_lost(docker_client):
    api = docker_client.api
    lost = []
    for i in range(ITERATIONS):
        cid = _create(api, True, ["sh", "-c", "echo before; read x; echo got:$x; cat"])
        try:
            out = _attach_start_send_close(api, cid, b"hello\nrest\n")
            if not (b"before\n" in out and b"got:hello\n" in out and out.endswith(b"rest\n")):
                lost.append((i, out))
            assert api.wait(cid, timeout=20)["StatusCode"] == 0
        finally:
            api.remove_container(cid, force=True)
    assert lost == []


def test_without_stdin_once_the_eof_ends_the_attach_not_stdin(docker_client):
    api = docker_client.api
    cid = _create(api, False, ["sh", "-c", "read x; echo got:$x; read y; echo then:$y"])
    try:
        _attach_start_send_close(api, cid, b"one\n")
        assert api.inspect_container(cid)["State"]["Running"]  # its stdin is still open
        _attach_start_send_close(api, cid, b"two\n", start=False)
        assert api.wait(cid, timeout=20)["StatusCode"] == 0
        assert api.logs(cid) == b"got:one\nthen:two\n"
    finally:
        api.remove_container(cid, force=True)
