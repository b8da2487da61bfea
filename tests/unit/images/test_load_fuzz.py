"""Property: a damaged archive either loads or is refused with InvalidArgument, leaving no trace."""

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skiff.common.errors import InvalidArgument
from skiff.engine.images.service import ImageService
from tests.unit.images.conftest import run


def state(svc):
    return (sorted(svc.content.walk()), sorted(s.key for s in svc.snapshotter.list()),
            dict(svc.store.refs), sorted(svc.store.records))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0.0, 1.0), flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=3))
def test_damaged_archive(tmp_path_factory, busybox_archive, cut, flips):
    svc = ImageService(tmp_path_factory.mktemp("fuzz"), snapshotter="native")
    data = bytearray(busybox_archive.read_bytes())
    for where, xor in flips:
        data[int(where * (len(data) - 1))] ^= xor
    data = data[: max(1, int(cut * len(data)))] if cut < 0.999 else data
    try:
        run(svc.load(io.BytesIO(bytes(data))))
    except InvalidArgument:
        assert state(svc) == ([], [], {}, [])
        assert list(svc.content.ingest_dir.iterdir()) == []
        return
    assert svc.list()  # it loaded: something whole is there
