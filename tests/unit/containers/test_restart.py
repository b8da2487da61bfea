import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.containers.restart import BACKOFF_START, decide, validate


def d(name, code=1, count=0, stopped=False, ran=1.0, backoff=0.0, retries=0):
    return decide({"Name": name, "MaximumRetryCount": retries}, code, count, stopped, ran, backoff)


def test_no_never_restarts():
    assert not d("no").restart
    assert not d("").restart


@pytest.mark.parametrize("name", ["always", "unless-stopped"])
def test_always_restarts_unless_manually_stopped(name):
    assert d(name, code=0).restart
    assert not d(name, stopped=True).restart


def test_on_failure_counts():
    assert not d("on-failure", code=0).restart
    assert d("on-failure", code=1).restart
    assert d("on-failure", code=1, count=2, retries=3).restart
    assert not d("on-failure", code=1, count=3, retries=3).restart
    assert d("on-failure", code=1, count=99, retries=0).restart  # 0 = no limit


def test_backoff_doubles_and_resets():
    first = d("always")
    assert first.delay == BACKOFF_START
    second = d("always", backoff=first.next_backoff)
    assert second.delay == pytest.approx(0.2)
    third = d("always", backoff=second.next_backoff)
    assert third.delay == pytest.approx(0.4)
    after_long_run = d("always", backoff=third.next_backoff, ran=11.0)
    assert after_long_run.delay == BACKOFF_START


def test_validate():
    validate({"Name": "on-failure", "MaximumRetryCount": 3})
    with pytest.raises(InvalidArgument, match="unknown policy 'sometimes'"):
        validate({"Name": "sometimes"})
    with pytest.raises(InvalidArgument, match="maximum retry count can only be used with 'on-failure'"):
        validate({"Name": "always", "MaximumRetryCount": 2})
    with pytest.raises(InvalidArgument, match="can't create 'AutoRemove' container with restart policy"):
        validate({"Name": "always"}, auto_remove=True)
