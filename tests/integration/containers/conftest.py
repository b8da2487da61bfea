import secrets
import shutil
import time

import pytest


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1):
    """Poll until predicate() is truthy (for state that changes in the background, e.g. restarts)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture
def docker_cli():
    if shutil.which("docker") is None:
        pytest.skip("docker CLI not installed")


@pytest.fixture
def names(engine, docker_cli):
    """Fresh container/volume names; whatever the test made with them is removed afterwards."""
    made: list[str] = []
    vols: list[str] = []

    class Names:
        def __call__(self, prefix: str = "c") -> str:
            made.append(f"{prefix}{secrets.token_hex(4)}")
            return made[-1]

        def volume(self) -> str:
            vols.append(f"v{secrets.token_hex(4)}")
            return vols[-1]

    yield Names()
    if made:
        engine.docker("rm", "-f", "-v", *made)
    if vols:
        engine.docker("volume", "rm", "-f", *vols)
