"""The streaming protocols' pure parts: channel frames and Status messages, log options, and the
API server's choice of container and kubelet address."""

import json

import pytest
from multidict import MultiDict

from skiff.cluster.apimachinery.errors import ApiError
from skiff.cluster.apiserver import podstreams
from skiff.cluster.kubelet.streaming import channels, logs


def test_channel_frames_round_trip():
    assert channels.frame(channels.STDOUT, b"hi") == b"\x01hi"
    assert channels.split(b"\x02err") == (2, b"err")
    assert channels.split(b"") == (-1, b"")
    assert channels.parse_resize(b'{"Width":100,"Height":30}') == (30, 100)
    assert channels.parse_resize(b"not json") is None


def test_exit_status_is_what_kubectl_reads_as_an_exit_code():
    ok = json.loads(channels.exit_status(("true",), 0))
    assert ok["status"] == "Success"
    failed = json.loads(channels.exit_status(("sh", "-c", "exit 3"), 3))
    assert failed["reason"] == "NonZeroExitCode"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert failed["message"].endswith("error executing command [sh -c exit 3], exit code 3")


def test_stream_options():
    q = MultiDict([("command", "sh"), ("command", "-c"), ("stdout", "true"), ("stderr", "1"), ("tty", "true")])
    opts = channels.parse_options(q, exec_=True)
    assert opts.command == ("sh", "-c") and opts.stdout and opts.tty and not opts.stderr  # a tty has no stderr
    with pytest.raises(ValueError, match="at least 1 command"):
        channels.parse_options(MultiDict([("stdout", "true")]), exec_=True)
    with pytest.raises(ValueError, match="at least 1 of stdin, stdout, stderr"):
        channels.parse_options(MultiDict([("command", "ls")]), exec_=True)
    assert channels.parse_options(MultiDict([("stdin", "true")]), exec_=False).stdin


def test_log_options():
    q = MultiDict([("follow", "true"), ("tailLines", "3"), ("sinceSeconds", "10"), ("limitBytes", "5"),
                   ("timestamps", "true")])
    opts = logs.parse_options(q, now=1000.0)
    assert (opts.follow, opts.tail, opts.since, opts.limit_bytes, opts.timestamps) == (True, "3", 990.0, 5, True)
    assert logs.parse_options(MultiDict()).tail == "all"
    assert logs.parse_options(MultiDict([("sinceTime", "1970-01-01T00:01:00Z")])).since == 60.0
    with pytest.raises(ValueError, match="at most one of sinceTime or sinceSeconds"):
        logs.parse_options(MultiDict([("sinceTime", "1970-01-01T00:01:00Z"), ("sinceSeconds", "1")]))
    with pytest.raises(ValueError, match="tailLines"):
        logs.parse_options(MultiDict([("tailLines", "-1")]))
    with pytest.raises(ValueError, match="limitBytes"):
        logs.parse_options(MultiDict([("limitBytes", "0")]))


def test_byte_limit():
    limit = logs.ByteLimit(5)
    assert limit.take(b"abc") == b"abc" and not limit.done
    assert limit.take(b"defg") == b"de" and limit.done
    assert logs.ByteLimit(None).take(b"x" * 10) == b"x" * 10


def _pod(*names, inits=()):
    return {"metadata": {"name": "p"}, "spec": {"containers": [{"name": n} for n in names],
                                                  "initContainers": [{"name": n} for n in inits]}}


def test_pick_container():
    assert podstreams.pick_container(_pod("only"), "") == "only"
    assert podstreams.pick_container(_pod("a", "b", inits=["i"]), "i") == "i"
    with pytest.raises(ApiError) as e:
        podstreams.pick_container(_pod("a", "b", inits=["i"]), "")
    assert e.value.code == 400
    assert e.value.message == ("a container name must be specified for pod p, choose one of: [a b] or one of the "
                               "init containers: [i]")
    with pytest.raises(ApiError, match="container c is not valid for pod p"):
        podstreams.pick_container(_pod("a"), "c")


def test_log_state_of_a_container_that_never_ran():
    pod = _pod("a")
    pod["status"] = {"containerStatuses": [{"name": "a", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}
    with pytest.raises(ApiError, match='container "a" in pod "p" is waiting to start: ImagePullBackOff'):
        podstreams.check_log_state(pod, "a", previous=False)
    podstreams.check_log_state(pod, "a", previous=True)  # the kubelet answers for previous ones


def test_kubelet_location_prefers_the_internal_ip():
    node = {"metadata": {"name": "n"}, "status": {
        "addresses": [{"type": "Hostname", "address": "n"}, {"type": "InternalIP", "address": "10.0.0.5"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 12345}}}}
    assert podstreams.kubelet_location(node) == ("10.0.0.5", 12345)
    with pytest.raises(ApiError):
        podstreams.kubelet_location({"metadata": {"name": "n"}, "status": {}})
