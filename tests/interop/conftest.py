"""Fixtures for the interop tests: the reference dockerd, on private paths, with busybox loaded."""

from pathlib import Path

import pytest

from tests.support.dockerd import Dockerd, unavailable_reason


@pytest.fixture(scope="session")
def dockerd(busybox_archive: Path):
    """A reference dockerd (Debian's docker.io) with busybox:latest loaded; torn down at session end.

    It runs with `--bridge=none`, so containers on it need `--network none`.
    """
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    ref = Dockerd().start()
    try:
        ref.load(busybox_archive)
        yield ref
    finally:
        ref.cleanup()
