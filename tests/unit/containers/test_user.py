import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.containers.user import resolve_user

PASSWD = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:100::/:/bin/sh\n"
GROUP = "root:x:0:\nusers:x:100:alice\nstaff:x:50:alice,bob\nalice:x:1000:\n"


@pytest.mark.parametrize("user,uid,gid,extra,home", [
    ("", 0, 0, [], "/root"),
    ("alice", 1000, 1000, [100, 50], "/home/alice"),
    ("1000", 1000, 1000, [100, 50], "/home/alice"),
    ("4242", 4242, 0, [], "/"),
    ("4242:4343", 4242, 4343, [], "/"),
    ("alice:staff", 1000, 50, [], "/home/alice"),
    ("bob", 1001, 100, [50], "/"),
])
def test_forms(user, uid, gid, extra, home):
    r = resolve_user(user, PASSWD, GROUP)
    assert (r.uid, r.gid, r.additional_gids, r.home) == (uid, gid, extra, home)


def test_group_add():
    r = resolve_user("4242", PASSWD, GROUP, ["staff", "777"])
    assert r.additional_gids == [50, 777]


def test_unknown_names():
    with pytest.raises(InvalidArgument, match="unable to find user nobody: no matching entries in passwd file"):
        resolve_user("nobody", PASSWD, GROUP)
    with pytest.raises(InvalidArgument, match="unable to find group nogroup"):
        resolve_user("alice:nogroup", PASSWD, GROUP)


def test_no_passwd_file():
    assert resolve_user("0", "", "").uid == 0
    with pytest.raises(InvalidArgument):
        resolve_user("alice", "", "")
