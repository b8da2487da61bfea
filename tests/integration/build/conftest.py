import pytest


@pytest.fixture
def tags(engine):
    """Image names a test builds; removed from the session engine afterwards."""
    made: list[str] = []
    yield made
    if made:
        engine.docker("rmi", "-f", *made)
