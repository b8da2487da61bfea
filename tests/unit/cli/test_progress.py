import io
import json

import pytest

from skiff.cli.client import APIError
from skiff.cli.progress import format_message, show_progress


class FakeBody:
    def __init__(self, messages):
        self.messages = messages

    def json_stream(self):
        yield from self.messages


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    msgs = [{"status": "Pulling from library/busybox", "id": "latest"},
            {"status": "Downloading", "id": "abc", "progress": "[=>  ] 1MB/2MB"},
            {"status": "Pull complete", "id": "abc"},
            {"stream": "Loaded image: busybox:latest\n"}]
    seen = show_progress(FakeBody(msgs), out)
    assert out.getvalue() == ("latest: Pulling from library/busybox\nabc: Pull complete\n"
                              "Loaded image: busybox:latest\n")
    assert seen == msgs


def test_quiet_prints_nothing_but_still_fails_on_errors():
    out = io.StringIO()
    show_progress(FakeBody([{"stream": "x\n"}]), out, quiet=True)
    assert out.getvalue() == ""
    with pytest.raises(APIError, match="manifest unknown"):
        show_progress(FakeBody([{"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}]), out)


def test_format_message_with_progress_on_a_terminal():
    assert format_message({"id": "abc", "status": "Downloading", "progress": "[=> ]"}, tty=True) == \
        "abc: Downloading [=> ]\n"
    assert json.dumps(format_message({"status": "Done"}, tty=False)) == '"Done\\n"'
