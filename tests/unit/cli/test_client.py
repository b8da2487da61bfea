"""The stdlib API client against a tiny fake engine on a unix socket."""

import json
import os
import socket
import threading

import pytest

from skiff.cli.client import APIError, Body, Client, ConnectError, demux, encode_query
from skiff.cli.streams import DetachMatcher, parse_detach_keys


class FakeEngine:
    """Answers each connection with a canned response chosen by request path; records requests."""

    def __init__(self, path, routes):
        self.path = path
        self.routes = routes
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        f = conn.makefile("rb")
        line = f.readline().decode()
        headers = {}
        while (h := f.readline()) not in (b"\r\n", b""):
            k, _, v = h.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        body = f.read(int(headers.get("content-length", 0))) if "content-length" in headers else b""
        method, target, _ = line.split(" ")
        self.requests.append((method, target, headers, body))
        path = target.split("?")[0]
        for suffix, handler in self.routes.items():
            if path.endswith(suffix):
                handler(conn, f)
                break
        conn.close()

    def close(self):
        self.sock.close()


def respond(status, body=b"", headers=()):
    def handler(conn, _f):
        head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    return handler


def chunked(pieces):
    def handler(conn, _f):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for p in pieces:
            conn.sendall(b"%x\r\n%s\r\n" % (len(p), p))
        conn.sendall(b"0\r\n\r\n")
    return handler


def frame(stream, data):
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


@pytest.fixture
def engine(tmp_path):
    engines = []

    def make(routes):
        routes.setdefault("/_ping", respond(200, b"OK", ["API-Version: 1.43"]))
        e = FakeEngine(str(tmp_path / "e.sock"), routes)
        engines.append(e)
        return e, Client("unix://" + e.path)

    yield make
    for e in engines:
        e.close()


def test_negotiates_version_and_prefixes_paths(engine):
    fake, client = engine({"/version": respond(200, b'{"Version": "x"}')})
    assert client.get("/version") == {"Version": "x"}
    assert client.version == "1.43"
    assert [r[1] for r in fake.requests] == ["/_ping", "/v1.43/version"]


def test_caps_version_at_client_maximum(engine):
    fake, client = engine({"/_ping": respond(200, b"OK", ["API-Version: 1.99"]), "/x": respond(204)})
    client.request("POST", "/x").json()
    assert fake.requests[-1][1] == "/v1.45/x"


def test_error_status_raises_with_daemon_message(engine):
    _, client = engine({"/containers/nope/json": respond(404, b'{"message": "No such container: nope"}')})
    with pytest.raises(APIError) as e:
        client.get("/containers/nope/json")
    assert e.value.status == 404
    assert str(e.value) == "Error response from daemon: No such container: nope"


def test_json_body_and_query(engine):
    fake, client = engine({"/containers/create": respond(201, b'{"Id": "abc"}')})
    assert client.post("/containers/create", {"name": "x", "filters": {"a": ["b"]}}, {"Image": "busybox"}) == {"Id": "abc"}
    method, target, headers, body = fake.requests[-1]
    assert method == "POST" and "name=x" in target and "filters=%7B%22a%22%3A%5B%22b%22%5D%7D" in target
    assert json.loads(body) == {"Image": "busybox"} and headers["content-type"] == "application/json"


def test_chunked_stream_and_demux(engine):
    payload = frame(1, b"out\n") + frame(2, b"err\n")
    _, client = engine({"/logs": chunked([payload[:5], payload[5:11], payload[11:]])})
    resp = client.request("GET", "/containers/x/logs")
    assert list(demux(resp.body)) == [(1, b"out\n"), (2, b"err\n")]


def test_json_message_stream(engine):
    _, client = engine({"/images/load": chunked([b'{"stream":"Loaded image: busybox:latest\\n"}\r\n', b'{"status":"ok"}'])})
    resp = client.request("POST", "/images/load", body=b"tar")
    assert [m.get("stream") or m.get("status") for m in resp.body.json_stream()] == [
        "Loaded image: busybox:latest\n", "ok"]


def test_hijack_gives_a_bidirectional_socket(engine):
    def upgrade(conn, f):
        conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + frame(1, b"hello\n"))
        got = f.readline()
        conn.sendall(frame(1, b"echo " + got))
        conn.shutdown(socket.SHUT_WR)

    fake, client = engine({"/attach": upgrade})
    sock, body = client.hijack("/containers/x/attach", {"stream": 1, "stdin": 1})
    it = demux(body)
    assert next(it) == (1, b"hello\n")
    sock.sendall(b"ping\n")
    assert next(it) == (1, b"echo ping\n")
    assert fake.requests[-1][2]["upgrade"] == "tcp"


def test_nothing_listening(tmp_path):
    client = Client("unix://" + str(tmp_path / "none.sock"))
    with pytest.raises(ConnectError, match=r"Cannot connect to the skiff engine at unix://.*none.sock\. "
                                           r"Is the skiff engine running\?"):
        client.get("/version")


def test_host_from_environment(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/x.sock")
    assert Client().host == "unix:///tmp/x.sock"
    monkeypatch.delenv("DOCKER_HOST")
    assert Client().host == "unix:///run/skiff/engine.sock"


def test_encode_query():
    assert encode_query({"a": True, "b": None, "c": ["x", "y"], "d": 3}) == "?a=1&c=x&c=y&d=3"
    assert encode_query({}) == ""


def test_body_read_exact_across_pieces():
    r, w = os.pipe()
    os.write(w, b"abcdefgh")
    os.close(w)
    body = Body(os.fdopen(r, "rb"), {})
    assert body.read_exact(3) == b"abc"
    assert body.read_exact(10) == b"defgh"


def test_detach_keys():
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("a,ctrl-@,ctrl-[") == b"a\x00\x1b"
    m = DetachMatcher(b"\x10\x11")
    assert m.feed(b"ab\x10") == (b"ab", False)
    assert m.feed(b"x") == (b"\x10x", False)
    assert m.feed(b"\x10\x11rest") == (b"", True)
