"""Pod volumes on the node: emptyDir (Memory medium as a tmpfs), hostPath with type checks,
configMap, secret, downwardAPI and projected (with serviceAccountToken) as files written atomically (refreshed on each sync,
so updates to the objects reach running pods), and the binds of each container's volumeMounts.

Layout: `<data-dir>/pods/<uid>/volumes/<plugin>/<name>`, as the kubelet's
`/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>`.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

from skiff.cluster.apimachinery.quantity import parse_quantity
from skiff.cluster.client.errors import StatusError
from skiff.cluster.kubelet.env import ConfigError, field_value, resource_value

DEFAULT_MODE = 0o644
TOKEN_DEFAULT_SECONDS = 3600  # a serviceAccountToken projection's expirationSeconds default


class VolumeError(Exception):
    """A volume cannot be set up (a FailedMount event; the pod waits)."""


# ---- pure: what files a volume holds -------------------------------------------------------
def _items(data: dict[str, bytes], items: list[dict] | None, default_mode: int, kind: str, name: str,
           optional: bool) -> dict[str, tuple[bytes, int]]:
    if not items:
        return {k: (v, default_mode) for k, v in data.items()}
    out = {}
    for it in items:
        key = it.get("key", "")
        if key not in data:
            if optional:
                continue
            raise VolumeError(f'configmap references non-existent config key: {key}' if kind == "configmap"
                              else f'references non-existent secret key: {key}')
        out[it.get("path", key)] = (data[key], it.get("mode", default_mode))
    return out


def object_files(kind: str, obj: dict | None, ref: dict, default_mode: int) -> dict[str, tuple[bytes, int]]:
    """Files of a configMap or secret volume source (or projection); `obj` None when missing."""
    name = ref.get("name") if kind == "configmap" else ref.get("secretName", ref.get("name"))
    optional = bool(ref.get("optional"))
    if obj is None:
        if optional:
            return {}
        raise VolumeError(f'configmap "{name}" not found' if kind == "configmap" else f'secret "{name}" not found')
    if kind == "configmap":
        data = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    else:
        data = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    return _items(data, ref.get("items"), ref.get("defaultMode", default_mode), kind, name or "", optional)


def downward_files(src: dict, pod: dict, host_ip: str, pod_ip: str, default_mode: int,
                   allocatable: dict[str, str]) -> dict[str, tuple[bytes, int]]:
    out = {}
    containers = {c["name"]: c for c in (pod.get("spec") or {}).get("containers") or []}
    for it in src.get("items") or []:
        mode = it.get("mode", default_mode)
        try:
            if "fieldRef" in it:
                value = field_value(it["fieldRef"].get("fieldPath", ""), pod, host_ip, pod_ip)
            else:
                ref = it.get("resourceFieldRef") or {}
                container: dict = containers.get(ref.get("containerName", "")) or next(iter(containers.values()), {})
                value = resource_value(ref, container, allocatable)
        except ConfigError as e:
            raise VolumeError(str(e)) from None
        out[it.get("path", "")] = (value.encode(), mode)
    return out


def plugin_of(volume: dict) -> str:
    for key in ("emptyDir", "hostPath", "configMap", "secret", "downwardAPI", "projected",
                "persistentVolumeClaim"):
        if key in volume:
            return key
    return ""


_HOSTPATH_CHECKS = {"Directory": (stat.S_ISDIR, "is not a directory"),
                    "File": (stat.S_ISREG, "is not a file"), "Socket": (stat.S_ISSOCK, "is not a socket"),
                    "CharDevice": (stat.S_ISCHR, "is not a character device"),
                    "BlockDevice": (stat.S_ISBLK, "is not a block device")}


def check_host_path(path: str, kind: str) -> None:
    """hostPath's `type`: create the OrCreate kinds, check the others, as the kubelet does."""
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
        kind = "Directory"
    elif kind == "FileOrCreate":
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
            Path(path).touch(0o644)
        kind = "File"
    if not kind:
        return
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if kind == "Directory":
            raise VolumeError(f"hostPath type check failed: {path} is not a directory") from None
        raise VolumeError(f"hostPath type check failed: {path} does not exist") from None
    check = _HOSTPATH_CHECKS.get(kind)
    if check and not check[0](mode):
        raise VolumeError(f"hostPath type check failed: {path} {check[1]}")


def write_files(target: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """Replace the directory's contents atomically: a new timestamped dir, then one rename of the
    `..data` link, with top-level links into it (the kubelet's AtomicWriter layout)."""
    target.mkdir(parents=True, exist_ok=True)
    data_link = target / "..data"
    current = os.readlink(data_link) if data_link.is_symlink() else None
    if current is not None and _same(target / current, files):
        return
    fresh = target / f"..{os.urandom(6).hex()}"
    fresh.mkdir(mode=0o755)
    for rel, (content, mode) in files.items():
        path = fresh / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.chmod(path, mode)
    tmp = target / "..data_tmp"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(fresh.name, tmp)
    os.replace(tmp, data_link)
    for top in {rel.split("/", 1)[0] for rel in files}:
        link = target / top
        if not link.is_symlink():
            os.symlink(f"..data/{top}", link)
    for entry in target.iterdir():
        if entry.is_symlink() and entry.name not in ("..data",) and not entry.exists():
            entry.unlink()  # a key that went away
    if current is not None:
        shutil.rmtree(target / current, ignore_errors=True)


def _same(directory: Path, files: dict[str, tuple[bytes, int]]) -> bool:
    try:
        have = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
        if have != set(files):
            return False
        return all((directory / rel).read_bytes() == content and
                   stat.S_IMODE(os.stat(directory / rel).st_mode) == mode for rel, (content, mode) in files.items())
    except OSError:
        return False


class VolumeManager:
    def __init__(self, kubelet: Any, root: Path):
        self.kl = kubelet
        self.root = root  # <data-dir>/pods
        self.tokens: dict[tuple[str, str, str, int], tuple[str, float]] = {}  # → (token, renew after)

    def pod_dir(self, uid: str) -> Path:
        return self.root / uid

    async def setup(self, pod: dict) -> dict[str, str]:
        """Volume name → host path, every volume ready (and content refreshed)."""
        out = {}
        for v in (pod.get("spec") or {}).get("volumes") or []:
            out[v["name"]] = await self._one(pod, v)
        return out

    async def _one(self, pod: dict, v: dict) -> str:
        uid = pod["metadata"]["uid"]
        ns = pod["metadata"].get("namespace", "default")
        plugin = plugin_of(v)
        base = self.pod_dir(uid) / "volumes" / f"kubernetes.io~{plugin.lower()}" / v["name"]
        src = v.get(plugin) or {}
        if plugin == "hostPath":
            await asyncio.to_thread(check_host_path, src.get("path", ""), src.get("type", ""))
            return src.get("path", "")
        if plugin == "emptyDir":
            if not base.exists():
                base.mkdir(parents=True, mode=0o777)
                os.chmod(base, 0o777)
                if src.get("medium") == "Memory":
                    size = src.get("sizeLimit")
                    opts = f"size={math.ceil(parse_quantity(size))}" if size else "size=50%"
                    r = await asyncio.to_thread(subprocess.run, ["mount", "-t", "tmpfs", "-o", f"{opts},mode=1777",
                                                                 "tmpfs", str(base)], capture_output=True, text=True)
                    if r.returncode != 0:
                        raise VolumeError(f"MountVolume.SetUp failed for volume \"{v['name']}\": {r.stderr.strip()}")
            return str(base)
        if plugin == "persistentVolumeClaim":
            return await self._claim(ns, src)
        files = await self._files(pod, plugin, src)
        await asyncio.to_thread(write_files, base, files)
        return str(base)

    async def _files(self, pod: dict, plugin: str, src: dict) -> dict[str, tuple[bytes, int]]:
        ns = pod["metadata"].get("namespace", "default")
        default_mode = src.get("defaultMode", DEFAULT_MODE)
        if plugin == "configMap":
            return object_files("configmap", await self.kl.get_object("configmaps", ns, src.get("name", "")), src,
                                default_mode)
        if plugin == "secret":
            return object_files("secret", await self.kl.get_object("secrets", ns, src.get("secretName", "")), src,
                                default_mode)
        if plugin == "downwardAPI":
            return downward_files(src, pod, self.kl.host_ip, "", default_mode, self.kl.allocatable)
        if plugin == "projected":
            out: dict[str, tuple[bytes, int]] = {}
            for s in src.get("sources") or []:
                if "configMap" in s:
                    ref = {**s["configMap"], "defaultMode": default_mode}
                    out.update(await self._files(pod, "configMap", ref))
                elif "secret" in s:
                    ref = {**s["secret"], "secretName": s["secret"].get("name", ""), "defaultMode": default_mode}
                    out.update(await self._files(pod, "secret", ref))
                elif "downwardAPI" in s:
                    out.update(downward_files(s["downwardAPI"], pod, self.kl.host_ip, "", default_mode,
                                              self.kl.allocatable))
                elif "serviceAccountToken" in s:
                    token = await self._token(pod, s["serviceAccountToken"])
                    out[s["serviceAccountToken"].get("path", "token")] = (token.encode(), default_mode)
            return out
        raise VolumeError(f"volume plugin {plugin or 'unknown'} is not supported by this node")

    async def _token(self, pod: dict, src: dict) -> str:
        """A TokenRequest for the pod's service account, bound to the pod; kept until 80% of its
        lifetime has passed, then renewed (the kubelet's token manager), so each sync does not ask."""
        meta = pod["metadata"]
        account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
        seconds = int(src.get("expirationSeconds") or TOKEN_DEFAULT_SECONDS)
        key = (meta["uid"], account, src.get("audience", ""), seconds)
        loop_now = asyncio.get_running_loop().time()
        cached = self.tokens.get(key)
        if cached is not None and loop_now < cached[1]:
            return cached[0]
        spec: dict[str, Any] = {"expirationSeconds": seconds,
                                "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": meta["name"],
                                                   "uid": meta["uid"]}}
        if src.get("audience"):
            spec["audiences"] = [src["audience"]]
        path = f"/api/v1/namespaces/{meta.get('namespace', 'default')}/serviceaccounts/{account}/token"
        try:
            answer = await self.kl.client.create(path, {"apiVersion": "authentication.k8s.io/v1",
                                                        "kind": "TokenRequest", "spec": spec})
        except StatusError as e:
            raise VolumeError(f"failed to fetch token: {e}") from None
        token = (answer.get("status") or {}).get("token", "")
        self.tokens[key] = (token, loop_now + 0.8 * seconds)
        return token

    async def _claim(self, ns: str, src: dict) -> str:
        claim = await self.kl.get_object("persistentvolumeclaims", ns, src.get("claimName", ""))
        if claim is None:
            raise VolumeError(f'persistentvolumeclaim "{src.get("claimName", "")}" not found')
        pv_name = (claim.get("spec") or {}).get("volumeName")
        if not pv_name:
            raise VolumeError(f'persistentvolumeclaim "{src.get("claimName", "")}" is not bound')
        pv = await self.kl.get_object("persistentvolumes", "", pv_name)
        spec = (pv or {}).get("spec") or {}
        path = (spec.get("hostPath") or {}).get("path") or (spec.get("local") or {}).get("path")
        if not path:
            raise VolumeError(f'persistentvolume "{pv_name}" is neither hostPath nor local')
        await asyncio.to_thread(check_host_path, path, (spec.get("hostPath") or {}).get("type", ""))
        return path

    def binds_for(self, pod: dict, container: dict, paths: dict[str, str]) -> list[str]:
        binds = []
        for m in container.get("volumeMounts") or []:
            name = m.get("name", "")
            if name not in paths:
                raise VolumeError(f"cannot find volume \"{name}\" to mount into container \"{container['name']}\"")
            source = paths[name]
            if m.get("subPath"):
                source = os.path.join(source, m["subPath"])
                if not os.path.exists(source):
                    os.makedirs(source, exist_ok=True)
            binds.append(f"{source}:{m['mountPath']}{':ro' if m.get('readOnly') else ''}")
        return binds

    async def teardown(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        self.tokens = {k: v for k, v in self.tokens.items() if k[0] != uid}
        d = self.pod_dir(uid)
        empty = d / "volumes" / "kubernetes.io~emptydir"
        if empty.exists():
            for v in empty.iterdir():
                if os.path.ismount(v):
                    await asyncio.to_thread(subprocess.run, ["umount", "-l", str(v)], capture_output=True)
        await asyncio.to_thread(shutil.rmtree, d, True)
