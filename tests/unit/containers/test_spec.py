import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.containers import spec
from skiff.engine.containers.caps import ALL_CAPS, DEFAULT_CAPS
from skiff.engine.containers.mounts import MountPoint
from skiff.engine.containers.user import ResolvedUser

CID = "a" * 12 + "b" * 52
IMAGE = {"Entrypoint": ["/entry"], "Cmd": ["img-cmd"], "Env": ["PATH=/img/bin", "A=image", "B=image"],
         "WorkingDir": "/work", "User": "daemon", "Labels": {"l1": "img"}, "Volumes": {"/data": {}},
         "StopSignal": "SIGQUIT", "ExposedPorts": {"80/tcp": {}}}
NO_EP = {"Cmd": ["img-cmd", "arg"]}


def merged(body, image=IMAGE):
    return spec.merge_config({"Image": "x", **body}, image, CID)


@pytest.mark.parametrize("body,image,entrypoint,cmd", [
    ({}, IMAGE, ["/entry"], ["img-cmd"]),
    ({"Cmd": ["run"]}, IMAGE, ["/entry"], ["run"]),
    ({"Entrypoint": ["/other"]}, IMAGE, ["/other"], None),  # a new entrypoint drops the image's Cmd
    ({"Entrypoint": ["/other"], "Cmd": ["x"]}, IMAGE, ["/other"], ["x"]),
    ({"Entrypoint": [""], "Cmd": ["echo", "hi"]}, IMAGE, None, ["echo", "hi"]),  # --entrypoint ""
    ({"Entrypoint": [], "Cmd": None}, IMAGE, None, ["img-cmd"]),  # empty list: image's entrypoint reset, Cmd kept
    ({}, NO_EP, None, ["img-cmd", "arg"]),
    ({"Cmd": "single"}, NO_EP, None, ["single"]),
])
def test_entrypoint_cmd_matrix(body, image, entrypoint, cmd):
    cfg = merged(body, image)
    assert cfg["Entrypoint"] == entrypoint
    assert cfg["Cmd"] == cmd


def test_no_command_is_refused():
    with pytest.raises(InvalidArgument, match="No command specified"):
        merged({}, {})
    with pytest.raises(InvalidArgument, match="No command specified"):
        merged({"Entrypoint": [""]}, {"Cmd": ["x"]})


def test_env_merge_user_over_image_by_key():
    cfg = merged({"Env": ["A=user", "C=user"]})
    assert cfg["Env"] == ["A=user", "C=user", "PATH=/img/bin", "B=image"]


def test_process_env_defaults_and_overrides():
    cfg = merged({"Env": ["A=user"], "Tty": True, "Hostname": "h1"})
    env = spec.process_env(cfg, home="/root")
    assert env[0] == "PATH=/img/bin"  # the image's PATH replaces the default in place
    assert "HOSTNAME=h1" in env and "TERM=xterm" in env and "HOME=/root" in env
    assert env.count("A=user") == 1
    cfg2 = merged({}, NO_EP)
    assert spec.process_env(cfg2)[0] == "PATH=" + spec.DEFAULT_PATH
    assert "TERM=xterm" not in spec.process_env(cfg2)


def test_merge_env_bare_key_removes():
    assert spec.merge_env(["A=1", "B=2"], ["A"]) == ["B=2"]


def test_image_defaults_and_user_values():
    cfg = merged({"Labels": {"l2": "c"}, "WorkingDir": "/mine"})
    assert cfg["WorkingDir"] == "/mine"
    assert cfg["User"] == "daemon"
    assert cfg["StopSignal"] == "SIGQUIT"
    assert cfg["Labels"] == {"l1": "img", "l2": "c"}
    assert cfg["Volumes"] == {"/data": {}}
    assert cfg["ExposedPorts"] == {"80/tcp": {}}
    assert cfg["Hostname"] == CID[:12]


def ctx(**kw):
    base = dict(id=CID, rootfs="/r", cgroups_path="/pfx/" + CID, user=ResolvedUser(1, 2, [3], "/home/u"))
    base.update(kw)
    return spec.SpecContext(**base)


def build(body=None, hc=None, **kw):
    cfg = merged(body or {}, NO_EP)
    return spec.build_spec(cfg, hc or {}, ctx(**kw))


def test_basic_spec_shape():
    s = build({"Hostname": "box", "Domainname": "example.org", "WorkingDir": "/w"})
    p = s["process"]
    assert p["args"] == ["img-cmd", "arg"]
    assert p["cwd"] == "/w"
    assert p["user"] == {"uid": 1, "gid": 2, "additionalGids": [3]}
    assert p["capabilities"]["bounding"] == DEFAULT_CAPS
    assert s["hostname"] == "box" and s["domainname"] == "example.org"
    assert s["root"] == {"path": "/r", "readonly": False}
    assert s["linux"]["cgroupsPath"] == "/pfx/" + CID
    assert "/proc/kcore" in s["linux"]["maskedPaths"]
    assert "/proc/sys" in s["linux"]["readonlyPaths"]
    dests = [m["destination"] for m in s["mounts"]]
    for d in ("/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"):
        assert d in dests


def test_hostname_defaults_to_short_id():
    assert build()["hostname"] == CID[:12]


def test_privileged_gets_everything():
    devs = [{"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}]
    s = build(hc={"Privileged": True}, host_devices=devs)
    assert s["process"]["capabilities"]["effective"] == ALL_CAPS
    assert "maskedPaths" not in s["linux"] and "readonlyPaths" not in s["linux"]
    assert s["linux"]["devices"] == devs
    assert s["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    sysfs = next(m for m in s["mounts"] if m["destination"] == "/sys")
    assert "ro" not in sysfs["options"]


def test_readonly_rootfs_and_nnp():
    s = build(hc={"ReadonlyRootfs": True, "SecurityOpt": ["no-new-privileges"]})
    assert s["root"]["readonly"] is True
    assert s["process"]["noNewPrivileges"] is True


@pytest.mark.parametrize("mode,expect", [
    ("none", {"type": "network"}),
    ("bridge", {"type": "network"}),
    ("default", {"type": "network"}),
    ("host", None),
])
def test_network_namespace_per_mode(mode, expect):
    ns = build(network_mode=mode)["linux"]["namespaces"]
    nets = [n for n in ns if n["type"] == "network"]
    assert nets == ([expect] if expect else [])
    assert {"type": "pid"} in ns and {"type": "mount"} in ns and {"type": "uts"} in ns and {"type": "ipc"} in ns


def test_join_other_containers_netns():
    ns = build(network_mode="container:abc", netns_path="/proc/42/ns/net")["linux"]["namespaces"]
    assert {"type": "network", "path": "/proc/42/ns/net"} in ns


def test_host_pid_and_uts():
    s = build(hc={"PidMode": "host", "UTSMode": "host"})
    types = [n["type"] for n in s["linux"]["namespaces"]]
    assert "pid" not in types and "uts" not in types
    assert "hostname" not in s


def test_user_mounts_and_etc_files():
    mounts = [MountPoint("bind", "/b", source="/host/b", rw=False, propagation="rprivate"),
              MountPoint("tmpfs", "/t", options=["nosuid", "size=1k"]),
              MountPoint("volume", "/etc/hosts", source="/v/_data", name="v")]
    s = build(mounts=mounts, etc_files={"/etc/hosts": "/c/hosts", "/etc/hostname": "/c/hostname"})
    by_dest = {m["destination"]: m for m in s["mounts"]}
    assert by_dest["/b"] == {"destination": "/b", "type": "bind", "source": "/host/b",
                             "options": ["rbind", "rprivate", "ro"]}
    assert by_dest["/t"]["type"] == "tmpfs" and "size=1k" in by_dest["/t"]["options"]
    assert by_dest["/etc/hostname"]["source"] == "/c/hostname"
    # the user's own mount at /etc/hosts wins over the engine's file
    assert by_dest["/etc/hosts"]["source"] == "/v/_data"


def test_init_wraps_args():
    s = build(hc={"Init": True}, init_binary="/bin/skiff-init")
    assert s["process"]["args"][:2] == [spec.INIT_PATH, "--"]
    assert any(m["destination"] == spec.INIT_PATH and m["source"] == "/bin/skiff-init" for m in s["mounts"])


def test_resources_ulimits_sysctls():
    hc = {"Memory": 64 << 20, "NanoCpus": 1_500_000_000, "CpuShares": 512, "PidsLimit": 10,
          "CpusetCpus": "0", "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}],
          "Sysctls": {"net.ipv4.ip_forward": "1"}, "ShmSize": 1 << 20}
    s = build(hc=hc)
    r = s["linux"]["resources"]
    assert r["memory"] == {"limit": 64 << 20, "swap": 128 << 20}
    assert r["cpu"] == {"shares": 512, "period": 100000, "quota": 150000, "cpus": "0"}
    assert r["pids"] == {"limit": 10}
    assert s["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]
    assert s["linux"]["sysctl"] == {"net.ipv4.ip_forward": "1"}
    shm = next(m for m in s["mounts"] if m["destination"] == "/dev/shm")
    assert "size=1048576" in shm["options"]


def test_exec_process_inherits_and_overrides():
    base = build({"Env": ["A=1"]})
    p = spec.exec_process(base, {"Cmd": ["ls"], "Env": ["A=2"], "Tty": True, "WorkingDir": "/x"},
                          ResolvedUser(5, 6))
    assert p["args"] == ["ls"] and p["cwd"] == "/x" and p["terminal"] is True
    assert "A=2" in p["env"] and "A=1" not in p["env"] and "TERM=xterm" in p["env"]
    assert p["user"] == {"uid": 5, "gid": 6}
    priv = spec.exec_process(base, {"Cmd": ["ls"], "Privileged": True}, None)
    assert priv["capabilities"]["bounding"] == ALL_CAPS
    assert priv["user"] == base["process"]["user"]


def test_capabilities_limited_to_what_the_host_allows():
    avail = set(ALL_CAPS) - {"CAP_SYS_RESOURCE"}
    s = build(hc={"Privileged": True}, available_caps=avail)
    assert "CAP_SYS_RESOURCE" not in s["process"]["capabilities"]["bounding"]
    assert len(s["process"]["capabilities"]["bounding"]) == len(ALL_CAPS) - 1


def test_devices_added_with_cgroup_rule():
    dev = {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666, "uid": 0, "gid": 0,
           "access": "rw"}
    s = build(devices=[dev])
    assert s["linux"]["devices"] == [{k: v for k, v in dev.items() if k != "access"}]
    assert s["linux"]["resources"]["devices"][-1] == {"allow": True, "type": "c", "major": 10, "minor": 229,
                                                      "access": "rw"}
    assert "maskedPaths" in s["linux"]
