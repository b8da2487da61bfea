"""`skiff cp` in both directions: tar streams to and from /containers/{id}/archive, with docker's
rules for where the copy lands (into an existing directory, or renamed to a new path)."""

from __future__ import annotations

import base64
import json
import os
import sys
import tarfile
import tempfile

from skiff.cli.client import APIError
from skiff.cli.flags import UsageError


class _BodyFile:
    """A read(n) file object over a response body, for tarfile's stream mode."""

    def __init__(self, body):
        self.body = body
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.body.read() if n is None or n < 0 else self.body.read_exact(n)
        self.count += len(data)
        return data


def _path_stat(headers: dict) -> dict:
    raw = headers.get("x-docker-container-path-stat")
    if not raw:
        return {}
    try:
        return json.loads(base64.b64decode(raw))
    except ValueError:
        return {}


def _report(ctx, opts, size: int, dest: str) -> None:
    if not opts.quiet and ctx.err.isatty():
        from skiff.cli.humanize import human_size

        ctx.err.write(f"Successfully copied {human_size(size)} to {dest}\n")


def rebase(name: str, old_top: str, new_top: str) -> str:
    """A tar entry name with its first component old_top replaced by new_top."""
    if name == old_top:
        return new_top
    if name.startswith(old_top + "/"):
        return new_top + name[len(old_top):]
    return name


def copy_from(ctx, container: str, src: str, dst: str, opts) -> int:
    resp = ctx.client.request("GET", f"/containers/{container}/archive", {"path": src})
    stat = _path_stat(resp.headers)
    if dst == "-":
        out = ctx.out.buffer
        while data := resp.body.read_some():
            out.write(data)
        out.flush()
        resp.close()
        return 0
    top = stat.get("name") or os.path.basename(src.rstrip("/")) or "/"
    src_is_dir = bool(int(stat.get("mode", 0)) & (1 << 31))  # Go's os.ModeDir bit
    contents_only = src.endswith("/.")
    if os.path.isdir(dst):
        target_dir, new_top = dst, (None if contents_only else top)
    else:
        if dst.endswith("/"):
            if not src_is_dir:
                raise UsageError(f'destination directory "{dst}" must exist', 1)
        if os.path.exists(dst) and src_is_dir:
            raise UsageError(f'cannot copy a directory to a file: "{dst}"', 1)
        target_dir = os.path.dirname(os.path.abspath(dst.rstrip("/")))
        if not os.path.isdir(target_dir):
            raise UsageError(f'destination directory "{target_dir}" must exist', 1)
        new_top = os.path.basename(dst.rstrip("/"))
    reader = _BodyFile(resp.body)
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                if contents_only and new_top is None:
                    rel = rebase(member.name, top, ".")
                    if rel == ".":
                        continue
                    member.name = rel
                else:
                    member.name = rebase(member.name, top, new_top or top)
                tar.extract(member, target_dir, set_attrs=True, filter="tar")
    finally:
        resp.close()
    _report(ctx, opts, reader.count, dst)
    return 0


def copy_to(ctx, src: str, container: str, dst: str, opts) -> int:
    client = ctx.client
    if src == "-":
        client.request("PUT", f"/containers/{container}/archive", {"path": dst, "noOverwriteDirNonDir": "true"},
                       sys.stdin.buffer, content_type="application/x-tar").json()
        return 0
    if not os.path.lexists(src):
        raise UsageError(f"lstat {os.path.abspath(src)}: no such file or directory", 1)
    src_is_dir = os.path.isdir(src)
    try:
        head = client.request("HEAD", f"/containers/{container}/archive", {"path": dst})
        head.close()
        dst_stat = _path_stat(head.headers)
        dst_exists = True
    except APIError as e:
        if e.status != 404:
            raise
        dst_stat, dst_exists = {}, False
    dst_is_dir = dst_exists and bool(int(dst_stat.get("mode", 0)) & (1 << 31))
    contents_only = src.endswith("/.")
    if dst_exists and dst_is_dir:
        target, arc_top = dst, os.path.basename(os.path.normpath(src))
    else:
        if dst_exists and src_is_dir:
            raise UsageError("cannot copy a directory to a file", 1)
        if not dst_exists and dst.endswith("/") and not src_is_dir:
            raise UsageError(f'destination directory "{dst}" must exist', 1)
        target = os.path.dirname(dst.rstrip("/")) or "/"
        arc_top = os.path.basename(dst.rstrip("/"))
        contents_only = False
    spool = tempfile.TemporaryFile()
    with tarfile.open(fileobj=spool, mode="w", dereference=opts.follow_link) as tar:
        if contents_only:
            for name in sorted(os.listdir(src)):
                tar.add(os.path.join(src, name), arcname=name)
        else:
            tar.add(src, arcname=arc_top)
    size = spool.tell()
    spool.seek(0)
    params = {"path": target, "noOverwriteDirNonDir": "true", "copyUIDGID": "true" if opts.archive else None}
    client.request("PUT", f"/containers/{container}/archive", params, spool.read(),
                   content_type="application/x-tar").json()
    spool.close()
    _report(ctx, opts, size, f"{container}:{dst}")
    return 0
