import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.containers import mounts
from skiff.engine.containers.mounts import MountPoint


def test_bind_forms():
    m = mounts.parse_bind("/host/dir:/ctr:ro")
    assert (m.type, m.source, m.destination, m.rw, m.mode, m.propagation) == \
        ("bind", "/host/dir", "/ctr", False, "ro", "rprivate")
    assert m.create_source is True
    m = mounts.parse_bind("/h:/c:rshared,Z")
    assert m.propagation == "rshared" and m.rw
    v = mounts.parse_bind("myvol:/data")
    assert (v.type, v.name, v.anonymous) == ("volume", "myvol", False)
    a = mounts.parse_bind("/anon")
    assert a.type == "volume" and a.anonymous and len(a.name) == 64


@pytest.mark.parametrize("bad,msg", [
    ("/h:relative", "mount path must be absolute"),
    ("/h:/", "destination can't be '/'"),
    ("/h:/c:bogus", "invalid mode"),
    ("bad name!:/c", "includes invalid characters for a local volume name"),
    ("a:b:c:d", "invalid volume specification"),
])
def test_bind_errors(bad, msg):
    with pytest.raises(InvalidArgument, match=msg):
        mounts.parse_bind(bad)


def test_mount_api_forms():
    b = mounts.parse_mount({"Type": "bind", "Source": "/h", "Target": "/c", "ReadOnly": True})
    assert b.type == "bind" and not b.rw and b.create_source is False
    v = mounts.parse_mount({"Type": "volume", "Source": "v1", "Target": "/v",
                            "VolumeOptions": {"NoCopy": True, "Labels": {"a": "b"}}})
    assert v.nocopy and v.labels == {"a": "b"}
    t = mounts.parse_mount({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 2048, "Mode": 0o700}})
    assert "size=2k" in t.options and "mode=700" in t.options
    with pytest.raises(InvalidArgument, match="Source must not be empty"):
        mounts.parse_mount({"Type": "bind", "Target": "/c"})
    with pytest.raises(InvalidArgument, match="mount type unknown"):
        mounts.parse_mount({"Type": "npipe", "Target": "/c"})


def test_tmpfs_option_merge():
    m = mounts.parse_tmpfs("/run", "exec,size=64m")
    assert m.options == ["exec", "nosuid", "nodev", "size=64m"]
    assert mounts.merge_tmpfs_options(["size=1m", "size=2m", "ro", "rw"]) == ["size=2m", "rw"]


def test_collect_precedence_and_duplicates():
    hc = {"Binds": ["/h:/data"], "Tmpfs": {"/run": ""}}
    got = mounts.collect(hc, {"/data": {}, "/cache": {}}, [])
    by_dest = {m.destination: m for m in got}
    assert by_dest["/data"].type == "bind"  # an explicit mount replaces the image VOLUME
    assert by_dest["/cache"].anonymous
    assert by_dest["/run"].type == "tmpfs"
    with pytest.raises(InvalidArgument, match="Duplicate mount point: /x"):
        mounts.collect({"Binds": ["/a:/x"], "Mounts": [{"Type": "bind", "Source": "/b", "Target": "/x"}]}, None, [])


def test_volumes_from_modes():
    src = [MountPoint("volume", "/v", source="/s", name="n", rw=True),
           MountPoint("tmpfs", "/t")]
    got = mounts.inherit_mounts(src, "ro")
    assert len(got) == 1 and got[0].rw is False and got[0].name == "n"
    assert mounts.parse_volumes_from("c1:rw") == ("c1", "rw")
    with pytest.raises(InvalidArgument):
        mounts.parse_volumes_from("c1:zz")


def test_mountpoint_docker_shape_and_record_roundtrip():
    m = MountPoint("volume", "/v", source="/s", name="n", mode="z")
    assert m.to_docker() == {"Type": "volume", "Name": "n", "Source": "/s", "Destination": "/v",
                             "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""}
    assert MountPoint.from_record(m.to_record()) == m
