import time

import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.images.config_changes import apply_changes
from skiff.engine.images.filters import parse_until, reference_matches


def test_apply_changes_forms():
    base = {"Env": ["PATH=/bin", "A=old"], "Cmd": ["sh"]}
    c = apply_changes(base, ['CMD ["echo", "hi"]', "ENTRYPOINT /start.sh --x", "ENV A=new B=2",
                             "ENV LEGACY value with spaces", 'LABEL a=1 "b=two words"', "EXPOSE 80 53/udp",
                             'VOLUME ["/data", "/logs"]', "USER app", "WORKDIR /srv", "STOPSIGNAL SIGINT"])
    assert c["Cmd"] == ["echo", "hi"]
    assert c["Entrypoint"] == ["/bin/sh", "-c", "/start.sh --x"]
    assert c["Env"] == ["PATH=/bin", "A=new", "B=2", "LEGACY=value with spaces"]
    assert c["Labels"] == {"a": "1", "b": "two words"}
    assert c["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert c["Volumes"] == {"/data": {}, "/logs": {}}
    assert (c["User"], c["WorkingDir"], c["StopSignal"]) == ("app", "/srv", "SIGINT")
    assert base == {"Env": ["PATH=/bin", "A=old"], "Cmd": ["sh"]}  # input untouched


def test_apply_changes_shell_form_cmd_and_bad_instruction():
    assert apply_changes({}, ["cmd echo hi"])["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    with pytest.raises(InvalidArgument, match="FROM is not a valid change command"):
        apply_changes({}, ["FROM scratch"])


@pytest.mark.parametrize("pattern,tags,expected", [
    ("busybox", ["busybox:latest"], True),
    ("busybox:latest", ["busybox:latest"], True),
    ("busybox:1*", ["busybox:latest"], False),
    ("busy*", ["busybox:1"], True),
    ("*", ["user/app:1"], False),  # * does not cross /
    ("*/*", ["user/app:1"], True),
    ("localhost:5000/app", ["localhost:5000/app:v"], True),
])
def test_reference_filter(pattern, tags, expected):
    assert reference_matches(pattern, tags) is expected


def test_until_forms():
    now = time.time()
    assert abs(parse_until("1h") - (now - 3600)) < 5
    assert parse_until("1700000000") == 1_700_000_000
    assert parse_until("2023-11-14T22:13:20Z") == 1_700_000_000
    with pytest.raises(InvalidArgument):
        parse_until("yesterday")
