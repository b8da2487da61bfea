"""Property: whatever a layer contains, unpacking writes nothing outside its directory and
fails, if it fails, only with InvalidArgument."""

import io
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skiff.common.errors import InvalidArgument
from skiff.engine.images.unpack import apply_layer
from tests.unit.images.tarbuild import make_tar

parts = st.sampled_from(["a", "b", "..", ".", "", "etc", ".wh.a", ".wh..wh..opq", "out"])
names = st.lists(parts, min_size=1, max_size=4).map("/".join) | st.sampled_from(["/abs", "/etc/passwd", "../out/x"])
targets = st.sampled_from(["/", "..", "../..", "../../out", "/tmp", "a", "a/b", "../out", "etc"]) | names
entries = st.lists(st.one_of(
    st.tuples(st.just("f"), names, st.just("data")),
    st.tuples(st.just("d"), names),
    st.tuples(st.just("l"), names, targets),
    st.tuples(st.just("h"), names, targets),
), max_size=8)


def snapshot_tree(root: str) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st_ = os.lstat(p)
            out[os.path.relpath(p, root)] = (st_.st_mode, st_.st_size, st_.st_mtime_ns)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries, st.sampled_from(["native", "overlay"]))
def test_nothing_lands_outside(layer_entries, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        outside = os.path.join(tmp, "out")
        os.mkdir(outside)
        with open(os.path.join(outside, "sentinel"), "w") as f:
            f.write("keep")
        dest = os.path.join(tmp, "layer", "a", "b")  # deep, so `..` chains could reach `out`
        os.makedirs(dest)
        before = snapshot_tree(outside)
        try:
            data = make_tar(layer_entries)
        except (ValueError, OSError):
            return  # tarfile itself refuses some names; nothing to unpack
        try:
            apply_layer(io.BytesIO(data), dest, fmt)
        except InvalidArgument:
            pass
        assert snapshot_tree(outside) == before
        assert sorted(os.listdir(tmp)) == ["layer", "out"]
        assert os.listdir(os.path.join(tmp, "layer")) == ["a"]
        assert os.listdir(os.path.join(tmp, "layer", "a")) == ["b"]
