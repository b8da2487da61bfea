"""Pure pieces of run, expose, set, taint, drain, rollout, wait and top."""

from __future__ import annotations

import pytest

from skiff.cli.kubectl import expose, nodes, rollout, run_cmd, set_cmd, taint, top, wait
from skiff.cli.kubectl.session import CommandError


def test_run_pod_shape_and_errors():
    pod = run_cmd.pod("web", "busybox", port="80", env=["A=1"], command=True, args=["sh", "-c", "x"])
    c = pod["spec"]["containers"][0]
    assert list(c) == ["name", "image", "command", "ports", "env", "resources"]
    assert pod["metadata"]["labels"] == {"run": "web"} and pod["spec"]["restartPolicy"] == "Always"
    assert run_cmd.pod("x", "i", args=["a"])["spec"]["containers"][0]["args"] == ["a"]
    with pytest.raises(CommandError):
        run_cmd.pod("x", "i", restart="Sometimes")
    with pytest.raises(CommandError):
        run_cmd.pod("x", "i", env=["NOVALUE"])


def test_expose_takes_selector_and_ports_from_the_object():
    dep = {"kind": "Deployment", "metadata": {"name": "d", "namespace": "n", "labels": {"x": "y"}},
           "spec": {"selector": {"matchLabels": {"app": "d"}},
                    "template": {"spec": {"containers": [{"ports": [{"containerPort": 80},
                                                                     {"containerPort": 81, "protocol": "UDP"}]}]}}}}
    svc = expose.service(dep, name="", port="", target_port="", protocol="", svc_type="", selector="", labels="")
    assert svc["spec"]["selector"] == {"app": "d"} and svc["metadata"]["namespace"] == "n"
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [("port-1", 80, "TCP"),
                                                                                     ("port-2", 81, "UDP")]
    with pytest.raises(CommandError, match="couldn't find port"):
        expose.service({"kind": "Pod", "metadata": {"labels": {"a": "b"}}, "spec": {}}, name="", port="",
                       target_port="", protocol="", svc_type="", selector="", labels="")


def test_set_image_and_env_patches():
    dep = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "x", "env": [{"name": "K", "value": "1"}]}, {"name": "b", "image": "y"}]}}}}
    assert set_cmd.image_patch(dep, {"*": "x"}) == {"spec": {"template": {"spec": {"containers": [
        {"image": "x", "name": "b"}]}}}}
    assert set_cmd.image_patch(dep, {"a": "x"}) is None
    with pytest.raises(CommandError, match='unable to find container named "c"'):
        set_cmd.image_patch(dep, {"c": "z"})
    assert set_cmd.env_patch(dep, ["K=1"]) is not None  # b lacks K
    patch = set_cmd.env_patch(dep, ["K-"], "a")
    assert patch["spec"]["template"]["spec"]["containers"] == [{"env": [{"$patch": "delete", "name": "K"}],
                                                                "name": "a"}]
    assert set_cmd.env_patch(dep, ["K=1"], "a") is None


def test_taint_specs():
    add, remove = taint.parse(["k=v:NoSchedule", "j:NoExecute", "old-", "x:PreferNoSchedule-"])
    assert add == [{"key": "k", "effect": "NoSchedule", "value": "v"}, {"key": "j", "effect": "NoExecute"}]
    assert remove == [{"key": "old"}, {"key": "x", "effect": "PreferNoSchedule"}]
    with pytest.raises(CommandError, match="invalid taint effect"):
        taint.parse(["k=v:Sometimes"])
    taints, verb = taint.apply([{"key": "old", "effect": "NoSchedule"}], add, [{"key": "old"}], False, "n")
    assert verb == "modified" and [t["key"] for t in taints] == ["k", "j"]
    with pytest.raises(CommandError, match="--overwrite is false"):
        taint.apply([{"key": "k", "effect": "NoSchedule"}], add[:1], [], False, "n")
    with pytest.raises(CommandError, match='taint "gone" not found'):
        taint.apply([], [], [{"key": "gone"}], False, "n")


def _pod(name, owner=None, volumes=None, phase="Running"):
    meta = {"name": name, "namespace": "ns"}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "controller": True}]
    return {"metadata": meta, "spec": {"volumes": volumes or []}, "status": {"phase": phase}}


def test_drain_filters_in_kubectl_order():
    pods = [_pod("ds", "DaemonSet"), _pod("bare"), _pod("tmp", "ReplicaSet", [{"emptyDir": {}}]),
            _pod("rs", "ReplicaSet"), _pod("done", phase="Succeeded")]
    evict, warnings, errors = nodes.classify(pods, force=False, ignore_daemonsets=False, delete_emptydir_data=False)
    assert [p["metadata"]["name"] for p in evict] == ["rs", "done"]
    assert errors[0].startswith("cannot delete DaemonSet-managed Pods") and len(errors) == 3
    evict, warnings, errors = nodes.classify(pods, force=True, ignore_daemonsets=True, delete_emptydir_data=True)
    assert not errors and len(evict) == 4 and warnings[0] == "ignoring DaemonSet-managed Pods: ns/ds"


def test_rollout_status_history_undo():
    dep = {"metadata": {"name": "d", "generation": 2}, "spec": {"replicas": 2},
           "status": {"observedGeneration": 2, "updatedReplicas": 2, "replicas": 3, "availableReplicas": 2}}
    assert rollout.deployment_status(dep) == ('Waiting for deployment "d" rollout to finish: 1 old replicas are '
                                              "pending termination...\n", False)
    dep["status"]["replicas"] = 2
    assert rollout.deployment_status(dep)[1] is True
    dep["metadata"]["generation"] = 3
    assert rollout.deployment_status(dep)[0].startswith("Waiting for deployment spec update")
    rs = [{"metadata": {"annotations": {rollout.REVISION: str(n)}},
           "spec": {"template": {"metadata": {"labels": {"app": "d", "pod-template-hash": "h"}}, "n": n}}}
          for n in (1, 3)]
    by = rollout.revisions(rs)
    assert rollout.history_text("deployment.apps/d", by) == \
        "deployment.apps/d \nREVISION  CHANGE-CAUSE\n1         <none>\n3         <none>\n\n"
    assert rollout.undo_template(by, 3, 0, "d") == {"metadata": {"labels": {"app": "d"}}, "n": 1}
    with pytest.raises(CommandError, match="no rollout history"):
        rollout.undo_template(by, 1, 0, "d")


def test_wait_for_and_top_quantities():
    assert wait.parse_for("condition=Ready") == ("condition", "Ready", "true")
    assert wait.parse_for("condition=Ready=false") == ("condition", "Ready", "false")
    assert wait.parse_for("jsonpath={.status.phase}=Running") == ("jsonpath", "{.status.phase}", "Running")
    assert wait.parse_for("delete") == ("delete", "", "")
    with pytest.raises(CommandError):
        wait.parse_for("sometime")
    assert wait.condition_met({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, "ready", "true")
    assert (top.cpu_millis("250m"), top.cpu_millis("1"), top.cpu_millis("1500000n")) == (250, 1000, 2)
    assert (top.memory_mi("2048Ki"), top.memory_mi("1Gi"), top.memory_mi("1048576")) == (2, 1024, 1)
