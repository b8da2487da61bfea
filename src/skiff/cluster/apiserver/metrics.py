"""The API server's Prometheus metrics, rendered in the text exposition format at /metrics.

Names follow kube-apiserver's: apiserver_request_total, apiserver_request_duration_seconds,
etcd_request_duration_seconds (storage latency, whatever the backend), apiserver_longrunning_requests.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

REQUEST_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15,
                   20, 30, 45, 60)
STORAGE_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15,
                   20, 30, 45, 60)

Labels = tuple[tuple[str, str], ...]


class Histogram:
    def __init__(self, buckets: tuple[float, ...]):
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1


def _fmt_labels(labels: Labels, extra: tuple[tuple[str, str], ...] = ()) -> str:
    items = (*labels, *extra)
    if not items:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in items)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(v: float) -> str:
    return repr(float(v)) if isinstance(v, float) and v != int(v) else str(int(v))


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[Labels, int] = defaultdict(int)
        self.durations: dict[Labels, Histogram] = {}
        self.storage: dict[Labels, Histogram] = {}
        self.watches: dict[Labels, int] = defaultdict(int)

    def request(self, verb: str, group: str, version: str, resource: str, subresource: str, scope: str,
                code: int, seconds: float) -> None:
        base = (("group", group), ("resource", resource), ("scope", scope), ("subresource", subresource),
                ("verb", verb), ("version", version))
        self.requests[(("code", str(code)), *base)] += 1
        hist = self.durations.get(base)
        if hist is None:
            hist = self.durations[base] = Histogram(REQUEST_BUCKETS)
        hist.observe(seconds)

    def storage_call(self, operation: str, type_: str, seconds: float) -> None:
        key = (("operation", operation), ("type", type_))
        hist = self.storage.get(key)
        if hist is None:
            hist = self.storage[key] = Histogram(STORAGE_BUCKETS)
        hist.observe(seconds)

    def watch_opened(self, group: str, resource: str) -> None:
        self.watches[(("group", group), ("resource", resource))] += 1

    def watch_closed(self, group: str, resource: str) -> None:
        self.watches[(("group", group), ("resource", resource))] -= 1

    def render(self) -> str:
        out: list[str] = []
        out += ["# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, "
                "dry run value, group, version, resource, scope, component, and HTTP response code.",
                "# TYPE apiserver_request_total counter"]
        for labels, n in sorted(self.requests.items()):
            out.append(f"apiserver_request_total{_fmt_labels(labels)} {n}")
        out += _histograms("apiserver_request_duration_seconds",
                           "Response latency distribution in seconds for each verb, group, version, "
                           "resource, subresource and scope.", self.durations)
        out += _histograms("etcd_request_duration_seconds",
                           "Storage request latency in seconds for each operation and object type.", self.storage)
        out += ["# HELP apiserver_longrunning_requests Gauge of all active long-running apiserver requests "
                "broken out by verb, group, version, resource, scope and component.",
                "# TYPE apiserver_longrunning_requests gauge"]
        for labels, n in sorted(self.watches.items()):
            out.append(f"apiserver_longrunning_requests{_fmt_labels((*labels, ('verb', 'WATCH')))} {n}")
        return "\n".join(out) + "\n"


def _histograms(name: str, help_: str, hists: dict[Labels, Histogram]) -> list[str]:
    out = [f"# HELP {name} {help_}", f"# TYPE {name} histogram"]
    for labels, h in sorted(hists.items()):
        running = 0
        for bound, count in zip(h.buckets, h.counts, strict=False):
            running += count
            out.append(f"{name}_bucket{_fmt_labels(labels, (('le', _num(bound)),))} {running}")
        out.append(f"{name}_bucket{_fmt_labels(labels, (('le', '+Inf'),))} {h.n}")
        out.append(f"{name}_sum{_fmt_labels(labels)} {h.total}")
        out.append(f"{name}_count{_fmt_labels(labels)} {h.n}")
    return out
