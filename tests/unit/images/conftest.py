import asyncio
import io

import pytest

from skiff.engine.events import EventBus
from skiff.engine.images.service import ImageService


@pytest.fixture
def svc(tmp_path):
    return ImageService(tmp_path / "root", EventBus(), snapshotter="native")


@pytest.fixture
def loaded(svc, busybox_archive):
    with open(busybox_archive, "rb") as f:
        run(svc.load(f))
    return svc


def run(coro):
    return asyncio.run(coro)


def saved(svc, refs) -> bytes:
    buf = io.BytesIO()
    run(svc.save(refs, buf))
    return buf.getvalue()
