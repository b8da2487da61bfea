"""The build context: the client's tarball (plain, gzip, bzip2 or xz) unpacked into a private
directory, `.dockerignore` applied, and COPY/ADD sources resolved inside it."""

from __future__ import annotations

import bz2
import fnmatch
import gzip
import lzma
import os
import posixpath
import shutil
import tarfile
from typing import BinaryIO

from skiff.common.errors import InvalidArgument, NotFound
from skiff.engine.build.dockerignore import Matcher, read_patterns


def _decompressed(f: BinaryIO) -> BinaryIO:
    head = f.read(6)
    f.seek(0)
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=f)  # type: ignore[return-value]
    if head.startswith(b"BZh"):
        return bz2.BZ2File(f)  # type: ignore[return-value]
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(f)  # type: ignore[return-value]
    return f


def unpack_context(f: BinaryIO, dest: str) -> None:
    """Unpack the context tar into `dest`; InvalidArgument if it is not a tar or leaves `dest`."""
    os.makedirs(dest, exist_ok=True)
    stream = _decompressed(f)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                name = posixpath.normpath("/" + member.name).lstrip("/")
                if not name or name == ".":
                    continue
                member.name = name
                if member.islnk():
                    member.linkname = posixpath.normpath("/" + member.linkname).lstrip("/")
                member.uid = member.gid = 0  # the context is read as root; owners do not travel
                tar.extract(member, dest, set_attrs=True, filter="tar")
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError, ValueError) as e:
        if isinstance(e, OSError) and not isinstance(e, (EOFError, gzip.BadGzipFile)) and e.errno:
            raise
        raise InvalidArgument(f"failed to read the build context: not a valid tar archive ({e})") from None


def apply_dockerignore(root: str, dockerfile: str) -> None:
    """Remove what `.dockerignore` excludes (the Dockerfile and .dockerignore are always kept)."""
    path = os.path.join(root, ".dockerignore")
    if not os.path.isfile(path):
        return
    with open(path, errors="replace") as fh:
        matcher = Matcher(read_patterns(fh.read()))
    if not matcher.patterns:
        return
    keep = {posixpath.normpath(dockerfile), ".dockerignore"}
    for dirpath, dirnames, filenames in os.walk(root, topdown=True):
        rel_dir = os.path.relpath(dirpath, root)
        for name in list(dirnames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if matcher.excluded(rel) and not matcher.may_hold_exceptions(rel):
                shutil.rmtree(os.path.join(dirpath, name), ignore_errors=True)
                dirnames.remove(name)
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel not in keep and matcher.excluded(rel):
                os.unlink(os.path.join(dirpath, name))


def read_dockerfile(root: str, name: str) -> str:
    name = name or "Dockerfile"
    path = os.path.join(root, posixpath.normpath("/" + name).lstrip("/"))
    if not os.path.isfile(path) and name == "Dockerfile" and os.path.isfile(os.path.join(root, "dockerfile")):
        path = os.path.join(root, "dockerfile")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        raise InvalidArgument(f"Cannot locate specified Dockerfile: {name}") from None


def _inside(root: str, rel: str) -> str:
    """`rel` under root with symlinks followed but never leaving it."""
    from skiff.engine.containers.hostfs import secure_join
    return secure_join(root, rel)


def resolve_sources(root: str, src: str, instruction: str) -> list[tuple[str, str]]:
    """(host path, context-relative path) for one COPY/ADD source, wildcards expanded."""
    clean = posixpath.normpath(src)
    if clean == ".." or clean.startswith("../") or (src.startswith("/") and clean.startswith("/..")):
        raise InvalidArgument(f"{instruction} failed: forbidden path outside the build context: {src} ()")
    rel = clean.lstrip("/")
    if any(c in rel for c in "*?["):
        hits = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                cand = os.path.relpath(os.path.join(dirpath, name), root)
                if fnmatch.fnmatchcase(cand, rel):
                    hits.append((os.path.join(root, cand), cand))
        if not hits:
            raise NotFound(f"{instruction} failed: no source files were specified")
        return hits
    path = _inside(root, rel) if rel not in ("", ".") else root
    if not os.path.lexists(path):
        raise NotFound(f"{instruction} failed: file not found in build context or excluded by .dockerignore: "
                       f"stat {src}: file does not exist")
    return [(path, rel or ".")]
