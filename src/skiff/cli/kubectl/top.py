"""`kubectl top pod|node`: usage from the metrics.k8s.io/v1beta1 API, when the server serves it."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import options, printers
from skiff.cli.kubectl.session import CommandError, Session
from skiff.cluster.client.errors import StatusError

HELP = """Display resource (CPU/memory) usage.

Available Commands:
  node          Display resource (CPU/memory) usage of nodes
  pod           Display resource (CPU/memory) usage of pods

Examples:
  kubectl top pod
  kubectl top node NODE_NAME"""


def cpu_millis(text: str) -> int:
    """A CPU quantity (`250m`, `1`, `12345n`, `10u`) in millicores, rounded up as kubectl's MilliValue; pure."""
    scale = {"n": 1e-6, "u": 1e-3, "m": 1.0}
    if text and text[-1] in scale:
        value = float(text[:-1]) * scale[text[-1]]
    else:
        value = float(text or 0) * 1000
    import math

    return math.ceil(value - 1e-9)


def memory_mi(text: str) -> int:
    """A memory quantity in MiB (kubectl prints Value()/(1024*1024)); pure."""
    units = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4, "k": 1000, "M": 1000 ** 2, "G": 1000 ** 3}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor) // (1024 * 1024)
    return int(float(text or 0)) // (1024 * 1024)


def run(word: str, argv: list[str]) -> int:
    index = options.command_word(argv)
    sub = argv[index] if index is not None else ""
    kind = {"pod": "pods", "pods": "pods", "po": "pods", "node": "nodes", "nodes": "nodes", "no": "nodes"}.get(sub)
    if index is None or kind is None:
        if index is None:
            return options.group_help("top", HELP, argv, "[flags] [options]")
        return options.unknown_subcommand("top", argv[index:])
    p = options.parser(f"top {sub}", HELP)
    p.add_argument("words", nargs="*", metavar="NAME")
    options.add_selector(p)
    p.add_argument("-A", "--all-namespaces", action="store_true", help="List across all namespaces.")
    p.add_argument("--no-headers", action="store_true", help="If present, print output without headers.")
    opts = p.parse_intermixed_args(argv[:index] + argv[index + 1:])
    session = Session(opts)
    try:
        groups = session.client.request("GET", "/apis")
    except StatusError:
        groups = {}
    served = any(g.get("name") == "metrics.k8s.io" for g in groups.get("groups") or [])
    if not served:
        raise CommandError("Metrics API not available")
    ns = None if kind == "nodes" or opts.all_namespaces else session.namespace
    base = "/apis/metrics.k8s.io/v1beta1"
    path = f"{base}/namespaces/{ns}/{kind}" if ns else f"{base}/{kind}"
    items: list[dict[str, Any]]
    if opts.words:
        items = [session.client.request("GET", f"{path}/{n}") for n in opts.words]
    else:
        from skiff.cluster.client.paths import with_query

        listed = session.client.request("GET", with_query(path, {"labelSelector": opts.selector or ""}))
        items = listed.get("items") or []
        if not items and kind == "nodes":
            raise CommandError("metrics not available yet")
        if not items:
            sys.stderr.write(f"No resources found in {ns} namespace.\n" if ns else "No resources found\n")
            return 0
    rows = []
    for item in items:
        meta = item.get("metadata") or {}
        if kind == "nodes":
            usage = item.get("usage") or {}
            cpu, mem = cpu_millis(usage.get("cpu", "0")), memory_mi(usage.get("memory", "0"))
        else:
            cpu = sum(cpu_millis((c.get("usage") or {}).get("cpu", "0")) for c in item.get("containers") or [])
            mem = sum(memory_mi((c.get("usage") or {}).get("memory", "0")) for c in item.get("containers") or [])
        row = [meta.get("namespace", "")] if opts.all_namespaces and kind == "pods" else []
        rows.append(row + [meta.get("name", ""), f"{cpu}m", f"{mem}Mi"])
    header = (["NAMESPACE"] if opts.all_namespaces and kind == "pods" else []) + \
        ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    sys.stdout.write(printers.align(rows if opts.no_headers else [header] + rows))
    return 0
