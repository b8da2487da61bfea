"""`kubectl auth can-i` and `kubectl auth whoami`: SelfSubjectAccessReview, SelfSubjectRulesReview
and SelfSubjectReview, printed as kubectl prints them."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import options, printers
from skiff.cli.kubectl.session import CommandError, Session
from skiff.cli.kubectl.tabwriter import tabwrite

AUTHZ = "/apis/authorization.k8s.io/v1"


def run(word: str, argv: list[str]) -> int:
    index = options.command_word(argv)
    sub = argv[index] if index is not None else ""
    rest = argv[:index] + argv[index + 1:] if index is not None else list(argv)
    if sub == "can-i":
        return can_i(rest)
    if sub == "whoami":
        return whoami(rest)
    if not sub and (not argv or any(a.startswith("-") for a in argv)):
        return options.group_help("auth", "Inspect authorization.\n\nAvailable Commands:\n  can-i         Check "
                                  "whether an action is allowed\n  whoami        Experimental: Check self subject "
                                  "attributes", argv, "[flags] [options]")
    return options.unknown_subcommand("auth", [sub] if sub else [])


def can_i(argv: list[str]) -> int:
    p = options.parser("auth can-i", "Check whether an action is allowed.",
                       usage="kubectl auth can-i VERB [TYPE | TYPE/NAME | NONRESOURCEURL]")
    p.add_argument("args", nargs="*")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="If true, check the action in all namespaces.")
    p.add_argument("--list", action="store_true", help="If true, prints all allowed actions.")
    p.add_argument("--no-headers", action="store_true", help="If true, prints allowed actions without headers")
    p.add_argument("-q", "--quiet", action="store_true", help="If true, suppress output and just return the exit code.")
    p.add_argument("--subresource", default="", help="SubResource such as pod/log or deployment/scale")
    opts = p.parse_intermixed_args(argv)
    session = Session(opts)
    if opts.list:
        if opts.args:
            raise CommandError("list option must be specified with no arguments")
        return _list(session, opts)
    if len(opts.args) < 2:
        sys.stderr.write("error: you must specify two arguments: verb resource or verb resource/resourceName.\n"
                         "See 'kubectl auth can-i -h' for help and examples.\n")
        return 1
    verb, target = opts.args[0], opts.args[1]
    spec: dict[str, Any]
    if target.startswith("/"):
        spec = {"nonResourceAttributes": {"verb": verb, "path": target}}
    else:
        kind, _, name = target.partition("/")
        group, resource, namespaced = _resolve(session, kind)
        if not namespaced and not opts.all_namespaces:
            sys.stderr.write(f"Warning: resource '{resource}' is not namespace scoped\n\n")
        attrs = {"namespace": "" if opts.all_namespaces else session.namespace, "verb": verb, "group": group,
                 "resource": resource, "subresource": opts.subresource, "name": name}
        spec = {"resourceAttributes": {k: v for k, v in attrs.items() if v}}
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec}
    status = session.client.request("POST", f"{AUTHZ}/selfsubjectaccessreviews", review).get("status") or {}
    allowed = bool(status.get("allowed"))
    if not opts.quiet:
        sys.stdout.write(answer_text(status) + "\n")
    return 0 if allowed else 1


def answer_text(status: dict[str, Any]) -> str:
    """`yes`, or `no` with the reason and evaluation error kubectl appends. Pure."""
    if status.get("allowed"):
        return "yes"
    text = "no"
    for key in ("reason", "evaluationError"):
        if status.get(key):
            text += f" - {status[key]}"
    return text


def _resolve(session: Session, kind: str) -> tuple[str, str, bool]:
    from skiff.cluster.client.discovery import UnknownResource

    try:
        res = session.resource(kind)
        return res.group, res.plural, res.namespaced
    except UnknownResource:
        sys.stderr.write(f"Warning: the server doesn't have a resource type '{kind}'\n\n")
        resource, _, group = kind.partition(".")
        return group, resource, True


def _list(session: Session, opts: Any) -> int:
    ns = "" if opts.all_namespaces else session.namespace
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": ns}}
    status = session.client.request("POST", f"{AUTHZ}/selfsubjectrulesreviews", review).get("status") or {}
    if status.get("incomplete") and status.get("evaluationError"):
        sys.stderr.write(f"warning: the list may be incomplete: {status['evaluationError']}\n")
    sys.stdout.write(rules_table(status, headers=not opts.no_headers))
    return 0


def _go_list(values: list[str]) -> str:
    return "[" + " ".join(values) + "]"


def _breakdown(rule: dict[str, Any]) -> list[dict[str, list[str]]]:
    out = []
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            for verb in rule.get("verbs") or []:
                for name in rule.get("resourceNames") or [None]:
                    sub = {"verbs": [verb], "apiGroups": [group], "resources": [resource], "resourceNames": [],
                           "nonResourceURLs": []}
                    if name is not None:
                        sub["resourceNames"] = [name]
                    out.append(sub)
    for url in rule.get("nonResourceURLs") or []:
        for verb in rule.get("verbs") or []:
            out.append({"verbs": [verb], "apiGroups": [], "resources": [], "resourceNames": [],
                        "nonResourceURLs": [url]})
    return out


def rules_table(status: dict[str, Any], headers: bool = True) -> str:
    """kubectl's can-i --list: rules broken down, simple ones compacted by (group, resource, name)
    with verbs appended, sorted by Go's PolicyRule String(). Pure."""
    rules = [{**r, "nonResourceURLs": []} for r in status.get("resourceRules") or []]
    rules += [{"verbs": r.get("verbs") or [], "nonResourceURLs": r.get("nonResourceURLs") or []}
              for r in status.get("nonResourceRules") or []]
    compacted: list[dict[str, list[str]]] = []
    simple: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    for rule in rules:
        for sub in _breakdown(rule):
            if sub["nonResourceURLs"]:
                compacted.append(sub)
                continue
            key = (sub["apiGroups"][0], sub["resources"][0], (sub["resourceNames"] or [""])[0])
            if key in simple:
                simple[key]["verbs"].extend(sub["verbs"])
            else:
                simple[key] = sub
    compacted.extend(simple.values())

    def go_string(r: dict[str, list[str]]) -> str:
        return ("&PolicyRule{" + f"Verbs:{_go_list(r['verbs'])},APIGroups:{_go_list(r['apiGroups'])},"
                f"Resources:{_go_list(r['resources'])},ResourceNames:{_go_list(r['resourceNames'])},"
                f"NonResourceURLs:{_go_list(r['nonResourceURLs'])}," + "}")

    compacted.sort(key=go_string)
    lines = ["Resources\tNon-Resource URLs\tResource Names\tVerbs"] if headers else []
    for r in compacted:
        lines.append(f"{_resource_group(r)}\t{_go_list(r['nonResourceURLs'])}\t{_go_list(r['resourceNames'])}\t"
                     f"{_go_list(r['verbs'])}")
    return tabwrite("\n".join(lines) + "\n", minwidth=6, padding=3) if lines else ""


def _resource_group(rule: dict[str, list[str]]) -> str:
    if not rule["resources"]:
        return ""
    resource, _, sub = rule["resources"][0].partition("/")
    group = rule["apiGroups"][0] if rule["apiGroups"] else ""
    return resource + (f".{group}" if group else "") + (f"/{sub}" if sub else "")


def whoami(argv: list[str]) -> int:
    p = options.parser("auth whoami", "Experimental: Check who you are and your attributes (groups, extra).")
    options.add_output(p)
    opts = p.parse_intermixed_args(argv)
    if opts.output not in ("", "json", "yaml"):
        raise CommandError(f'unable to match a printer suitable for the output format "{opts.output}", allowed '
                           'formats are: json,yaml')
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    got = Session(opts).client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", review)
    if opts.output == "yaml":
        sys.stdout.write(printers.to_yaml(got))
    elif opts.output == "json":  # the typed object's field order, as kubectl prints it
        import json

        info = (got.get("status") or {}).get("userInfo") or {}
        shown = {k: got[k] for k in ("kind", "apiVersion", "metadata") if k in got}
        shown["status"] = {"userInfo": {k: info[k] for k in ("username", "uid", "groups", "extra") if k in info}}
        sys.stdout.write(json.dumps(shown, indent=4) + "\n")
    else:
        sys.stdout.write(whoami_table((got.get("status") or {}).get("userInfo") or {}))
    return 0


def whoami_table(info: dict[str, Any]) -> str:
    """kubectl's ATTRIBUTE/VALUE table. Pure."""
    rows = ["ATTRIBUTE\tVALUE", f"Username\t{info.get('username', '')}"]
    if info.get("uid"):
        rows.append(f"UID\t{info['uid']}")
    if info.get("groups"):
        rows.append(f"Groups\t{_go_list(info['groups'])}")
    for key, values in sorted((info.get("extra") or {}).items()):
        rows.append(f"Extra: {key}\t{_go_list(values)}")
    return tabwrite("\n".join(rows) + "\n", padding=3)
