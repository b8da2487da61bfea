import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.busybox import write_docker_archive
from tests.support.engine import Engine
from tests.support.server import kube_server, namespace  # noqa: F401  (fixtures: skiff server + kubectl)

IS_ROOT = os.geteuid() == 0


def pytest_collection_modifyitems(config, items):
    skip_root = pytest.mark.skip(reason="needs root")
    for item in items:
        if "root" in item.keywords and not IS_ROOT:
            item.add_marker(skip_root)


@pytest.fixture(scope="session")
def busybox_archive(tmp_path_factory) -> Path:
    """busybox:latest as a docker-archive tarball, built from Debian's busybox-static."""
    path = tmp_path_factory.mktemp("images") / "busybox.tar"
    write_docker_archive(path)
    return path


def _new_engine(busybox_archive: Path, extra_args: list[str] | None = None) -> Engine:
    root = Path(tempfile.mkdtemp(prefix="skiff-test-", dir="/tmp"))
    eng = Engine(root, extra_args=extra_args).start()
    try:
        eng.load(busybox_archive)
    except BaseException:
        eng.cleanup()
        raise
    return eng


@pytest.fixture(scope="session")
def engine(busybox_archive):
    """One engine for the session, with busybox:latest loaded. Tests clean up their own containers."""
    eng = _new_engine(busybox_archive)
    yield eng
    eng.cleanup()


@pytest.fixture
def fresh_engine(busybox_archive):
    """An engine of the test's own, for tests that restart or kill the daemon."""
    eng = _new_engine(busybox_archive)
    yield eng
    eng.cleanup()


@pytest.fixture
def docker_client(engine):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=engine.host, version="auto")
    yield client
    client.close()


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
