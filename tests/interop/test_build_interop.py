"""The same Dockerfiles built by skiff and by Debian's dockerd (classic builder, DOCKER_BUILDKIT=0)
give images whose configs and file trees agree, and bad Dockerfiles fail the same way."""

import json
import subprocess

import pytest

from tests.integration.build.contexts import file_tree, write_context, write_full_context
from tests.support.procs import ok

pytestmark = [pytest.mark.interop, pytest.mark.root, pytest.mark.slow]

CONFIG_FIELDS = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "OnBuild",
                 "StopSignal", "Healthcheck", "Shell", "ArgsEscaped")


def classic_build(client, *args: str) -> subprocess.CompletedProcess:
    env = {**client.env, "DOCKER_BUILDKIT": "0"}
    return subprocess.run(["docker", "build", *args], env=env, capture_output=True, timeout=300)


def config(client, ref: str) -> dict:
    return json.loads(ok(client.docker("image", "inspect", ref)))[0]


def build_both(engine, dockerd, tag: str, *args: str) -> tuple[dict, dict]:
    for client in (engine, dockerd):
        ok(classic_build(client, "-t", tag, *args))
    return config(engine, tag), config(dockerd, tag)


def assert_same_image(engine, dockerd, tag: str, ours: dict, theirs: dict) -> None:
    for key in CONFIG_FIELDS:
        assert ours["Config"].get(key) == theirs["Config"].get(key), key
    assert ours["Author"] == theirs["Author"]
    mine, ref = file_tree(engine, tag), file_tree(dockerd, tag)
    assert sorted(mine) == sorted(ref)
    different = {k: (mine[k], ref[k]) for k in mine if mine[k] != ref[k]}
    assert not different


@pytest.fixture(autouse=True)
def cleanup_tags(engine, dockerd):
    """The test's tags, then whatever the builds left dangling, go from both engines."""
    tags: list[str] = []
    yield tags
    for client in (engine, dockerd):
        if tags:
            client.docker("rmi", "-f", *tags)
        client.docker("image", "prune", "-f")


def test_multi_stage_build_agrees_with_dockerd(engine, dockerd, tmp_path, cleanup_tags):
    ctx = write_full_context(tmp_path / "ctx")
    tag = "skbuild-full:1"
    cleanup_tags.append(tag)
    ours, theirs = build_both(engine, dockerd, tag, "--build-arg", "GREETING=hi", "--label", "built=both", str(ctx))
    assert ours["Config"]["Labels"] == {"org.example.name": "the app", "version": "1.0", "built": "both"}
    assert_same_image(engine, dockerd, tag, ours, theirs)


def test_scratch_and_forms_agree_with_dockerd(engine, dockerd, tmp_path, cleanup_tags):
    ctx = write_context(tmp_path / "ctx", """\
FROM scratch
COPY a.txt dir/ /
ENV A=1
ENTRYPOINT /a.txt arg
""", {"a.txt": "a\\n", "dir/b.txt": "b\\n"})
    tag = "skbuild-scratch:1"
    cleanup_tags.append(tag)
    ours, theirs = build_both(engine, dockerd, tag, str(ctx))
    assert_same_image(engine, dockerd, tag, ours, theirs)

    ctx2 = write_context(tmp_path / "ctx2", """\
FROM busybox
ARG WHO=world
ARG A=1 B=${A}x
ENV GREETING="hello ${WHO}" EMPTY=${UNSET:-fallback} ALT=${WHO:+set} FROM_ARGS=$A$B
CMD ["echo", "$GREETING"]
ENTRYPOINT ["/bin/echo"]
WORKDIR /new/dir
WORKDIR ../other
RUN pwd > /pwd && echo "$WHO" > /who
""")
    tag2 = "skbuild-forms:1"
    cleanup_tags.append(tag2)
    ours, theirs = build_both(engine, dockerd, tag2, "--build-arg", "WHO=you", str(ctx2))
    assert_same_image(engine, dockerd, tag2, ours, theirs)


@pytest.mark.parametrize(("dockerfile", "files", "needle"), [
    ("FROM busybox\nRUN true\nFORM x\n", {}, "unknown instruction: FORM"),
    ("FROM busybox\nRUN echo out; exit 3\n", {}, "returned a non-zero code: 3"),
    ("FROM busybox\nCOPY nope /x\n", {}, "COPY failed: file not found in build context"),
    ("FROM busybox\nCOPY ../x /x\n", {}, "COPY failed: forbidden path outside the build context: ../x"),
])
def test_bad_dockerfiles_fail_like_dockerd(engine, dockerd, tmp_path, dockerfile, files, needle):
    ctx = write_context(tmp_path / "ctx", dockerfile, files)
    ours, theirs = classic_build(engine, str(ctx)), classic_build(dockerd, str(ctx))
    assert ours.returncode == theirs.returncode != 0
    assert needle in ours.stderr.decode() + ours.stdout.decode()
    assert needle in theirs.stderr.decode() + theirs.stdout.decode()
    if "exit 3" in dockerfile:
        assert "out" in ours.stdout.decode()  # the failing step's output is streamed first


def test_escape_directive_ignore_patterns_and_archives_agree_with_dockerd(engine, dockerd, tmp_path, cleanup_tags):
    import io
    import lzma
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("pkg/bin/tool", b"#!/bin/sh\necho tool\n"), ("pkg/README", b"r\n")):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o755
            tar.addfile(ti, io.BytesIO(data))
    ctx = write_context(tmp_path / "ctx", """\
# escape=`
FROM busybox
ENV A=1 `
    B="with `$dollar" C=${A:+yes} D=${UNSET:-no}
LABEL "com.example.multi word"="a b" plain=1
EXPOSE 7000-7002/udp 80
ADD pkg.tar.xz /opt/
COPY --chown=1000:1000 src/ /src/
VOLUME /var/lib/a /var/lib/b
WORKDIR /src/nested/deeper
USER nobody
HEALTHCHECK NONE
""", {"src/keep.py": "k\\n", "src/cache/x.pyc": "c", "src/a/b/c.pyc": "c", "src/notes.txt": "n\\n",
      ".dockerignore": "**/*.pyc\\nsrc/cache\\n"})
    (ctx / "pkg.tar.xz").write_bytes(lzma.compress(buf.getvalue()))
    tag = "skbuild-escape:1"
    cleanup_tags.append(tag)
    ours, theirs = build_both(engine, dockerd, tag, str(ctx))
    assert ours["Config"]["Env"][1:] == ["A=1", "B=with $dollar", "C=", "D=no"]  # one ENV: pairs do not see each other
    assert_same_image(engine, dockerd, tag, ours, theirs)


METADATA_CASES = {
    "cmd-then-entrypoint": 'FROM busybox\nCMD echo hi\nENTRYPOINT ["x"]\n',
    "entrypoint-resets-cmd": 'FROM busybox\nENTRYPOINT ["echo"]\n',
    "workdir-relative": "FROM busybox\nWORKDIR rel\nWORKDIR ../up\n",
    "expose-duplicates": "FROM busybox\nEXPOSE 80 80/tcp 53/UDP\n",
    "volume-json": 'FROM busybox\nVOLUME ["/a", "/b c"]\n',
    "user-env-legacy": 'FROM busybox\nUSER 1000:1000\nENV A B C\nENV D="x y"  E=z\n',
    "stopsignal-healthcheck": "FROM busybox\nSTOPSIGNAL 9\n"
                              'HEALTHCHECK --interval=5s --timeout=2s --start-period=1m --retries=4 CMD ["true"]\n',
    "onbuild-several": "FROM busybox\nONBUILD RUN a\nONBUILD   COPY  x  y\n",
    "shell-then-run": 'FROM busybox\nSHELL ["/bin/sh", "-xc"]\nRUN echo $0 > /zero\nCMD echo hi\n',
    "empty-entrypoint-and-cmd": "FROM busybox\nENTRYPOINT []\nCMD []\n",
    "maintainer": "FROM busybox\nMAINTAINER Docker Newbee <newbee@docker.com>\n",
    "label-quoting": "FROM busybox\nLABEL \"a\"=\"b c\" d='e f' g=h\\ i\n",
    "healthcheck-none": "FROM busybox\nHEALTHCHECK NONE\n",
}


@pytest.mark.parametrize("name", sorted(METADATA_CASES))
def test_configs_and_history_agree_with_dockerd(engine, dockerd, tmp_path, cleanup_tags, name):
    dockerfile = METADATA_CASES[name]
    ctx = write_context(tmp_path / "ctx", dockerfile)
    tag = f"skbuild-meta-{name}:1"
    cleanup_tags.append(tag)
    ours, theirs = build_both(engine, dockerd, tag, str(ctx))
    for key in CONFIG_FIELDS:
        assert ours["Config"].get(key) == theirs["Config"].get(key), key
    assert ours["Author"] == theirs["Author"]
    steps = len(dockerfile.strip().splitlines()) - 1

    def history(client):
        return ok(client.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag)).splitlines()[:steps]
    assert history(engine) == history(dockerd)


def test_step_lines_agree_with_dockerd(engine, dockerd, tmp_path, cleanup_tags):
    ctx = write_full_context(tmp_path / "ctx")
    cleanup_tags.append("skbuild-steps:1")
    outs = []
    for client in (engine, dockerd):
        out = ok(classic_build(client, "--no-cache", "-t", "skbuild-steps:1", "--label", "x=y", str(ctx)))
        outs.append([line for line in out.splitlines()
                     if line.startswith(("Step ", "# Executing", "Successfully tagged", "triggered"))])
    assert outs[0] == outs[1]
    assert outs[0][0] == "Step 1/32 : ARG BASE=busybox"
