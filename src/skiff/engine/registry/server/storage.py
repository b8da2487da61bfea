"""Filesystem storage of the registry server.

    ROOT/blobs/sha256/<hex>                         blob data, shared by every repository
    ROOT/repositories/<name>/_layers/<hex>          the blob is linked into the repository
    ROOT/repositories/<name>/_manifests/revisions/<hex>   a manifest of the repository (holds its media type)
    ROOT/repositories/<name>/_manifests/tags/<tag>  the digest a tag points at
    ROOT/_uploads/<uuid>/data, .../name             uploads in progress

A blob enters `blobs/` only by renaming a finished upload whose digest was checked, so a
blob that exists is whole; a failed upload is deleted with everything it wrote.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from skiff.common.digest import is_digest
from skiff.engine.registry.server.errors import RegistryError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")


def check_name(name: str) -> str:
    if len(name) > 255 or not NAME_RE.match(name):
        raise RegistryError("NAME_INVALID", {"name": name})
    return name


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass
class Upload:
    id: str
    name: str
    path: Path
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0


class Storage:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.blob_dir = self.root / "blobs" / "sha256"
        self.repo_dir = self.root / "repositories"
        self.upload_dir = self.root / "_uploads"
        for d in (self.blob_dir, self.repo_dir, self.upload_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._uploads: dict[str, Upload] = {}

    # -- blobs ------------------------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        return self.blob_dir / digest[7:]

    def _layer_link(self, name: str, digest: str) -> Path:
        return self.repo_dir / name / "_layers" / digest[7:]

    def blob_in_repo(self, name: str, digest: str) -> Path:
        """The blob's file if it is linked into repository `name`; BLOB_UNKNOWN otherwise."""
        if not is_digest(digest):
            raise RegistryError("DIGEST_INVALID", {"digest": digest}, "invalid digest")
        path = self.blob_path(digest)
        if not path.is_file() or not self._layer_link(name, digest).exists():
            raise RegistryError("BLOB_UNKNOWN", {"digest": digest})
        return path

    def link_blob(self, name: str, digest: str) -> None:
        link = self._layer_link(name, digest)
        if not link.exists():
            _write_atomic(link, b"")

    def mount_blob(self, name: str, digest: str, source: str) -> bool:
        """Cross-repository mount: link a blob `source` has into `name`, without data."""
        try:
            check_name(source)
            self.blob_in_repo(source, digest)
        except RegistryError:
            return False
        self.link_blob(name, digest)
        return True

    def delete_blob(self, name: str, digest: str) -> None:
        self.blob_in_repo(name, digest)
        self._layer_link(name, digest).unlink()
        if not any((d / "_layers" / digest[7:]).exists() for d in self._repo_dirs()):
            self.blob_path(digest).unlink(missing_ok=True)

    # -- uploads ----------------------------------------------------------------------------
    def start_upload(self, name: str) -> Upload:
        up_id = str(uuid.uuid4())
        d = self.upload_dir / up_id
        d.mkdir()
        (d / "name").write_text(name)
        (d / "data").touch()
        up = Upload(up_id, name, d / "data")
        self._uploads[up_id] = up
        return up

    def upload(self, name: str, up_id: str) -> Upload:
        up = self._uploads.get(up_id)
        if up is None:  # started before a restart: rebuild the hash from the data
            d = self.upload_dir / up_id
            try:
                if "/" in up_id or (d / "name").read_text() != name:
                    raise FileNotFoundError
                up = Upload(up_id, name, d / "data")
                with open(up.path, "rb") as f:
                    while chunk := f.read(1 << 20):
                        up.hasher.update(chunk)
                        up.size += len(chunk)
            except (FileNotFoundError, NotADirectoryError):
                raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"uuid": up_id}) from None
            self._uploads[up_id] = up
        if up.name != name:
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"uuid": up_id})
        return up

    @staticmethod
    def append(up: Upload, data: bytes) -> None:
        """Runs in a worker thread: large chunks, file write and hashing release the GIL."""
        with open(up.path, "ab") as f:
            f.write(data)
        up.hasher.update(data)
        up.size += len(data)

    def finish_upload(self, up: Upload, digest: str) -> None:
        """Check the digest and move the data into place; on a mismatch nothing remains."""
        try:
            if not is_digest(digest):
                raise RegistryError("DIGEST_INVALID", {"digest": digest}, "invalid digest")
            got = "sha256:" + up.hasher.hexdigest()
            if got != digest:
                raise RegistryError("DIGEST_INVALID", {"expected": digest, "got": got})
            with open(up.path, "rb") as f:
                os.fsync(f.fileno())
            os.replace(up.path, self.blob_path(digest))
            self.link_blob(up.name, digest)
        finally:
            self.cancel_upload(up)

    def cancel_upload(self, up: Upload) -> None:
        self._uploads.pop(up.id, None)
        shutil.rmtree(self.upload_dir / up.id, ignore_errors=True)

    def put_blob(self, name: str, data: bytes) -> str:
        """A small blob written in one go (manifests)."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        if not path.exists():
            _write_atomic(path, data)
        self.link_blob(name, digest)
        return digest

    # -- manifests and tags -----------------------------------------------------------------
    def _manifests(self, name: str) -> Path:
        return self.repo_dir / name / "_manifests"

    def resolve(self, name: str, reference: str) -> str:
        """A tag or digest → the manifest digest; MANIFEST_UNKNOWN otherwise."""
        if is_digest(reference):
            if (self._manifests(name) / "revisions" / reference[7:]).is_file():
                return reference
        elif TAG_RE.match(reference):
            try:
                return (self._manifests(name) / "tags" / reference).read_text().strip()
            except (FileNotFoundError, NotADirectoryError):
                pass
        else:
            raise RegistryError("TAG_INVALID", {"tag": reference}, "invalid tag")
        raise RegistryError("MANIFEST_UNKNOWN", {"name": name, "reference": reference})

    def manifest(self, name: str, reference: str) -> tuple[str, str, Path]:
        """(digest, media type, blob file) of a manifest by tag or digest."""
        digest = self.resolve(name, reference)
        media_type = (self._manifests(name) / "revisions" / digest[7:]).read_text().strip()
        return digest, media_type, self.blob_path(digest)

    def put_manifest(self, name: str, reference: str, data: bytes, media_type: str) -> str:
        digest = self.put_blob(name, data)
        _write_atomic(self._manifests(name) / "revisions" / digest[7:], media_type.encode())
        if not is_digest(reference):
            _write_atomic(self._manifests(name) / "tags" / reference, digest.encode())
        return digest

    def delete_manifest(self, name: str, reference: str) -> None:
        """By digest: the revision and every tag on it; by tag: that tag only."""
        digest = self.resolve(name, reference)
        tags = self._manifests(name) / "tags"
        if not is_digest(reference):
            (tags / reference).unlink()
            return
        for t in self.tags(name):
            if (tags / t).read_text().strip() == digest:
                (tags / t).unlink()
        (self._manifests(name) / "revisions" / digest[7:]).unlink()

    def tags(self, name: str) -> list[str]:
        if not (self.repo_dir / name / "_manifests").is_dir():
            raise RegistryError("NAME_UNKNOWN", {"name": name})
        try:
            return sorted(os.listdir(self._manifests(name) / "tags"))
        except FileNotFoundError:
            return []

    def _repo_dirs(self) -> list[Path]:
        return [Path(root) for root, dirs, _ in os.walk(self.repo_dir) if "_layers" in dirs or "_manifests" in dirs]

    def catalog(self) -> list[str]:
        """Repositories that hold at least one manifest, sorted."""
        out = []
        for root, dirs, _ in os.walk(self.repo_dir):
            if "_manifests" in dirs:
                out.append(os.path.relpath(root, self.repo_dir))
            dirs[:] = [d for d in dirs if not d.startswith("_")]
        return sorted(out)
