"""`kubectl taint nodes NAME key[=value]:effect [key[:effect]]-`: add, replace or remove node taints."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import options, targets
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Update the taints on one or more nodes.

Examples:
  kubectl taint nodes foo dedicated=special-user:NoSchedule
  kubectl taint nodes foo dedicated:NoSchedule-
  kubectl taint nodes foo dedicated-
  kubectl taint node -l myLabel=X dedicated=foo:PreferNoSchedule
  kubectl taint nodes foo bar:NoSchedule"""

USAGE_HINT = "\nSee 'kubectl taint -h' for help and examples"
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def parse(specs: list[str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(taints to add, taints to remove) from kubectl's taint specs; pure."""
    add: list[dict[str, str]] = []
    remove: list[dict[str, str]] = []
    for spec in specs:
        if spec.endswith("-"):
            key, _, effect = spec[:-1].partition(":")
            if effect and effect not in EFFECTS:
                raise CommandError(f"invalid taint effect: {effect}, unsupported taint effect{USAGE_HINT}")
            remove.append({"key": key, **({"effect": effect} if effect else {})})
            continue
        head, sep, effect = spec.rpartition(":")
        if not sep or not head:
            raise CommandError(f"invalid taint spec: {spec}")
        if effect not in EFFECTS:
            raise CommandError(f"invalid taint effect: {effect}, unsupported taint effect{USAGE_HINT}")
        key, _, value = head.partition("=")
        taint = {"key": key, "effect": effect}
        if value:
            taint["value"] = value
        add.append(taint)
    return add, remove


def apply(current: list[dict[str, Any]], add: list[dict[str, str]], remove: list[dict[str, str]],
          overwrite: bool, node: str) -> tuple[list[dict[str, Any]], str]:
    """The new taint list and kubectl's verb (tainted / untainted / modified); pure."""
    taints = [dict(t) for t in current]
    for r in remove:
        kept = [t for t in taints if not (t.get("key") == r["key"] and r.get("effect") in (None, t.get("effect")))]
        if len(kept) == len(taints):
            spec = r["key"] + (":" + r["effect"] if r.get("effect") else "")
            raise CommandError(f"taint \"{spec}\" not found")
        taints = kept
    for a in add:
        same = [i for i, t in enumerate(taints) if t.get("key") == a["key"] and t.get("effect") == a["effect"]]
        if same:
            if not overwrite:
                raise CommandError(f"node {node} already has {a['key']} taint(s) with same effect(s) and "
                                   "--overwrite is false")
            taints[same[0]] = dict(a)
        else:
            taints.append(dict(a))
    verb = "modified" if add and remove else "untainted" if remove else "tainted"
    return taints, verb


def run(word: str, argv: list[str]) -> int:
    p = options.parser("taint", HELP, usage="kubectl taint NODE NAME KEY_1=VAL_1:TAINT_EFFECT_1 ... [options]")
    p.add_argument("words", nargs="*", metavar="NODE NAME KEY=VAL:EFFECT")
    options.add_selector(p)
    options.add_dry_run(p)
    options.add_output(p)
    p.add_argument("--overwrite", action="store_true", help="If true, allow taints to be overwritten.")
    p.add_argument("--all", action="store_true", help="Select all nodes in the cluster")
    p.add_argument("--field-manager", default="kubectl-taint", help="Name of the manager used to track field ownership.")
    opts = p.parse_intermixed_args(argv)
    specs = [w for w in opts.words[1:] if ":" in w or w.endswith("-")]
    words = [w for w in opts.words if w not in specs]
    if not words:
        raise CommandError("at least one resource name must be specified since 'all' parameter is not set")
    if not specs:
        raise CommandError("at least one taint update is required")
    add, remove = parse(specs)
    session = Session(opts)
    for target in targets.resolve(session, words, allow_all=False):
        if target.resource.kind != "Node":
            raise CommandError(f"invalid resource type {target.resource.qualified}, only node types are supported")
        names = target.names
        if not names and (opts.all or opts.selector):
            listed = session.client.list(target.resource, params={"labelSelector": opts.selector or ""})
            names = [(n.get("metadata") or {}).get("name", "") for n in listed.get("items") or []]
        for name in names:
            node = session.client.get(target.resource, name)
            taints, verb = apply((node.get("spec") or {}).get("taints") or [], add, remove, opts.overwrite, name)
            if opts.dry_run != "client":
                params: dict[str, Any] = {"fieldManager": opts.field_manager}
                if opts.dry_run == "server":
                    params["dryRun"] = "All"
                # the taints only, no resourceVersion: kubectl sends the two-way merge patch of its
                # edit, so a kubelet's status heartbeat in between does not make it a conflict
                session.client.patch(target.resource, name, {"spec": {"taints": taints or None}}, "merge",
                                     params=params)
            suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(opts.dry_run, "")
            sys.stdout.write(f"node/{name} {verb}{suffix}\n")
    return 0
