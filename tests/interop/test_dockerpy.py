"""docker-py 7 against `skiff engine`: containers, exec, attach, images and volumes."""

from __future__ import annotations

import io
import secrets

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.root]
docker = pytest.importorskip("docker")


@pytest.fixture
def cleanup(docker_client):
    made: list = []
    yield made
    for c in made:
        try:
            c.remove(force=True)
        except docker.errors.NotFound:
            pass


def test_version_negotiated(docker_client):
    assert docker_client.api.api_version == "1.50"
    assert docker_client.version()["Os"] == "linux"


def test_run_output_and_remove(docker_client):
    assert docker_client.containers.run("busybox", ["echo", "hi"], remove=True) == b"hi\n"


def test_run_nonzero_raises_container_error(docker_client):
    with pytest.raises(docker.errors.ContainerError) as e:
        docker_client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 3"], remove=True)
    assert e.value.exit_status == 3


def test_create_start_wait_logs(docker_client, cleanup):
    c = docker_client.containers.create("busybox", ["sh", "-c", "echo out; echo err >&2; exit 4"])
    cleanup.append(c)
    c.start()
    assert c.wait(timeout=30)["StatusCode"] == 4
    assert c.logs(stdout=True, stderr=False) == b"out\n"
    assert c.logs(stdout=False, stderr=True) == b"err\n"
    c.reload()
    assert c.status == "exited"


def test_exec_run(docker_client, cleanup):
    c = docker_client.containers.run("busybox", ["sleep", "600"], detach=True)
    cleanup.append(c)
    assert c.exec_run(["echo", "x"]) == (0, b"x\n")
    code, (out, err) = c.exec_run(["sh", "-c", "echo o; echo e >&2; exit 2"], demux=True)
    assert (code, out, err) == (2, b"o\n", b"e\n")
    code, out = c.exec_run(["env"], environment={"ZED": "1"}, workdir="/tmp")
    assert b"ZED=1" in out


def test_attach_socket_stdin(docker_client, cleanup):
    c = docker_client.containers.create("busybox", ["cat"], stdin_open=True)
    cleanup.append(c)
    sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
    c.start()
    raw = sock._sock
    raw.sendall(b"over the socket\n")
    raw.shutdown(1)  # SHUT_WR: stdin EOF
    data = b""
    while True:
        chunk = raw.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert data.endswith(b"over the socket\n")
    assert c.wait(timeout=30)["StatusCode"] == 0


def test_attach_stream(docker_client, cleanup):
    c = docker_client.containers.create("busybox", ["sh", "-c", "sleep 0.5; echo streamed"])
    cleanup.append(c)
    stream = c.attach(stdout=True, stream=True, logs=True)
    c.start()
    assert b"".join(stream) == b"streamed\n"


def test_images_load_save_tag_remove(docker_client, busybox_archive):
    images = docker_client.images.load(busybox_archive.read_bytes())
    assert any("busybox:latest" in i.tags for i in images)
    img = docker_client.images.get("busybox")
    tag = f"pytag{secrets.token_hex(3)}"
    assert img.tag(tag, "v1")
    assert f"{tag}:v1" in docker_client.images.get(f"{tag}:v1").tags
    data = b"".join(docker_client.images.get(f"{tag}:v1").save(named=f"{tag}:v1"))
    assert data[257:262] == b"ustar"
    docker_client.images.remove(f"{tag}:v1")
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(f"{tag}:v1")
    loaded = docker_client.images.load(io.BytesIO(data).read())
    assert any(f"{tag}:v1" in i.tags for i in loaded)
    docker_client.images.remove(f"{tag}:v1")


def test_errors(docker_client, cleanup):
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get("no-such-container")
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get("no-such-image:1")
    c = docker_client.containers.run("busybox", ["sleep", "600"], detach=True)
    cleanup.append(c)
    with pytest.raises(docker.errors.APIError) as e:
        c.remove()
    assert e.value.status_code == 409
    with pytest.raises(docker.errors.APIError) as e:
        docker_client.containers.create("busybox", ["true"], name=c.name)
    assert e.value.status_code == 409


def test_volumes(docker_client):
    name = f"pyvol{secrets.token_hex(3)}"
    v = docker_client.volumes.create(name, labels={"k": "v"})
    assert v.name == name and docker_client.volumes.get(name).attrs["Labels"] == {"k": "v"}
    assert name in [x.name for x in docker_client.volumes.list()]
    v.remove()
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(name)


def test_logs_follow_stream(docker_client, cleanup):
    c = docker_client.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done"],
                                     detach=True)
    cleanup.append(c)
    lines = list(c.logs(stream=True, follow=True))
    assert b"".join(lines) == b"line1\nline2\nline3\n"


def test_stats_top_pause(docker_client, cleanup):
    c = docker_client.containers.run("busybox", ["sleep", "600"], detach=True)
    cleanup.append(c)
    stats = c.stats(stream=False)
    assert "memory_stats" in stats and "cpu_stats" in stats
    assert any("sleep" in " ".join(p) for p in c.top()["Processes"])
    c.pause()
    c.reload()
    assert c.status == "paused"
    c.unpause()
    c.reload()
    assert c.status == "running"


def test_put_and_get_archive(docker_client, cleanup):
    import tarfile

    c = docker_client.containers.run("busybox", ["sleep", "600"], detach=True)
    cleanup.append(c)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("hello.txt")
        info.size = 6
        t.addfile(info, io.BytesIO(b"hello\n"))
    assert c.put_archive("/tmp", buf.getvalue())
    assert c.exec_run(["cat", "/tmp/hello.txt"]).output == b"hello\n"
    chunks, stat = c.get_archive("/tmp/hello.txt")
    assert stat["name"] == "hello.txt" and stat["size"] == 6
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as t:
        assert t.extractfile("hello.txt").read() == b"hello\n"


def test_events_and_df(docker_client):
    import time

    since = time.time()
    docker_client.containers.run("busybox", ["true"], remove=True)
    events = list(docker_client.events(since=since, until=time.time() + 1, decode=True,
                                       filters={"type": "container"}))
    assert {"create", "start", "die", "destroy"} <= {e["Action"] for e in events}
    df = docker_client.df()
    assert any("busybox:latest" in (i.get("RepoTags") or []) for i in df["Images"])
