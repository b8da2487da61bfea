"""POST /build through docker-py, the docker CLI and the raw API: the cache, the flags, the
stream's shape, and bad input answered clearly while the engine keeps serving."""

import gzip
import http.server
import io
import json
import subprocess
import tarfile
import threading

import pytest

from tests.integration.build.contexts import write_context
from tests.support.engine import request
from tests.support.procs import ok

pytestmark = [pytest.mark.root]


def classic_build(engine, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**engine.env, "DOCKER_BUILDKIT": "0"}
    return subprocess.run(["docker", "build", *args], env=env, input=input, capture_output=True, timeout=300)


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def post_build(engine, query: str, body: bytes) -> tuple[int, list[dict] | dict]:
    status, raw = request(engine.socket, "POST", "/v1.41/build?" + query, body, {"Content-Type": "application/x-tar"})
    if status != 200:
        return status, json.loads(raw)
    return status, [json.loads(line) for line in raw.splitlines() if line.strip()]


def test_rebuild_is_all_cache_hits_and_no_cache_is_none(engine, tmp_path, tags):
    ctx = write_context(tmp_path / "c", "FROM busybox\nENV A=1\nRUN echo built > /f\nCOPY x /x\nCMD [\"cat\", \"/f\"]\n",
                        {"x": "x\n"})
    tags.append("skb-cache:1")
    first = ok(classic_build(engine, "-t", "skb-cache:1", str(ctx)))
    assert "Using cache" not in first and "Running in" in first
    second = ok(classic_build(engine, "-t", "skb-cache:1", str(ctx)))
    assert second.count(" ---> Using cache") == 4
    assert "Running in" not in second
    assert first.splitlines()[-2] == second.splitlines()[-2]  # Successfully built <same id>
    (ctx / "x").write_text("changed\n")
    third = ok(classic_build(engine, "-t", "skb-cache:1", str(ctx)))
    assert third.count(" ---> Using cache") == 2  # ENV and RUN; COPY's checksum changed, CMD follows it
    fourth = ok(classic_build(engine, "--no-cache", "-t", "skb-cache:1", str(ctx)))
    assert "Using cache" not in fourth
    assert ok(engine.docker("run", "--rm", "--network", "none", "skb-cache:1")) == "built\n"


def test_history_marks_metadata_steps_as_empty_layers(engine, tmp_path, tags):
    ctx = write_context(tmp_path / "c", "FROM busybox\nLABEL a=b\nRUN echo hi > /new\nEXPOSE 80\n")
    tags.append("skb-hist:1")
    ok(classic_build(engine, "-t", "skb-hist:1", str(ctx)))
    rows = [json.loads(line) for line in ok(engine.docker("history", "--no-trunc", "--format", "{{json .}}",
                                                           "skb-hist:1")).splitlines()]
    assert rows[0]["CreatedBy"] == "/bin/sh -c #(nop)  EXPOSE 80" and rows[0]["Size"] == "0B"
    assert rows[1]["CreatedBy"] == "/bin/sh -c echo hi > /new" and rows[1]["Size"] != "0B"
    assert rows[2]["CreatedBy"] == "/bin/sh -c #(nop)  LABEL a=b"
    base_layers = len(json.loads(ok(engine.docker("image", "inspect", "busybox")))[0]["RootFS"]["Layers"])
    layers = json.loads(ok(engine.docker("image", "inspect", "skb-hist:1")))[0]["RootFS"]["Layers"]
    assert len(layers) == base_layers + 1  # only the RUN added a layer


def test_flags_tags_target_quiet_iidfile_file(engine, tmp_path, tags):
    ctx = write_context(tmp_path / "c", "FROM busybox AS one\nRUN echo one > /stage\nFROM one AS two\n"
                        "RUN echo two > /stage\n", {"other/Custom.dockerfile": "FROM busybox\nLABEL custom=yes\n"})
    tags += ["skb-a:1", "skb-b:2", "skb-one:1", "skb-custom:1"]
    out = ok(classic_build(engine, "-q", "-t", "skb-a:1", "-t", "skb-b:2", "--iidfile", str(tmp_path / "iid"),
                           str(ctx)))
    image_id = (tmp_path / "iid").read_text().strip()  # the -q stream line, newline and all, as with dockerd
    assert out.strip() == image_id and image_id.startswith("sha256:")
    for t in ("skb-a:1", "skb-b:2"):
        assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", t)).strip() == image_id
    ok(classic_build(engine, "--target", "one", "-t", "skb-one:1", str(ctx)))
    assert ok(engine.docker("run", "--rm", "--network", "none", "skb-one:1", "cat", "/stage")) == "one\n"
    ok(classic_build(engine, "-f", str(ctx / "other" / "Custom.dockerfile"), "-t", "skb-custom:1", str(ctx)))
    labels = ok(engine.docker("image", "inspect", "-f", "{{json .Config.Labels}}", "skb-custom:1"))
    assert json.loads(labels) == {"custom": "yes"}


def test_stdin_dockerfile_and_stdin_tarball(engine, tags):
    tags += ["skb-stdin:1", "skb-stdin:2"]
    ok(classic_build(engine, "-t", "skb-stdin:1", "-", input=b"FROM busybox\nENV FROM_STDIN=1\n"))
    body = gzip.compress(tar_of({"Dockerfile": b"FROM busybox\nCOPY f /f\n", "f": b"gz\n"}))
    ok(classic_build(engine, "-t", "skb-stdin:2", "-", input=body))
    assert ok(engine.docker("run", "--rm", "--network", "none", "skb-stdin:2", "cat", "/f")) == "gz\n"


def test_failed_run_keeps_its_container_unless_force_rm(engine, tmp_path):
    ctx = write_context(tmp_path / "c", "FROM busybox\nRUN echo to-stderr >&2; exit 7\n")
    before = set(ok(engine.docker("ps", "-aq", "--no-trunc")).split())
    failed = classic_build(engine, str(ctx))
    assert failed.returncode == 7
    assert "The command '/bin/sh -c echo to-stderr >&2; exit 7' returned a non-zero code: 7" in failed.stderr.decode()
    assert "to-stderr" in failed.stdout.decode()
    kept = set(ok(engine.docker("ps", "-aq", "--no-trunc")).split()) - before
    assert len(kept) == 1  # as dockerd: --rm removes only after success
    ok(engine.docker("rm", "-f", *kept))
    assert classic_build(engine, "--force-rm", str(ctx)).returncode == 7
    assert set(ok(engine.docker("ps", "-aq", "--no-trunc")).split()) == before


def test_successful_build_leaves_no_containers(engine, tmp_path, tags):
    before = set(ok(engine.docker("ps", "-aq")).split())
    ctx = write_context(tmp_path / "c", "FROM busybox\nRUN true\nRUN touch /x\n")
    tags.append("skb-clean:1")
    ok(classic_build(engine, "--no-cache", "-t", "skb-clean:1", str(ctx)))
    assert set(ok(engine.docker("ps", "-aq")).split()) == before


def test_docker_py_images_build(docker_client, tmp_path, tags):
    ctx = write_context(tmp_path / "c", "FROM busybox\nARG V\nRUN echo \"v=$V\" > /v\nLABEL via=docker-py\n")
    tags.append("skb-py:1")
    image, logs = docker_client.images.build(path=str(ctx), tag="skb-py:1", buildargs={"V": "42"}, rm=True)
    assert image.labels == {"via": "docker-py"}
    assert any("Successfully built" in (entry.get("stream") or "") for entry in logs)
    out = docker_client.containers.run("skb-py:1", ["cat", "/v"], remove=True, network_mode="none")
    assert out == b"v=42\n"


def test_stream_shape_and_unused_build_args(engine, tags):
    tags.append("skb-raw:1")
    status, msgs = post_build(engine, "t=skb-raw:1&buildargs=%7B%22UNUSED%22%3A%221%22%7D",
                              tar_of({"Dockerfile": b"FROM busybox\nCMD [\"sh\"]\n"}))
    assert status == 200
    streams = [m["stream"] for m in msgs if "stream" in m]
    assert streams[0] == "Step 1/2 : FROM busybox\n"
    aux = [m["aux"]["ID"] for m in msgs if "aux" in m]
    assert len(aux) == 1 and aux[0].startswith("sha256:")
    assert "[Warning] One or more build-args [UNUSED] were not consumed\n" in streams
    assert streams[-2:] == [f"Successfully built {aux[0][7:19]}\n", "Successfully tagged skb-raw:1\n"]


@pytest.mark.parametrize(("query", "body", "status", "message"), [
    ("", b"this is not a tar archive at all" * 40, 400, "not a valid tar archive"),
    ("", tar_of({"Dockerfile": b"FROM busybox\nFORM x\n"}), 400,
     "dockerfile parse error on line 2: unknown instruction: FORM"),
    ("dockerfile=Missing", tar_of({"Dockerfile": b"FROM busybox\n"}), 400, "Cannot locate specified Dockerfile"),
    ("remote=git://example.invalid/x", b"", 400, "remote build contexts are not supported"),
    ("t=Bad:Tag", tar_of({"Dockerfile": b"FROM busybox\n"}), 400, "invalid reference format"),
    ("target=nope", tar_of({"Dockerfile": b"FROM busybox\n"}), 400, "failed to reach build target nope"),
])
def test_bad_input_is_a_clear_error_and_the_engine_keeps_serving(engine, query, body, status, message):
    got, answer = post_build(engine, query, body)
    assert got == status
    assert isinstance(answer, dict) and message in answer["message"]
    assert request(engine.socket, "GET", "/_ping")[0] == 200


@pytest.mark.parametrize(("dockerfile", "message"), [
    ("FROM busybox\nCOPY ../outside /x\n", "forbidden path outside the build context: ../outside"),
    ("FROM busybox\nCOPY missing /x\n", "file not found in build context or excluded by .dockerignore"),
    ("FROM busybox\nCOPY a b /x\n", "the destination must be a directory and end with a /"),
    ("FROM 127.0.0.1:1/nosuchimage:1\n", "127.0.0.1:1"),  # nothing listens: the pull fails
])
def test_step_errors_arrive_in_the_stream(engine, dockerfile, message):
    files = {"Dockerfile": dockerfile.encode(), "a": b"a", "b": b"b"}
    status, msgs = post_build(engine, "", tar_of(files))
    assert status == 200
    errors = [m for m in msgs if "error" in m]
    assert len(errors) == 1 and message in errors[0]["error"]
    assert errors[0]["errorDetail"]["message"] == errors[0]["error"]


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server interface
        body = b"downloaded\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", "Tue, 15 Nov 1994 08:12:31 GMT")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_add_from_a_url_on_loopback(engine, tmp_path, tags):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/path/file.txt"
        ctx = write_context(tmp_path / "c", f"FROM busybox\nADD {url} /dl/\nADD {url} /named\n")
        tags.append("skb-url:1")
        ok(classic_build(engine, "-t", "skb-url:1", str(ctx)))
    finally:
        server.shutdown()
        server.server_close()
    out = ok(engine.docker("run", "--rm", "--network", "none", "skb-url:1", "sh", "-c",
                           "cat /dl/file.txt /named; stat -c '%a %Y' /named"))
    assert out == "downloaded\ndownloaded\n600 784887151\n"


@pytest.mark.slow
def test_layer_limit_is_reported(engine, tmp_path):
    lines = ["FROM busybox"] + [f"RUN echo {i} > /f{i}" for i in range(130)]
    ctx = write_context(tmp_path / "c", "\n".join(lines) + "\n")
    failed = classic_build(engine, "--force-rm", str(ctx))
    assert failed.returncode != 0
    assert "max depth exceeded" in failed.stderr.decode()


def test_from_pulls_a_missing_image_from_a_registry(engine, tmp_path, tags):
    import socket
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "skiff", "registry", "serve", "--addr", f"127.0.0.1:{port}",
                               "--root", str(tmp_path / "registry")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    ref = f"localhost:{port}/lib/pulled-base:1"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        # an image of its own (not busybox, whose record would keep the pull's repo digest)
        base = write_context(tmp_path / "base", "FROM busybox\nLABEL pushed=1\n")
        ok(classic_build(engine, "-t", ref, str(base)))
        ok(engine.docker("push", ref))
        ok(engine.docker("rmi", ref))
        ctx = write_context(tmp_path / "c", f"FROM {ref}\nRUN echo on-pulled > /p\n")
        tags += ["skb-pulled:1", ref]
        out = ok(classic_build(engine, "-t", "skb-pulled:1", str(ctx)))
    finally:
        server.terminate()
        server.wait(10)
    assert "Pulling from lib/pulled-base" in out
    assert ok(engine.docker("run", "--rm", "--network", "none", "skb-pulled:1", "cat", "/p")) == "on-pulled\n"


def test_docker_cli_without_buildkit_variable_falls_back_to_the_classic_builder(engine, tmp_path, tags):
    env = {k: v for k, v in engine.env.items() if k != "DOCKER_BUILDKIT"}
    if subprocess.run(["docker", "buildx", "version"], env=env, capture_output=True).returncode == 0:
        pytest.skip("buildx is installed: the docker CLI then needs DOCKER_BUILDKIT=0 (docs/build.md)")
    ctx = write_context(tmp_path / "c", "FROM busybox\nLABEL default=cli\n")
    tags.append("skb-default:1")
    proc = subprocess.run(["docker", "build", "-t", "skb-default:1", str(ctx)], env=env, capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "Successfully tagged skb-default:1" in proc.stdout.decode()


def test_null_build_args_keep_the_default(engine, tags):
    tags.append("skb-null:1")
    status, msgs = post_build(engine, "t=skb-null:1&buildargs=%7B%22V%22%3Anull%7D",
                              tar_of({"Dockerfile": b"FROM busybox\nARG V=dflt\nRUN echo \"$V\" > /v\n"}))
    assert status == 200 and not [m for m in msgs if "error" in m]
    assert ok(engine.docker("run", "--rm", "--network", "none", "skb-null:1", "cat", "/v")) == "dflt\n"


def test_rmi_removes_the_builds_intermediate_images(engine, tmp_path):
    before = set(ok(engine.docker("images", "-aq", "--no-trunc")).split())
    ctx = write_context(tmp_path / "c", "FROM busybox\nENV A=1\nRUN echo x > /x\nLABEL l=1\n")
    ok(classic_build(engine, "--no-cache", "-t", "skb-rmi:1", str(ctx)))
    assert len(set(ok(engine.docker("images", "-aq", "--no-trunc")).split()) - before) == 3  # one per step
    out = ok(engine.docker("rmi", "skb-rmi:1"))
    assert out.count("Deleted: sha256:") >= 3
    assert set(ok(engine.docker("images", "-aq", "--no-trunc")).split()) == before


def test_a_client_that_goes_away_stops_the_build_and_its_container(engine):
    import socket
    import time

    before = set(ok(engine.docker("ps", "-aq", "--no-trunc")).split())
    body = tar_of({"Dockerfile": b"FROM busybox\nRUN echo started; sleep 600\n"})  # stopped long before
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(engine.socket)
    sock.sendall(b"POST /v1.41/build HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    seen = b""
    while b'{"stream":"started\\n"}' not in seen:  # the RUN's own output, not the step line
        chunk = sock.recv(4096)
        assert chunk, seen
        seen += chunk
    sock.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if set(ok(engine.docker("ps", "-aq", "--no-trunc")).split()) == before:
            break
        time.sleep(0.2)
    assert set(ok(engine.docker("ps", "-aq", "--no-trunc")).split()) == before


def test_docker_py_gzip_context_fileobj_and_build_error(docker_client, tmp_path, tags):
    import docker

    ctx = write_context(tmp_path / "c", "FROM busybox\nCOPY f /f\n", {"f": "gz\n"})
    tags += ["skb-pygz:1", "skb-pyfo:1"]
    docker_client.images.build(path=str(ctx), tag="skb-pygz:1", gzip=True)
    out = docker_client.containers.run("skb-pygz:1", ["cat", "/f"], remove=True, network_mode="none")
    assert out == b"gz\n"
    image, _ = docker_client.images.build(fileobj=io.BytesIO(b"FROM busybox\nLABEL via=fileobj\n"), tag="skb-pyfo:1")
    assert image.labels == {"via": "fileobj"}
    with pytest.raises(docker.errors.BuildError) as err:
        docker_client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN exit 3\n"), forcerm=True)
    assert err.value.msg == "The command '/bin/sh -c exit 3' returned a non-zero code: 3"


def test_the_cache_survives_an_engine_restart(fresh_engine, tmp_path):
    ctx = write_context(tmp_path / "c", "FROM busybox\nENV A=1\nRUN echo x > /x\nCOPY f /f\n", {"f": "f"})
    first = ok(classic_build(fresh_engine, "-t", "skb-restart:1", str(ctx)))
    fresh_engine.stop()
    fresh_engine.start()
    again = ok(classic_build(fresh_engine, "-t", "skb-restart:1", str(ctx)))
    assert again.count(" ---> Using cache") == 3
    assert first.splitlines()[-2] == again.splitlines()[-2]


def test_a_run_that_changes_nothing_adds_no_layer(engine, tmp_path, tags):
    # busybox has no /etc/hosts: the runtime's bind-mount placeholders must not become a layer
    ctx = write_context(tmp_path / "c", "FROM busybox\nRUN true\nRUN cat /etc/hosts > /dev/null\n")
    tags.append("skb-nolayer:1")
    ok(classic_build(engine, "-t", "skb-nolayer:1", str(ctx)))
    layers = lambda ref: json.loads(ok(engine.docker("image", "inspect", ref)))[0]["RootFS"]["Layers"]  # noqa: E731
    assert layers("skb-nolayer:1") == layers("busybox")


def test_rm_false_keeps_working_intermediate_containers(engine, tmp_path, tags):
    before = set(ok(engine.docker("ps", "-aq", "--no-trunc")).split())
    ctx = write_context(tmp_path / "c", "FROM busybox\nRUN echo kept > /k\n")
    tags.append("skb-keep:1")
    ok(classic_build(engine, "--no-cache", "--rm=false", "-t", "skb-keep:1", str(ctx)))
    kept = set(ok(engine.docker("ps", "-aq", "--no-trunc")).split()) - before
    assert len(kept) == 1
    (cid,) = kept
    try:
        # the container still has its own filesystem, and the image its layer
        assert ok(engine.docker("start", "-a", cid)) == ""
        out = ok(engine.docker("cp", f"{cid}:/k", "-"))
        assert b"kept" in out.encode()
        assert ok(engine.docker("run", "--rm", "--network", "none", "skb-keep:1", "cat", "/k")) == "kept\n"
    finally:
        ok(engine.docker("rm", "-f", cid))
