import pytest

from skiff.common.detachkeys import DetachMatcher, key_bytes


def test_key_bytes():
    assert key_bytes("ctrl-p,ctrl-q") == b"\x10\x11"
    assert key_bytes("a,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,ctrl-Z") == b"a\x00\x1b\x1c\x1d\x1e\x1f\x1a"
    for bad in ("ctrl-aa", "ctrl-1", "", "a,,b", "CTRL-a", " a"):
        with pytest.raises(ValueError):
            key_bytes(bad)
    assert key_bytes(" CTRL-a , b", lenient=True) == b"\x01b"
    with pytest.raises(ValueError) as err:
        key_bytes("x,ctrl-1", lenient=True)
    assert err.value.args[0] == "ctrl-1"


def test_matcher_holds_a_prefix_and_forwards_a_broken_one():
    m = DetachMatcher(b"\x10\x11")
    assert m.feed(b"ab\x10") == (b"ab", False)
    assert m.feed(b"\x10") == (b"\x10\x10", False)  # a broken sequence goes out as typed
    assert m.feed(b"\x10\x11tail") == (b"", True)
    assert m.feed(b"x\x10") == (b"x", False)
    assert m.feed(b"y") == (b"\x10y", False)
    assert DetachMatcher(b"").feed(b"\x10\x11") == (b"\x10\x11", False)
