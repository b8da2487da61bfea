"""Distribution-spec calls on one repository: manifests, blobs, mounts, uploads, tags."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator

import aiohttp

from skiff.common.errors import InvalidArgument, NotFound
from skiff.engine.registry.challenge import scope
from skiff.engine.registry.session import Session, error_from
from skiff.oci import image as oci
from skiff.oci import mediatypes as mt

ACCEPT = ", ".join([mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST, mt.OCI_MANIFEST, mt.OCI_INDEX])
MANIFEST_MAX = 4 << 20


def host_platform() -> tuple[str, str, str]:
    """(os, architecture, variant) of this machine, in OCI terms."""
    machine = os.uname().machine
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "i386": "386"}.get(machine, machine)
    return "linux", arch, "v7" if machine == "armv7l" else ""


def parse_platform(text: str) -> tuple[str, str, str]:
    """`linux/arm64/v8` → ("linux", "arm64", "v8"); empty → this host's platform."""
    if not text:
        return host_platform()
    parts = text.lower().split("/")
    if len(parts) > 3 or not all(parts):
        raise InvalidArgument(f"invalid platform {text!r}: expected os[/arch[/variant]]")
    os_name = parts[0]
    arch = parts[1] if len(parts) > 1 else host_platform()[1]
    return os_name, arch, parts[2] if len(parts) > 2 else ""


def choose_manifest(index: dict, platform: tuple[str, str, str]) -> dict:
    """The index entry for a platform (variant preferred when given); NotFound with Docker's words."""
    os_name, arch, variant = platform
    fits = [d for d in index.get("manifests", [])
            if mt.is_manifest(d.get("mediaType", mt.OCI_MANIFEST)) and (d.get("platform") or {}).get("os") == os_name
            and (d.get("platform") or {}).get("architecture") == arch]
    if variant:
        exact = [d for d in fits if (d.get("platform") or {}).get("variant") == variant]
        fits = exact or fits
    if not fits:
        want = "/".join(p for p in platform if p)
        raise NotFound(f"no matching manifest for {want} in the manifest list entries")
    return fits[0]


async def read_limited(resp: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    """The whole body, refusing one larger than `limit` (a manifest or config, never a layer)."""
    buf = bytearray()
    async for chunk in resp.content.iter_chunked(1 << 16):
        buf += chunk
        if len(buf) > limit:
            resp.release()
            raise InvalidArgument(f"{what} is larger than {limit >> 20} MiB")
    return bytes(buf)


class Repository:
    def __init__(self, session: Session, path: str):
        self.session = session
        self.path = path
        self.pull_scope = scope(path, "pull")
        self.push_scope = scope(path, "pull,push")

    async def manifest(self, reference: str) -> tuple[str, str, bytes]:
        """(digest, media type, bytes) of a manifest or index; the digest is checked when asked by digest."""
        resp = await self.session.request("GET", f"/v2/{self.path}/manifests/{reference}", self.pull_scope,
                                          headers={"Accept": ACCEPT})
        body = await read_limited(resp, MANIFEST_MAX, f"manifest {reference}")
        if resp.status >= 400:
            raise error_from(resp.status, body)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        claimed = reference if reference.startswith("sha256:") else resp.headers.get("Docker-Content-Digest", "")
        if claimed.startswith("sha256:") and digest != claimed:
            raise InvalidArgument(f"manifest verification failed for digest {claimed}")
        media_type = oci.parse_json(body, "manifest").get("mediaType") or \
            resp.headers.get("Content-Type", "").split(";")[0].strip()
        return digest, media_type, body

    async def head_manifest(self, reference: str) -> tuple[str, str, int] | None:
        resp = await self.session.request("HEAD", f"/v2/{self.path}/manifests/{reference}", self.pull_scope,
                                          headers={"Accept": ACCEPT})
        await resp.read()
        if resp.status == 404:
            return None
        if resp.status >= 400:
            raise error_from(resp.status, b"")
        return (resp.headers.get("Docker-Content-Digest", ""), resp.headers.get("Content-Type", ""),
                int(resp.headers.get("Content-Length", 0)))

    async def blob_bytes(self, digest: str, limit: int = 64 << 20) -> bytes:
        """A small blob (a config), verified."""
        resp = await self.session.request("GET", f"/v2/{self.path}/blobs/{digest}", self.pull_scope)
        body = await read_limited(resp, limit, f"blob {digest}")
        if resp.status >= 400:
            raise error_from(resp.status, body)
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise InvalidArgument(f"blob verification failed for digest {digest}")
        return body

    async def open_blob(self, digest: str, offset: int = 0) -> aiohttp.ClientResponse:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        resp = await self.session.request("GET", f"/v2/{self.path}/blobs/{digest}", self.pull_scope, headers=headers)
        if resp.status >= 400 and resp.status != 416:
            raise error_from(resp.status, await resp.read())
        return resp

    async def blob_size(self, digest: str) -> int | None:
        """HEAD: the blob's size if the repository has it, else None."""
        resp = await self.session.request("HEAD", f"/v2/{self.path}/blobs/{digest}", self.push_scope)
        await resp.read()
        if resp.status == 404:
            return None
        if resp.status >= 400:
            raise error_from(resp.status, b"")
        return int(resp.headers.get("Content-Length", 0))

    async def mount(self, digest: str, source_repo: str) -> bool:
        """Cross-repository mount; False when the registry started an upload instead (cancelled)."""
        both = f"{self.push_scope} {scope(source_repo, 'pull')}"
        resp = await self.session.request("POST", f"/v2/{self.path}/blobs/uploads/", both,
                                          params={"mount": digest, "from": source_repo})
        body = await resp.read()
        if resp.status == 201:
            return True
        if resp.status == 202 and resp.headers.get("Location"):
            cancel = await self.session.request("DELETE", resp.headers["Location"], self.push_scope)
            await cancel.read()
            return False
        if resp.status >= 400:
            raise error_from(resp.status, body)
        return False

    async def _start_upload(self) -> str:
        resp = await self.session.request("POST", f"/v2/{self.path}/blobs/uploads/", self.push_scope)
        body = await resp.read()
        if resp.status != 202 or not resp.headers.get("Location"):
            raise error_from(resp.status, body)
        return resp.headers["Location"]

    def _absolute(self, location: str) -> str:
        return location if location.startswith(("http://", "https://")) else self.session.state.base + location

    @staticmethod
    def _with_digest(location: str, digest: str) -> str:
        """The upload URL with `digest=` added; its own query (distribution's `_state`) kept as sent."""
        return location + ("&" if "?" in location else "?") + "digest=" + digest

    async def upload_bytes(self, data: bytes, digest: str) -> None:
        """Monolithic upload: POST, then PUT with the whole blob."""
        location = self._absolute(await self._start_upload())
        resp = await self.session.request("PUT", self._with_digest(location, digest), self.push_scope, data=data,
                                          headers={"Content-Type": "application/octet-stream"})
        body = await resp.read()
        if resp.status != 201:
            raise error_from(resp.status, body)

    async def upload_stream(self, chunks: AsyncIterator[bytes], digest_of) -> str:
        """Chunked upload: one streamed PATCH, then PUT `?digest=` (known once the stream is done)."""
        location = self._absolute(await self._start_upload())
        resp = await self.session.request("PATCH", location, self.push_scope, data=chunks,
                                          headers={"Content-Type": "application/octet-stream"})
        body = await resp.read()
        if resp.status != 202:
            raise error_from(resp.status, body)
        location = self._absolute(resp.headers.get("Location", location))
        digest = digest_of()
        resp = await self.session.request("PUT", self._with_digest(location, digest), self.push_scope)
        body = await resp.read()
        if resp.status != 201:
            raise error_from(resp.status, body)
        return digest

    async def put_manifest(self, reference: str, body: bytes, media_type: str) -> str:
        resp = await self.session.request("PUT", f"/v2/{self.path}/manifests/{reference}", self.push_scope,
                                          data=body, headers={"Content-Type": media_type})
        answer = await resp.read()
        if resp.status not in (200, 201, 202):
            raise error_from(resp.status, answer)
        return resp.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(body).hexdigest()

    async def tags(self) -> list[str]:
        resp = await self.session.request("GET", f"/v2/{self.path}/tags/list", self.pull_scope)
        body = await resp.read()
        if resp.status >= 400:
            raise error_from(resp.status, body)
        return list(oci.parse_json(body, "tag list").get("tags") or [])
