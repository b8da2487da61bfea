import hashlib
import io
import threading

import pytest

from skiff.common.errors import InvalidArgument, NotFound
from skiff.engine.content.store import ContentStore


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_put_read_exists_size_delete(tmp_path):
    cs = ContentStore(tmp_path)
    d = cs.put(b"hello")
    assert d == digest(b"hello")
    assert cs.exists(d) and cs.size(d) == 5 and cs.read(d) == b"hello"
    assert list(cs.walk()) == [(d, 5)]
    assert cs.delete(d) and not cs.exists(d) and not cs.delete(d)
    with pytest.raises(NotFound):
        cs.read(d)


def test_ingest_verifies_digest_and_size_and_leaves_nothing(tmp_path):
    cs = ContentStore(tmp_path)
    with pytest.raises(InvalidArgument, match="digest mismatch"):
        cs.ingest(io.BytesIO(b"abc"), expected=digest(b"abd"))
    with pytest.raises(InvalidArgument, match="size mismatch"):
        cs.ingest(io.BytesIO(b"abc"), expected_size=4)
    assert list(cs.walk()) == []
    assert list(cs.ingest_dir.iterdir()) == []
    assert cs.ingest(io.BytesIO(b"abc"), expected=digest(b"abc"), expected_size=3) == digest(b"abc")


def test_aborted_writer_is_cleaned(tmp_path):
    cs = ContentStore(tmp_path)
    with pytest.raises(RuntimeError):
        with cs.writer() as w:
            w.write(b"partial")
            raise RuntimeError("boom")
    assert list(cs.ingest_dir.iterdir()) == [] and list(cs.walk()) == []


def test_concurrent_ingest_of_same_blob(tmp_path):
    cs = ContentStore(tmp_path)
    data = b"x" * 300_000
    errors = []

    def work():
        try:
            cs.ingest(io.BytesIO(data), expected=digest(data))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cs.read(digest(data)) == data
    assert list(cs.ingest_dir.iterdir()) == []


def test_bad_digest_string(tmp_path):
    with pytest.raises(InvalidArgument):
        ContentStore(tmp_path).exists("md5:abc")
