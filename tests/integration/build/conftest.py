import pytest


@pytest.fixture
def tags(engine):
    """Image names a test builds; removed from the session engine afterwards."""
    made: list[str] = []
    yield made
    if made:
        engine.docker("rmi", "-f", *made)


@pytest.fixture(autouse=True)
def no_leftover_images(engine):
    """A build leaves intermediate images (and a failed one, its finished steps): prune what is
    dangling, so the session engine's busybox has no children for the tests that come after."""
    yield
    engine.docker("image", "prune", "-f")
