"""`kubectl cp`: files and directories into and out of a container, as tar streams over exec
(the container needs `tar`, as with kubectl)."""

from __future__ import annotations

import io
import os
import posixpath
import sys
import tarfile
from urllib.parse import quote

from skiff.cli.kubectl import options
from skiff.cli.kubectl.podtarget import default_container
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Copy files and directories to and from containers.

Examples:
  kubectl cp /tmp/foo_dir some-pod:/tmp/bar_dir
  kubectl cp /tmp/foo some-pod:/tmp/bar -c specific-container
  kubectl cp /tmp/foo some-namespace/some-pod:/tmp/bar
  kubectl cp some-namespace/some-pod:/tmp/foo /tmp/bar"""


def parse_spec(text: str) -> tuple[str, str, str] | None:
    """(namespace, pod, path) for `[NAMESPACE/]POD:PATH`, None for a local path."""
    if ":" not in text or text.startswith(("/", ".")):
        return None
    where, path = text.split(":", 1)
    ns, _, pod = where.rpartition("/")
    return ns, pod, path


def pack(local: str, arcname: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(local, arcname=arcname)
    return buf.getvalue()


def unpack(data: bytes, prefix: str, dest: str) -> None:
    """Extract the entries under `prefix`, renamed to `dest` (refusing paths that leave it)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            rel = posixpath.relpath(member.name, prefix)
            if rel.startswith("..") or posixpath.isabs(rel):
                sys.stderr.write(f'warning: file "{member.name}" is outside target destination, skipping\n')
                continue
            member.name = dest if rel == "." else os.path.join(dest, rel)
            tar.extract(member, path="/" if os.path.isabs(dest) else ".", filter="tar")


def run(word: str, argv: list[str]) -> int:
    p = options.parser("cp", HELP, usage="kubectl cp <file-spec-src> <file-spec-dest> [options]")
    p.add_argument("src")
    p.add_argument("dest")
    p.add_argument("-c", "--container", default="", help="Container name. If omitted, the first container")
    opts = p.parse_intermixed_args(argv)
    src, dest = parse_spec(opts.src), parse_spec(opts.dest)
    if (src is None) == (dest is None):
        raise CommandError("one of src or dest must be a local file specification" if src else
                           "one of src or dest must be a remote file specification")
    remote = src or dest
    assert remote is not None
    ns, pod_name, path = remote
    if not path:
        raise CommandError("filepath can not be empty")
    session = Session(opts)
    pods = session.resource("pods")
    namespace = ns or session.namespace
    pod = session.client.get(pods, pod_name, namespace)
    container = opts.container or default_container(pod)
    from skiff.cli.kubectl.wsstream import run_stream
    from skiff.cluster.client.paths import path_for, with_query

    def exec_path(command: list[str], stdin: bool) -> str:
        base = with_query(path_for(pods, namespace, pod_name, "exec"),
                          {"container": container, "stdin": stdin or None, "stdout": True, "stderr": True})
        return base + "".join("&command=" + quote(a, safe="") for a in command)

    if dest is not None:  # local → pod
        if not os.path.exists(opts.src):
            raise CommandError(f"{opts.src} doesn't exist in local filesystem")
        target_dir, name = posixpath.split(path.rstrip("/") or "/")
        data = pack(opts.src, name)
        return run_stream(session, exec_path(["tar", "-xmf", "-", "-C", target_dir or "/"], True), True, False,
                          given=data)
    parent, name = posixpath.split(path.rstrip("/") or "/")
    out = io.BytesIO()
    code = run_stream(session, exec_path(["tar", "cf", "-", "-C", parent or "/", name], False), False, False,
                      out=out)
    if code == 0:
        unpack(out.getvalue(), name, opts.dest)
    return code
