"""`kubectl wait --for=condition=C|delete|jsonpath=... TYPE NAME`: poll until every object meets it."""

from __future__ import annotations

import sys
import time
from typing import Any

from skiff.cli.kubectl import options, targets
from skiff.cli.kubectl.session import CommandError, Session, _seconds
from skiff.cluster.client.errors import StatusError

HELP = """Experimental: Wait for a specific condition on one or many resources.

Examples:
  kubectl wait --for=condition=Ready pod/busybox1
  kubectl wait --for=condition=Ready=false pod/busybox1
  kubectl wait --for=jsonpath='{.status.phase}'=Running pod/busybox1
  kubectl wait --for=delete pod/busybox1 --timeout=60s"""


def parse_for(text: str) -> tuple[str, str, str]:
    """(mode, subject, wanted value) from --for; pure."""
    if text == "delete":
        return "delete", "", ""
    if text.startswith("condition="):
        cond, _, value = text[len("condition="):].partition("=")
        return "condition", cond, value or "true"
    if text.startswith("jsonpath="):
        expr = text[len("jsonpath="):]
        close = expr.rfind("}")
        if close < 0:
            raise CommandError(f"jsonpath wait format must be --for=jsonpath='{{.status.readyReplicas}}'=3: {expr}")
        return "jsonpath", expr[:close + 1], expr[close + 2:] if expr[close + 1:close + 2] == "=" else ""
    raise CommandError(f"unrecognized condition: {text!r}")


def condition_met(obj: dict[str, Any], cond: str, value: str) -> bool:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if str(c.get("type", "")).lower() == cond.lower():
            return str(c.get("status", "")).lower() == value.lower()
    return False


def run(word: str, argv: list[str]) -> int:
    p = options.parser("wait", HELP)
    p.add_argument("words", nargs="*", metavar="(TYPE NAME | TYPE/NAME)")
    options.add_filename(p, "identifying the resource")
    options.add_selector(p)
    p.add_argument("--all", action="store_true", help="Select all resources in the namespace of the specified types")
    p.add_argument("--for", dest="for_", default="", help="The condition to wait on: [create|delete|condition=...|jsonpath=...]")
    p.add_argument("--timeout", default="30s", help="The length of time to wait before giving up.")
    options.add_output(p)
    opts = p.parse_intermixed_args(argv)
    if not opts.for_:
        raise CommandError("--for must be specified")
    mode, subject, wanted = parse_for(opts.for_)
    session = Session(opts)
    work = []
    for target in targets.resolve(session, opts.words, allow_all=False):
        ns = session.ns_for(target.resource)
        names = target.names
        if not names:
            listed = session.client.list(target.resource, ns, params={"labelSelector": opts.selector or ""})
            names = [(i.get("metadata") or {}).get("name", "") for i in listed.get("items") or []]
            if not names:
                raise CommandError("no matching resources found")
        work += [(target.resource, ns, n) for n in names]
    if not work:
        raise CommandError("resource(s) were provided, but no name was specified")
    deadline = time.monotonic() + _seconds(opts.timeout)
    for res, ns, name in work:
        first = True
        while True:
            try:
                obj = session.client.get(res, name, ns)
            except StatusError as e:
                if e.code != 404 or mode != "delete":
                    raise
                if first:  # gone before the wait began: kubectl says nothing
                    name = ""
                break
            first = False
            if mode == "condition" and condition_met(obj, subject, wanted):
                break
            if mode == "jsonpath" and _jsonpath_met(obj, subject, wanted):
                break
            if time.monotonic() >= deadline:
                raise CommandError(f"timed out waiting for the condition on {res.qualified}/{name}")
            time.sleep(0.5)
        if name:
            sys.stdout.write(f"{res.kind_qualified}/{name} condition met\n")
    return 0


def _jsonpath_met(obj: dict[str, Any], expr: str, wanted: str) -> bool:
    from skiff.cli.kubectl import jsonpath

    got = jsonpath.render(expr, obj)
    return got == wanted if wanted else bool(got)
