from skiff.cluster.kubelet import resources
from skiff.cluster.kubelet.containerspec import create_body, run_as_non_root_error
from skiff.cluster.kubelet.images import pull_policy


def pod(*containers, sc=None, **spec):
    return {"metadata": {"name": "p", "namespace": "d", "uid": "u"},
            "spec": {"containers": list(containers), "securityContext": sc or {}, **spec}}


def c(name="a", requests=None, limits=None, **extra):
    return {"name": name, "image": "busybox", "resources": {"requests": requests or {}, "limits": limits or {}},
            **extra}


def test_qos_classes():
    assert resources.qos_class(pod(c())) == "BestEffort"
    assert resources.qos_class(pod(c(limits={"cpu": "1", "memory": "1Gi"}))) == "Guaranteed"
    assert resources.qos_class(pod(c(requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "1000m",
                                                                                    "memory": "1Gi"}))) == "Guaranteed"
    assert resources.qos_class(pod(c(requests={"cpu": "100m"}))) == "Burstable"
    assert resources.qos_class(pod(c(limits={"cpu": "1", "memory": "1Gi"}), c("b"))) == "Burstable"


def test_cgroup_values_from_requests_and_limits():
    assert resources.host_config(c()) == {"CpuShares": 2}
    hc = resources.host_config(c(requests={"cpu": "250m"}, limits={"cpu": "500m", "memory": "128Mi"}))
    assert hc == {"CpuShares": 256, "CpuPeriod": 100000, "CpuQuota": 50000, "Memory": 128 * 1024 * 1024}
    # a limit alone is also the request
    assert resources.host_config(c(limits={"cpu": "2"}))["CpuShares"] == 2048


def test_pod_requests_count_the_largest_init_container():
    p = pod(c(requests={"cpu": "100m", "memory": "10Mi"}), c("b", requests={"cpu": "100m"}),
            initContainers=[c("i", requests={"cpu": "500m", "memory": "1Mi"})])
    assert resources.pod_requests(p) == (500, 10 * 1024 * 1024)


def test_create_body_joins_the_sandbox_and_maps_security():
    container = c(command=["sh"], args=["-c", "echo $(X)"], workingDir="/w", tty=True,
                  securityContext={"runAsUser": 1000, "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                                   "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                   "privileged": True})
    body = create_body(pod(container, sc={"runAsGroup": 3000, "fsGroup": 2000}, shareProcessNamespace=True),
                       container, "busybox", "SID", {"X": "1"}, {"l": "v"}, ["/h:/c:ro"])
    hc = body["HostConfig"]
    assert hc["NetworkMode"] == hc["IpcMode"] == hc["PidMode"] == "container:SID"
    assert hc["Binds"] == ["/h:/c:ro"] and hc["RestartPolicy"] == {"Name": "no"}
    assert hc["CapAdd"] == ["NET_ADMIN"] and hc["CapDrop"] == ["ALL"] and hc["Privileged"]
    assert hc["ReadonlyRootfs"] and hc["SecurityOpt"] == ["no-new-privileges"] and hc["GroupAdd"] == ["2000"]
    assert body["User"] == "1000:3000"
    assert body["Entrypoint"] == ["sh"] and body["Cmd"] == ["-c", "echo 1"]
    assert body["Env"] == ["X=1"] and body["WorkingDir"] == "/w" and body["Tty"] is True


def test_run_as_non_root():
    container = c(securityContext={"runAsNonRoot": True})
    assert run_as_non_root_error(pod(container), container, "") == \
        "container has runAsNonRoot and image will run as root"
    assert run_as_non_root_error(pod(container), container, "1000") == ""
    assert "non-numeric user (app)" in run_as_non_root_error(pod(container), container, "app")
    as_root = c(securityContext={"runAsNonRoot": True, "runAsUser": 0})
    assert run_as_non_root_error(pod(as_root), as_root, "1000") == "container's runAsUser breaks non-root policy"


def test_pull_policy_defaults():
    assert pull_policy({"image": "busybox"}) == "Always"
    assert pull_policy({"image": "busybox:latest"}) == "Always"
    assert pull_policy({"image": "busybox:1.36"}) == "IfNotPresent"
    assert pull_policy({"image": "localhost:5000/app"}) == "Always"
    assert pull_policy({"image": "busybox@sha256:" + "0" * 64}) == "IfNotPresent"
    assert pull_policy({"image": "busybox", "imagePullPolicy": "Never"}) == "Never"
