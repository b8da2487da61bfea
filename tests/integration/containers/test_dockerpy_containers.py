"""docker-py against the container service: archives, stats, exec inspect, attach with logs, volumes."""

import io
import tarfile

import pytest

pytestmark = [pytest.mark.root, pytest.mark.interop]


@pytest.fixture
def box(docker_client):
    c = docker_client.containers.run("busybox", ["sh", "-c", "echo started; sleep 300"], detach=True)
    yield c
    c.remove(force=True, v=True)


def test_put_and_get_archive(box):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"payload"
        ti = tarfile.TarInfo("dir/file.txt")
        ti.size = len(data)
        ti.uid = 1234
        t.addfile(ti, io.BytesIO(data))
    assert box.put_archive("/tmp", buf.getvalue())
    stream, stat = box.get_archive("/tmp/dir/file.txt")
    assert stat["name"] == "file.txt" and stat["size"] == 7
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as t:
        member = t.getmember("file.txt")
        assert t.extractfile(member).read() == b"payload"
        assert member.uid == 0  # chowned to the container's root, as dockerd does without copyUIDGID
    with pytest.raises(Exception, match="Could not find the file"):
        box.get_archive("/no/such")


def test_stats_exec_and_logs(box, docker_client):
    stats = box.stats(stream=False)
    assert stats["id"] == box.id and stats["pids_stats"]["current"] >= 1
    assert stats["memory_stats"]["usage"] > 0
    result = box.exec_run(["sh", "-c", "echo out; echo err >&2; exit 4"], demux=True)
    assert result.exit_code == 4 and result.output == (b"out\n", b"err\n")
    exec_id = docker_client.api.exec_create(box.id, ["true"])["Id"]
    docker_client.api.exec_start(exec_id)
    info = docker_client.api.exec_inspect(exec_id)
    assert info["ExitCode"] == 0 and info["ContainerID"] == box.id and info["ProcessConfig"]["entrypoint"] == "true"
    assert box.attach(stream=False, logs=True) == b"started\n"
    box.reload()
    assert exec_id in box.attrs["ExecIDs"]


def test_wait_and_remove_with_volumes(docker_client):
    c = docker_client.containers.run("busybox", ["sh", "-c", "exit 6"], detach=True, volumes=["/anon"])
    assert c.wait() == {"StatusCode": 6, "Error": None}
    c.reload()
    vol = c.attrs["Mounts"][0]["Name"]
    c.remove(v=True)
    assert vol not in [v.name for v in docker_client.volumes.list()]


def test_volume_api(docker_client):
    v = docker_client.volumes.create("dpy-vol-" + "x" * 4, labels={"team": "a"})
    try:
        assert v.attrs["Driver"] == "local" and v.attrs["Labels"] == {"team": "a"}
        assert [x.name for x in docker_client.volumes.list(filters={"label": "team=a"})] == [v.name]
    finally:
        v.remove()
