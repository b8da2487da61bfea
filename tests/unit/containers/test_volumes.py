import asyncio

import pytest

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.engine.events import EventBus
from skiff.engine.volumes.filters import matches
from skiff.engine.volumes.service import VolumeService, mount_command


def run(coro):
    return asyncio.run(coro)


def test_create_inspect_list_remove(tmp_path):
    ev = EventBus()
    vs = VolumeService(tmp_path, ev)
    v = run(vs.create("data", labels={"a": "b"}))
    assert v["Name"] == "data" and v["Driver"] == "local" and v["Scope"] == "local"
    assert v["Mountpoint"] == str(tmp_path / "volumes" / "data" / "_data")
    assert v["Labels"] == {"a": "b"}
    assert run(vs.create("data")) == v  # existing name: returned unchanged
    anon = run(vs.create())
    assert len(anon["Name"]) == 64
    names = [x["Name"] for x in run(vs.list())["Volumes"]]
    assert sorted(names) == sorted(["data", anon["Name"]])
    assert run(vs.inspect("data"))["CreatedAt"].endswith("Z")
    run(vs.remove("data"))
    with pytest.raises(NotFound, match="get data: no such volume"):
        run(vs.inspect("data"))
    assert [e.action for e in ev.since(0)] == ["create", "create", "destroy"]


def test_records_reload(tmp_path):
    run(VolumeService(tmp_path).create("keep"))
    assert run(VolumeService(tmp_path).inspect("keep"))["Name"] == "keep"


def test_in_use_and_prune(tmp_path):
    vs = VolumeService(tmp_path)
    run(vs.create("used"))
    run(vs.create("named"))
    anon = vs.create_sync(anonymous=True)["Name"]
    vs.users = lambda name: ["c" * 64] if name == "used" else []
    with pytest.raises(Conflict, match=r"remove used: volume is in use - \[c{64}\]"):
        run(vs.remove("used"))
    assert run(vs.prune())["VolumesDeleted"] == [anon]  # only anonymous ones by default
    assert run(vs.prune({"all": ["true"]}))["VolumesDeleted"] == ["named"]
    assert [v["Name"] for v in run(vs.list({"dangling": ["false"]}))["Volumes"]] == ["used"]


def test_bad_names_and_options(tmp_path):
    vs = VolumeService(tmp_path)
    with pytest.raises(InvalidArgument, match="includes invalid characters"):
        run(vs.create("bad/name"))
    with pytest.raises(InvalidArgument, match="invalid option key"):
        run(vs.create("xx", driver_opts={"bogus": "1"}))
    with pytest.raises(NotFound, match="plugin \"nfsx\" not found"):
        run(vs.create("xx", driver="nfsx"))


def test_filters():
    rec = {"Name": "web-data", "Driver": "local", "Labels": {"env": "prod"}}
    assert matches(rec, {"name": ["web"]}, False)
    assert not matches(rec, {"name": ["db"]}, False)
    assert matches(rec, {"label": ["env=prod"]}, False) and not matches(rec, {"label": ["env=dev"]}, False)
    assert matches(rec, {"dangling": ["true"]}, False) and not matches(rec, {"dangling": ["true"]}, True)
    with pytest.raises(InvalidArgument):
        matches(rec, {"color": ["x"]}, False)


def test_mount_commands():
    assert mount_command({"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, "/t") == \
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", "/t"]
    assert mount_command({"type": "none", "device": "/src", "o": "bind"}, "/t") == ["mount", "--bind", "/src", "/t"]


def test_usage_data(tmp_path):
    vs = VolumeService(tmp_path)
    run(vs.create("sized"))
    (tmp_path / "volumes" / "sized" / "_data" / "f").write_bytes(b"x" * 10)
    vs.users = lambda name: ["c1"]
    v = run(vs.list(usage=True))["Volumes"][0]
    assert v["UsageData"] == {"RefCount": 1, "Size": 10}
    assert "UsageData" not in run(vs.list())["Volumes"][0]
