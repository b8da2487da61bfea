"""`skiff build`: docker's flags and output, contexts from a directory or stdin, exit codes."""

import json

import pytest

from tests.integration.build.contexts import write_context
from tests.support.procs import ok

pytestmark = [pytest.mark.root]


def test_help_lists_docker_flags(engine):
    out = ok(engine.skiff("build", "--help"))
    assert "Usage:  skiff build [OPTIONS] PATH | URL | -" in out
    for flag in ("--build-arg", "--file", "--iidfile", "--no-cache", "--target", "--tag", "--label", "--force-rm"):
        assert flag in out


def test_build_output_dockerignore_and_labels(engine, tmp_path, tags):
    ctx = write_context(tmp_path / "c", "FROM busybox\nCOPY . /ctx/\nRUN ls -a /ctx > /listing\n",
                        {"keep.txt": "k", "drop.log": "d", "logs/x.log": "x", "logs/keep.log": "k",
                         ".dockerignore": "*.log\nlogs\n!logs/keep.log\n"})
    tags.append("skb-cli:1")
    out = ok(engine.skiff("build", "-t", "skb-cli:1", "--label", "a=b", str(ctx)))
    lines = out.splitlines()
    assert lines[0].startswith("Sending build context to Docker daemon  ")
    assert lines[1] == "Step 1/4 : FROM busybox"
    assert " ---> Running in " in out and "Removing intermediate container " in out
    assert lines[-1] == "Successfully tagged skb-cli:1"
    listing = ok(engine.docker("run", "--rm", "--network", "none", "skb-cli:1", "sh", "-c",
                               "cd /ctx && find . -type f | sort"))
    assert listing.split() == ["./.dockerignore", "./Dockerfile", "./keep.txt", "./logs/keep.log"]
    labels = json.loads(ok(engine.docker("image", "inspect", "-f", "{{json .Config.Labels}}", "skb-cli:1")))
    assert labels == {"a": "b"}


def test_dockerfile_outside_the_context_and_from_stdin(engine, tmp_path, tags):
    ctx = write_context(tmp_path / "c", "FROM busybox\n", {"f": "in context\n"})
    (tmp_path / "elsewhere.Dockerfile").write_text("FROM busybox\nCOPY f /f\n")
    tags += ["skb-out:1", "skb-dash:1", "skb-tar:1"]
    ok(engine.skiff("build", "-f", str(tmp_path / "elsewhere.Dockerfile"), "-t", "skb-out:1", str(ctx)))
    assert ok(engine.docker("run", "--rm", "--network", "none", "skb-out:1", "cat", "/f")) == "in context\n"
    ok(engine.skiff("build", "-f", "-", "-t", "skb-dash:1", str(ctx), input=b"FROM busybox\nCOPY f /g\n"))
    assert ok(engine.docker("run", "--rm", "--network", "none", "skb-dash:1", "cat", "/g")) == "in context\n"
    ok(engine.skiff("build", "-t", "skb-tar:1", "-", input=b"FROM busybox\nENV FROM=stdin\n"))


def test_quiet_and_iidfile(engine, tmp_path, tags):
    ctx = write_context(tmp_path / "c", "FROM busybox\nLABEL q=1\n")
    tags.append("skb-q:1")
    out = ok(engine.skiff("build", "-q", "--iidfile", str(tmp_path / "iid"), "-t", "skb-q:1", str(ctx)))
    assert out.startswith("sha256:") and len(out.strip()) == 71
    assert (tmp_path / "iid").read_text().strip() == out.strip()


def test_failures_and_exit_codes(engine, tmp_path):
    bad = engine.skiff("build", str(tmp_path / "missing"))
    assert bad.returncode == 1 and "unable to prepare context: path" in bad.stderr.decode()
    ctx = write_context(tmp_path / "c", "FROM busybox\nRUN exit 5\n")
    failed = engine.skiff("build", "--force-rm", str(ctx))
    assert failed.returncode == 5
    assert "The command '/bin/sh -c exit 5' returned a non-zero code: 5" in failed.stderr.decode()
    parse = write_context(tmp_path / "p", "FROM busybox\nFORM x\n")
    err = engine.skiff("build", str(parse))
    assert err.returncode == 1
    assert "dockerfile parse error on line 2: unknown instruction: FORM" in err.stderr.decode()
    remote = engine.skiff("build", "https://example.invalid/repo.git")
    assert remote.returncode == 1 and "remote contexts" in remote.stderr.decode()


@pytest.mark.parametrize("client", ["skiff", "docker"])
def test_run_steps_get_extra_hosts_ulimits_and_memory(engine, tmp_path, tags, client):
    ctx = write_context(tmp_path / "c", "FROM busybox\nRUN grep buildhost /etc/hosts > /hosts; ulimit -n > /nofile\n")
    tag = f"skb-res-{client}:1"
    tags.append(tag)
    args = ["build", "--no-cache", "--add-host", "buildhost:10.1.2.3", "--ulimit", "nofile=512:512", "-m", "64m",
            "--cache-from", "busybox", "-t", tag, str(ctx)]
    if client == "skiff":
        out = ok(engine.skiff(*args))
    else:
        import subprocess
        out = ok(subprocess.run(["docker", *args], env={**engine.env, "DOCKER_BUILDKIT": "0"}, capture_output=True,
                                timeout=120))
    assert "--cache-from is not supported" in out
    got = ok(engine.docker("run", "--rm", "--network", "none", tag, "cat", "/hosts", "/nofile"))
    assert got.split() == ["10.1.2.3", "buildhost", "512"]
