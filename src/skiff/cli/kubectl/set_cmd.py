"""`kubectl set image|env`: strategic merge patches of a workload's pod template containers."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import options, results, targets
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Configure application resources.

Available Commands:
  env         Update environment variables on a pod template
  image       Update the image of a pod template
  resources   Update resource requests/limits on objects with pod templates

Examples:
  kubectl set image deployment/nginx busybox=busybox nginx=nginx:1.9.1
  kubectl set image deployments,rc nginx=nginx:1.9.1 --all
  kubectl set env deployment/registry STORAGE_DIR=/local
  kubectl set env deployment/registry STORAGE_DIR-
  kubectl set resources deployment nginx -c=nginx --limits=cpu=200m,memory=512Mi --requests=cpu=100m"""


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def wrap(kind: str, containers_patch: dict[str, Any]) -> dict[str, Any]:
    """Place a pod-spec patch where the kind keeps its pod spec."""
    if kind == "Pod":
        return {"spec": containers_patch}
    inner = {"spec": {"template": {"spec": containers_patch}}}
    return {"spec": {"jobTemplate": inner}} if kind == "CronJob" else inner


def image_patch(obj: dict[str, Any], images: dict[str, str]) -> dict[str, Any] | None:
    """The patch setting `container=image` pairs (`*` is every container), None when every image
    already is the one asked for (kubectl then prints nothing); pure."""
    spec = pod_spec(obj)
    sections = {"containers": spec.get("containers") or [], "initContainers": spec.get("initContainers") or []}
    out: dict[str, list[dict[str, str]]] = {}
    for wanted, image in images.items():
        found = False
        for section, containers in sections.items():
            for c in containers:
                if wanted in ("*", c.get("name")):
                    if c.get("image") != image:
                        out.setdefault(section, []).append({"image": image, "name": c.get("name", "")})
                    found = True
        if not found:
            raise CommandError(f'unable to find container named "{wanted}"')
    return wrap(obj.get("kind", ""), out) if out else None


def env_patch(obj: dict[str, Any], pairs: list[str], container: str = "*") -> dict[str, Any] | None:
    """`KEY=VALUE` sets, `KEY-` removes, in the chosen containers; None when nothing changes; pure."""
    env: list[dict[str, Any]] = []
    for item in pairs:
        if item.endswith("-") and "=" not in item:
            env.append({"$patch": "delete", "name": item[:-1]})
            continue
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"environment variables must be of the form key=value: {item}")
        env.append({"name": key, "value": value})
    chosen = [c for c in pod_spec(obj).get("containers") or [] if container in ("*", c.get("name"))]
    if not chosen:
        raise CommandError(f'unable to find container named "{container}"')
    changed = [c for c in chosen if _env_changes(c.get("env") or [], env)]
    if not changed:
        return None
    return wrap(obj.get("kind", ""), {"containers": [{"env": env, "name": c.get("name", "")} for c in changed]})


def _env_changes(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    have = {e.get("name"): e for e in current}
    for item in wanted:
        if item.get("$patch") == "delete":
            if item["name"] in have:
                return True
        elif have.get(item["name"]) != item:
            return True
    return False


def parse_quantities(text: str, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (t for t in text.split(",") if t):
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise CommandError(f"invalid {flag} specification: {item}")
        out[name] = value
    return out


def resources_patch(obj: dict[str, Any], limits: dict[str, str], requests: dict[str, str],
                    container: str = "*") -> dict[str, Any] | None:
    """The patch setting requests/limits in the chosen containers; None when nothing changes; pure."""
    out = []
    for c in pod_spec(obj).get("containers") or []:
        if container not in ("*", c.get("name")):
            continue
        current = c.get("resources") or {}
        entry: dict[str, Any] = {}
        if limits and any((current.get("limits") or {}).get(k) != v for k, v in limits.items()):
            entry["limits"] = limits
        if requests and any((current.get("requests") or {}).get(k) != v for k, v in requests.items()):
            entry["requests"] = requests
        if entry:
            out.append({"name": c.get("name", ""), "resources": entry})
    if not any(container in ("*", c.get("name")) for c in pod_spec(obj).get("containers") or []):
        raise CommandError(f"unable to find container named {container}")  # unquoted here, as kubectl
    return wrap(obj.get("kind", ""), {"containers": out}) if out else None


def run(word: str, argv: list[str]) -> int:
    index = options.command_word(argv)
    sub = argv[index] if index is not None else ""
    if index is None or sub not in ("image", "env", "resources"):
        if not sub:
            return options.group_help("set", HELP, argv)
        if any(a in ("-h", "--help") for a in argv):
            sys.stdout.write(HELP + "\n")
            return 0
        return options.unknown_subcommand("set", argv[index:])
    argv = argv[:index] + argv[index + 1:]
    p = options.parser(f"set {sub}", HELP)
    p.add_argument("words", nargs="*", metavar="(-f FILENAME | TYPE NAME) ARGS")
    options.add_filename(p, "identifying the resource to update")
    options.add_selector(p)
    p.add_argument("--all", action="store_true", help="Select all resources in the namespace of the specified types")
    p.add_argument("-c", "--containers", default="*", help="The names of containers in the pods to change.")
    p.add_argument("--local", action="store_true", help="If true, set will NOT contact api-server.")
    p.add_argument("--limits", default="", help="The resource requirement limits for this container, e.g. cpu=200m,memory=512Mi.")
    p.add_argument("--requests", default="", help="The resource requirement requests for this container.")
    p.add_argument("--field-manager", default="kubectl-set", help="Name of the manager used to track field ownership.")
    options.add_output(p)
    options.add_dry_run(p)
    opts = p.parse_intermixed_args(argv)
    words = [w for w in opts.words if not _is_pair(w, sub)]
    pairs = [w for w in opts.words if _is_pair(w, sub)]
    if sub == "resources":
        words, pairs = list(opts.words), []
        limits = parse_quantities(opts.limits, "limits")
        requests = parse_quantities(opts.requests, "requests")
        if not limits and not requests:
            raise CommandError("you must specify an update to requests or limits (in the form of --requests/--limits)")
    elif not pairs:
        raise CommandError("at least one image update is required" if sub == "image"
                           else "at least one environment variable must be provided")
    session = Session(opts)
    work = []
    for target in targets.resolve(session, words, allow_all=False):
        names = target.names
        ns = session.ns_for(target.resource)
        if not names and (opts.all or opts.selector):
            listed = session.client.list(target.resource, ns, params={"labelSelector": opts.selector or ""})
            names = [(i.get("metadata") or {}).get("name", "") for i in listed.get("items") or []]
        elif not names:
            raise CommandError("resource(s) were provided, but no name was specified")
        work += [(target.resource, ns, n) for n in names]
    params = {**results.dry_run_params(opts.dry_run), "fieldManager": opts.field_manager}
    verb = {"image": "image updated", "env": "env updated", "resources": "resource requirements updated"}[sub]
    for res, ns, name in work:
        obj = session.client.get(res, name, ns)
        obj.setdefault("kind", res.kind)
        if sub == "image":
            patch = image_patch(obj, dict(p.split("=", 1) for p in pairs))
        elif sub == "resources":
            patch = resources_patch(obj, limits, requests, opts.containers)
        elif not any(opts.containers in ("*", c.get("name")) for c in pod_spec(obj).get("containers") or []):
            sys.stderr.write(f'Warning: {res.kind}/{name} does not have any containers matching "{opts.containers}"\n')
            continue
        else:
            patch = env_patch(obj, pairs, opts.containers)
        if patch is None:
            continue
        if opts.dry_run == "client":
            results.report(obj, verb, opts.output, opts.dry_run)
            continue
        after = session.client.patch(res, name, patch, "strategic", ns, params=params)
        if opts.output:
            results.report(after, verb, opts.output, opts.dry_run)
        else:
            sys.stdout.write(f"{res.kind_qualified}/{name} {verb}{results.suffix(opts.dry_run)}\n")
    return 0


def _is_pair(word: str, sub: str) -> bool:
    if "/" in word.partition("=")[0]:
        return False
    return "=" in word or (sub == "env" and word.endswith("-"))
