"""SPDY/3.1 framing and the port-forward / cp / port parsing helpers, without a network."""

import io
import tarfile
import zlib

import pytest

from skiff.cli.kubectl import cp, podtarget
from skiff.cli.kubectl import portforward as pf_cli
from skiff.cli.kubectl.session import CommandError
from skiff.cli.kubectl.wsstream import exit_code
from skiff.cluster.kubelet.streaming import portforward, spdy


def test_dictionary_is_the_one_go_checks_by_adler32():
    assert len(spdy.DICTIONARY) == 1423
    assert zlib.adler32(spdy.DICTIONARY) == 3821447106  # moby/spdystream's headerDictionary
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options") and spdy.DICTIONARY.endswith(b"enq=0.")


def test_streams_and_data_round_trip_across_split_reads():
    client, server = spdy.Codec(), spdy.Codec()
    wire = (client.syn_stream(1, {"streamType": "error", "port": "80", "requestID": "0"}, fin=True)
            + client.syn_stream(3, {"streamType": "data", "port": "80", "requestID": "0"})
            + client.data(3, b"GET / HTTP/1.0\r\n\r\n") + client.data(3, b"", fin=True) + client.ping(7))
    frames = []
    for i in range(0, len(wire), 5):  # WebSocket messages need not follow frame boundaries
        frames += server.feed(wire[i:i + 5])
    assert [(f.control, f.kind, f.stream_id, f.fin) for f in frames] == [
        (True, spdy.SYN_STREAM, 1, True), (True, spdy.SYN_STREAM, 3, False), (False, 0, 3, False),
        (False, 0, 3, True), (True, spdy.PING, 0, False)]
    assert frames[0].headers == {"streamtype": "error", "port": "80", "requestid": "0"}
    assert frames[2].payload == b"GET / HTTP/1.0\r\n\r\n"
    assert frames[4].value == 7
    replies = client.feed(server.syn_reply(1) + server.syn_reply(3) + server.rst_stream(3, spdy.RST_CANCEL))
    assert [(f.kind, f.stream_id) for f in replies] == [(spdy.SYN_REPLY, 1), (spdy.SYN_REPLY, 3),
                                                        (spdy.RST_STREAM, 3)]
    assert replies[2].value == spdy.RST_CANCEL


def test_other_versions_and_bad_headers_are_protocol_errors():
    with pytest.raises(spdy.ProtocolError, match="version 2"):
        spdy.Codec().feed(b"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01")
    with pytest.raises(spdy.ProtocolError):
        spdy.Codec().feed(b"\x80\x03\x00\x02\x00\x00\x00\x08\x00\x00\x00\x01garbage!")


def test_port_parsing():
    assert portforward.parse_port("8080") == 8080
    with pytest.raises(ValueError, match="invalid syntax"):
        portforward.parse_port("http")
    with pytest.raises(ValueError, match="must be > 0"):
        portforward.parse_port("70000")
    assert pf_cli.parse_ports(["8080", ":80", "5000:6000"]) == [(8080, 8080), (0, 80), (5000, 6000)]
    with pytest.raises(CommandError):
        pf_cli.parse_ports(["x:y"])


def test_cp_specs_and_tar_renaming(tmp_path):
    assert cp.parse_spec("ns/pod:/tmp/x") == ("ns", "pod", "/tmp/x")
    assert cp.parse_spec("pod:/tmp/x") == ("", "pod", "/tmp/x")
    assert cp.parse_spec("/local/file") is None
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_text("data")
    data = cp.pack(str(tmp_path / "src"), "renamed")
    assert sorted(tarfile.open(fileobj=io.BytesIO(data)).getnames()) == ["renamed", "renamed/f"]
    cp.unpack(data, "renamed", str(tmp_path / "out"))
    assert (tmp_path / "out" / "f").read_text() == "data"
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        info = tarfile.TarInfo("../escape")
        tar.addfile(info, io.BytesIO(b""))
    cp.unpack(evil.getvalue(), "renamed", str(tmp_path / "out2"))
    assert not (tmp_path / "escape").exists()


def test_pod_words_default_container_and_durations(capsys):
    assert podtarget.pod_name("pod/web") == "web" and podtarget.pod_name("web") == "web"
    with pytest.raises(CommandError):
        podtarget.pod_name("deployment/web")
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    assert podtarget.default_container(pod) == "a"
    assert capsys.readouterr().err == 'Defaulted container "a" out of: a, b\n'
    pod["metadata"]["annotations"] = {podtarget.DEFAULT_CONTAINER: "b"}
    assert podtarget.default_container(pod) == "b"
    assert podtarget.duration_seconds("1h30m") == 5400 and podtarget.duration_seconds("10s") == 10
    with pytest.raises(CommandError, match="invalid duration"):
        podtarget.duration_seconds("5 minutes")


def test_exit_code_from_the_status():
    assert exit_code({"status": "Success"}) == (0, "")
    code, message = exit_code({"status": "Failure", "reason": "NonZeroExitCode",
                               "details": {"causes": [{"reason": "ExitCode", "message": "42"}]}})
    assert (code, message) == (42, "command terminated with exit code 42")
    assert exit_code({"status": "Failure", "message": "boom"}) == (1, "error: boom")
