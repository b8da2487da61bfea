"""Go's tabwriter, durations and the describe helpers, pure."""

from datetime import UTC, datetime

from skiff.cli.kubectl import describers
from skiff.cli.kubectl.describe_text import Writer, events_section, generic, smart_label
from skiff.cli.kubectl.tabwriter import tabwrite


def test_tabwriter_aligns_per_block():
    text = "Name:\tweb\nService Account:\tdefault\nContainers:\n  c:\n    Image:\tbusybox\n    Environment:\t<none>\n"
    assert tabwrite(text).splitlines() == [
        "Name:             web", "Service Account:  default", "Containers:", "  c:",
        "    Image:        busybox", "    Environment:  <none>"]


def test_tabwriter_empty_cells_and_trailing_text():
    out = tabwrite("a\t\tb\tc\nlonger\t\tx\ty\n", padding=2)
    assert out.splitlines() == ["a         b  c", "longer    x  y"]


def test_smart_label():
    assert smart_label("holderIdentity") == "Holder Identity"
    assert smart_label("uid") == "UID" and smart_label("apiVersion") == "API Version"
    assert smart_label("podCIDR") == "Pod CIDR"
    assert smart_label("with.dot") == "with.dot"


def test_events_section_table_and_none():
    w = Writer()
    events_section(w, [])
    assert w.text() == "Events:  <none>\n"
    now = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    w = Writer()
    w.write(0, "Name:\tx\n")
    events_section(w, [{"type": "Normal", "reason": "Scheduled", "firstTimestamp": "2026-01-01T00:00:00Z",
                        "source": {"component": "default-scheduler"}, "message": "Assigned x "},
                       {"type": "Warning", "reason": "BackOff", "count": 3, "firstTimestamp": "2026-01-01T00:05:00Z",
                        "lastTimestamp": "2026-01-01T00:09:00Z", "source": {"component": "kubelet"}, "message": "m"}],
                   now=now)
    lines = w.text().splitlines()
    assert lines[0] == "Name:  x"  # the events table starts a new tabwriter block
    assert lines[1:4] == ["Events:", "  Type     Reason     Age               From               Message",
                          "  ----     ------     ----              ----               -------"]
    assert lines[4] == "  Normal   Scheduled  10m               default-scheduler  Assigned x"
    assert lines[5] == "  Warning  BackOff    60s (x3 over 5m)  kubelet            m"


def test_generic_describer():
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "l1", "namespace": "default", "uid": "u", "labels": {"a": "b"},
                          "managedFields": [{"manager": "x"}],
                          "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
             "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15, "tags": ["x", {"k": "v"}]}}
    assert generic(lease, []).splitlines() == [
        "Name:         l1", "Namespace:    default", "Labels:       a=b", "Annotations:  <none>",
        "API Version:  coordination.k8s.io/v1", "Kind:         Lease", "Metadata:", "  UID:  u", "Spec:",
        "  Holder Identity:         me", "  Lease Duration Seconds:  15", "  Tags:", "    x", "    K:   v",
        "Events:  <none>"]


def test_pod_describer_basics():
    pod = {"metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"}},
           "spec": {"serviceAccountName": "default", "priority": 0,
                    "containers": [{"name": "c", "image": "busybox", "ports": [{"containerPort": 80, "name": "http"}],
                                    "env": [{"name": "A", "value": "1"}],
                                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}],
                    "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}]},
           "status": {"phase": "Pending"}}
    text = describers.pod(pod, None, {})
    assert "    Port:       80/TCP (http)\n    Host Port:  0/TCP\n" in text
    assert "Tolerations:     k:NoExecute op=Exists for 30s" in text
    assert "QoS Class:       Guaranteed" in text
    assert "    Limits:\n      cpu:     1\n      memory:  1Gi\n" in text
    assert "      A:         1" in text and "Events" not in text
