"""OCI bundles for runtime tests: a busybox rootfs and a spec shaped like Docker's."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

from tests.support.busybox import layer_tar

DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]
MASKED = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"]
# Docker's default device cgroup rules: deny everything, then the usual nodes.
DEVICE_RULES = [{"allow": False, "access": "rwm"}] + [
    {"allow": True, "type": t, "major": -1 if ma is None else ma, "minor": -1 if mi is None else mi, "access": acc}
    for t, ma, mi, acc in [("c", None, None, "m"), ("b", None, None, "m"), ("c", 1, 3, "rwm"), ("c", 1, 5, "rwm"),
                           ("c", 1, 7, "rwm"), ("c", 1, 8, "rwm"), ("c", 1, 9, "rwm"), ("c", 5, 0, "rwm"),
                           ("c", 5, 1, "rwm"), ("c", 5, 2, "rwm"), ("c", 136, None, "rwm"), ("c", 10, 200, "rwm")]
]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

_LAYER: bytes | None = None


def extract_rootfs(dest: Path) -> Path:
    global _LAYER
    if _LAYER is None:
        _LAYER = layer_tar()
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(_LAYER)) as tar:
        tar.extractall(dest, filter="fully_trusted")
    return dest


def spec(args: list[str], *, hostname: str = "skiff-test", terminal: bool = False, uid: int = 0, gid: int = 0,
         env: list[str] | None = None, cwd: str = "/", readonly: bool = False, resources: dict | None = None,
         namespaces: list[str] | None = None, cgroups_path: str = "", mounts: list[dict] | None = None,
         caps: list[str] | None = None) -> dict[str, Any]:
    caps = DEFAULT_CAPS if caps is None else caps
    ns = namespaces if namespaces is not None else ["pid", "network", "ipc", "uts", "mount"]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": terminal,
            "user": {"uid": uid, "gid": gid},
            "args": args,
            "env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + hostname],
            "cwd": cwd,
            "capabilities": {k: list(caps) for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024}],
            "noNewPrivileges": False,
        },
        "root": {"path": "rootfs", "readonly": readonly},
        "hostname": hostname,
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]},
        ] + list(mounts or []),
        "linux": {
            "resources": dict(resources or {}, devices=DEVICE_RULES),
            "cgroupsPath": cgroups_path,
            "namespaces": [{"type": t} for t in ns],
            "maskedPaths": MASKED,
            "readonlyPaths": READONLY,
        },
    }


def write_bundle(dir: Path, config: dict[str, Any], rootfs: Path | None = None) -> Path:
    """A bundle at dir with config.json; rootfs extracted fresh unless one is given (then symlinked)."""
    dir.mkdir(parents=True, exist_ok=True)
    if rootfs is None:
        extract_rootfs(dir / "rootfs")
    else:
        config = dict(config, root=dict(config["root"], path=str(rootfs)))
    (dir / "config.json").write_text(json.dumps(config))
    os.chmod(dir, 0o755)
    return dir
