import io

from skiff.common.stdcopy import HEADER_SIZE, STDERR, STDOUT, Deframer, frame, parse_header, read_frames


def test_frame_layout():
    assert frame(STDOUT, b"hi") == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    assert frame(2, b"abc") == b"\x02\x00\x00\x00\x00\x00\x00\x03abc"
    big = frame(STDERR, b"x" * 70000)
    assert len(big) == HEADER_SIZE + 70000 and parse_header(big) == (STDERR, 70000)


def test_read_frames_until_the_end():
    stream = io.BytesIO(frame(STDOUT, b"out") + frame(STDERR, b"") + frame(STDERR, b"err") + b"\x01\x00")
    assert list(read_frames(stream.read)) == [(STDOUT, b"out"), (STDERR, b""), (STDERR, b"err")]
    cut = io.BytesIO(frame(STDOUT, b"abcdef")[:-2])
    assert list(read_frames(cut.read)) == [(STDOUT, b"abcd")]


def test_deframer_reassembles_across_reads():
    wire = frame(1, b"hello ") + frame(2, b"err") + frame(1, b"world")
    d = Deframer()
    got = []
    for i in range(0, len(wire), 5):
        got += d.feed(wire[i:i + 5])
    assert got == [(1, b"hello "), (2, b"err"), (1, b"world")]
