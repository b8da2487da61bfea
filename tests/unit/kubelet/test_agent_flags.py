import os

import pytest

from skiff.cluster import agent


def test_flags_parse_as_k3s_agent_takes_them():
    opts = agent.parse(["--server", "https://10.0.0.1:6443", "--token", "t", "--data-dir", "rel",
                        "--node-name", "Node1", "--node-label", "a=b", "--node-taint", "k=v:NoSchedule",
                        "--pod-manifest-path", "/etc/kubelet.d"])
    assert opts.node_name == "node1" and os.path.isabs(opts.data_dir)
    assert agent.parse_labels(opts.node_labels) == {"a": "b"}
    assert opts.pod_manifest_path == "/etc/kubelet.d"


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match="want KEY=VALUE"):
        agent.parse_labels(["novalue"])


@pytest.mark.skipif(os.geteuid() != 0, reason="the root check comes first")
@pytest.mark.parametrize("args,message", [
    (["--node-taint", "k=v:Sometimes"], "invalid taint"),
    (["--node-label", "x"], "invalid node label"),
    ([], "--token or --client-cert is required"),
])
def test_bad_flags_exit_1_with_a_reason(capsys, args, message):
    token = [] if not args else ["--token", "t"]
    assert agent.main(["--server", "https://127.0.0.1:1", *token, *args]) == 1
    assert message in capsys.readouterr().err


def test_server_is_required(capsys):
    with pytest.raises(SystemExit) as e:
        agent.parse([])
    assert e.value.code == 2
    assert "--server" in capsys.readouterr().err
