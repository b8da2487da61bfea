"""`kubectl run NAME --image=IMAGE`: one pod built client-side, as kubectl's run generator builds it."""

from __future__ import annotations

from typing import Any

from skiff.cli.kubectl import options, results
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Create and run a particular image in a pod.

Examples:
  kubectl run nginx --image=nginx
  kubectl run hazelcast --image=hazelcast/hazelcast --port=5701
  kubectl run hazelcast --image=hazelcast/hazelcast --env="DNS_DOMAIN=cluster" --env="POD_NAMESPACE=default"
  kubectl run hazelcast --image=hazelcast/hazelcast --labels="app=hazelcast,env=prod"
  kubectl run nginx --image=nginx --dry-run=client -o yaml
  kubectl run nginx --image=nginx --restart=Never -- <arg1> <arg2> ... <argN>
  kubectl run nginx --image=nginx --command -- <cmd> <arg1> ... <argN>"""

RESTART = {"always": "Always", "onfailure": "OnFailure", "never": "Never"}


def parse_labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (t for t in text.split(",") if t):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"invalid label spec: {item}")
        out[key] = value
    return out


def parse_env(values: list[str]) -> list[dict[str, str]]:
    out = []
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"invalid env: {item}")
        out.append({"name": key, "value": value})
    return out


def pod(name: str, image: str, *, port: str = "", env: list[str] | None = None, labels: str = "",
        restart: str = "Always", command: bool = False, args: list[str] | None = None,
        pull_policy: str = "", annotations: list[str] | None = None) -> dict[str, Any]:
    """The Pod kubectl's run generator makes (pure, unit-tested)."""
    # keys in the Go structs' field order: kubectl's -o json prints typed objects that way
    container: dict[str, Any] = {"name": name, "image": image}
    if args:
        container["command" if command else "args"] = list(args)
    if port:
        try:
            number = int(port)
        except ValueError:
            raise CommandError(f'strconv.Atoi: parsing "{port}": invalid syntax') from None
        container["ports"] = [{"containerPort": number}]
    if env:
        container["env"] = parse_env(env)
    container["resources"] = {}
    if pull_policy:
        container["imagePullPolicy"] = pull_policy
    meta: dict[str, Any] = {"name": name, "creationTimestamp": None,
                            "labels": parse_labels(labels) if labels else {"run": name}}
    if annotations:
        meta["annotations"] = dict(a.partition("=")[::2] for a in annotations)
    policy = RESTART.get(restart.lower())
    if policy is None:
        raise CommandError(f"invalid restart policy: {restart}")
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta,
            "spec": {"containers": [container], "restartPolicy": policy, "dnsPolicy": "ClusterFirst"},
            "status": {}}


def report_built(obj: dict[str, Any], verb: str, output: str, dry_run: str) -> None:
    """Report an object kubectl builds itself: a typed Go object, so -o json keeps struct order."""
    if output == "json":
        import json
        import sys

        sys.stdout.write(json.dumps(obj, indent=4, ensure_ascii=False) + "\n")
    else:
        results.report(obj, verb, output, dry_run)


def run(word: str, argv: list[str]) -> int:
    tail: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, tail = argv[:at], argv[at + 1:]
    p = options.parser("run", HELP, usage="kubectl run NAME --image=image [--env=\"key=value\"] [--port=port] "
                                          "[--dry-run=server|client] [--overrides=inline-json] [--command] -- "
                                          "[COMMAND] [args...] [options]")
    p.add_argument("words", nargs="*", metavar="NAME")
    p.add_argument("--image", default="", help="The image for the container to run.")
    p.add_argument("--port", default="", help="The port that this container exposes.")
    p.add_argument("--env", action="append", default=[], help="Environment variables to set in the container.")
    p.add_argument("-l", "--labels", default="", help="Comma separated labels to apply to the pod.")
    p.add_argument("--annotations", action="append", default=[], help="Annotations to apply to the pod.")
    p.add_argument("--restart", default="Always", help="The restart policy for this Pod: Always, OnFailure, Never.")
    p.add_argument("--command", action="store_true", help="Use the extra arguments as the command, not args.")
    p.add_argument("--image-pull-policy", default="", help="The image pull policy for the container.")
    p.add_argument("--field-manager", default="kubectl-run", help="Name of the manager used to track field ownership.")
    options.add_output(p)
    options.add_dry_run(p)
    opts = p.parse_intermixed_args(argv)
    if not opts.words:
        raise CommandError("NAME is required for run")
    name, extra = opts.words[0], opts.words[1:] + tail
    if not opts.image:
        raise CommandError("--image is required")
    obj = pod(name, opts.image, port=opts.port, env=opts.env, labels=opts.labels, restart=opts.restart,
              command=opts.command, args=extra, pull_policy=opts.image_pull_policy, annotations=opts.annotations)
    if opts.dry_run == "client":
        report_built(obj, "created", opts.output, opts.dry_run)
        return 0
    session = Session(opts)
    res = session.resource("pods")
    params = {**results.dry_run_params(opts.dry_run), "fieldManager": opts.field_manager}
    created = session.client.create(res, obj, session.ns_for(res), params=params)
    results.report(created, "created", opts.output, opts.dry_run)
    return 0
