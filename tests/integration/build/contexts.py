"""Build contexts the build tests share: written into a directory, with the Dockerfile."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

FULL_DOCKERFILE = """\
ARG BASE=busybox
FROM ${BASE} AS builder
ARG GREETING=hello
RUN mkdir -p /out && echo "$GREETING from builder" > /out/msg \\
    && echo "app:x:1234:1234::/home/app:/bin/sh" >> /etc/passwd && echo "app:x:1234:" >> /etc/group
COPY --chown=app:app sub /srv/sub/
ONBUILD RUN echo triggered > /onbuild

FROM builder AS second
RUN test -f /onbuild && cat /onbuild

FROM busybox
MAINTAINER someone@example.com
LABEL org.example.name="the app" version=1.0
ENV APP_HOME=/app PATH=/app/bin:$PATH
ENV LEGACY value with spaces
WORKDIR $APP_HOME
WORKDIR sub
COPY --from=builder /out/msg ./msg
COPY --from=0 /etc/passwd /etc/passwd
ADD t.tar.gz /unpacked/
COPY skip/ /skipped/
COPY link sub/one.txt ./many/
COPY s* /star/
RUN rm -rf /var/www && echo changed > /etc/motd
USER 1234:1234
EXPOSE 8080 9000/udp
VOLUME ["/data", "/logs"]
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=30s --timeout=3s CMD wget -q -O- localhost:8080 || exit 1
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD echo running as $(id -u)
ONBUILD COPY . /ctx
"""

DOCKERIGNORE = "skip\n!skip/keep.txt\n**/*.md\n"


def write_full_context(d: Path) -> Path:
    """A context exercising most instructions, .dockerignore, ADD of a tarball, symlinks."""
    (d / "sub" / "deep").mkdir(parents=True)
    (d / "skip").mkdir()
    (d / "sub" / "one.txt").write_text("one\n")
    (d / "sub" / "deep" / "two.md").write_text("two\n")
    (d / "skip" / "s.txt").write_text("secret\n")
    (d / "skip" / "keep.txt").write_text("keep\n")
    (d / "notes.md").write_text("x")
    (d / "link").symlink_to("sub/one.txt")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("inner/f", b"intar\n"), ("inner/g", b"g\n")):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o640
            tar.addfile(ti, io.BytesIO(data))
    (d / "t.tar.gz").write_bytes(buf.getvalue())
    (d / ".dockerignore").write_text(DOCKERIGNORE)
    (d / "Dockerfile").write_text(FULL_DOCKERFILE)
    return d


def write_context(d: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    return d


def file_tree(client, image: str) -> dict[str, tuple]:
    """What an image holds, as `docker export` shows it: path → (type, mode, uid, gid, size, content)."""
    cid = subprocess.run(["docker", "create", "--network", "none", image, "x"], env=client.env,
                         capture_output=True, check=True).stdout.decode().strip()
    try:
        data = subprocess.run(["docker", "export", cid], env=client.env, capture_output=True, check=True).stdout
    finally:
        subprocess.run(["docker", "rm", cid], env=client.env, capture_output=True)
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar:
            name = m.name.rstrip("/")
            # what every engine adds to each container (the /etc dir for hosts files), not the image's
            if name in (".dockerenv", "etc", "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab") or \
                    name.split("/")[0] in ("dev", "proc", "sys"):
                continue
            f = tar.extractfile(m) if m.isfile() else None
            content = f.read() if f else m.linkname
            out[name] = (m.type, m.mode & 0o7777, m.uid, m.gid, content)
    return out
