"""`kubectl create -f` and the generators: configmap, secret generic|docker-registry|tls, namespace."""

from __future__ import annotations

import json
import sys
from typing import Any

from skiff.cli.kubectl import generators, options, results, schemacheck
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

HELP = """Create a resource from a file or from stdin.

Examples:
  kubectl create -f ./pod.yaml
  cat pod.json | kubectl create -f -
  kubectl create configmap my-config --from-literal=key1=config1 --from-file=path/to/bar
  kubectl create secret generic db --from-env-file=path/to/.env
  kubectl create namespace my-namespace

Available Commands:
  configmap         Create a config map from a local file, directory or literal value
  clusterrole       Create a cluster role
  clusterrolebinding Create a cluster role binding for a particular cluster role
  cronjob           Create a cron job with the specified name
  deployment        Create a deployment with the specified name
  job               Create a job with the specified name
  namespace         Create a namespace with the specified name
  role              Create a role with single rule
  rolebinding       Create a role binding for a particular role or cluster role
  secret            Create a secret (generic, docker-registry, tls)
  service           Create a service (clusterip, externalname, loadbalancer, nodeport)
  serviceaccount    Create a service account with the specified name"""


def _common(p: options.Parser) -> None:
    options.add_output(p)
    options.add_dry_run(p)
    p.add_argument("--save-config", action="store_true", help="Save the configuration in the last-applied annotation.")
    p.add_argument("--validate", default="strict", help="strict (or true), warn, ignore (or false)")
    p.add_argument("--field-manager", default="kubectl-create", help="Name of the manager used to track field ownership.")


def run(word: str, argv: list[str]) -> int:
    from skiff.cli.kubectl.options import command_word

    index = command_word(argv)
    sub = argv[index] if index is not None else ""
    if index is not None and sub in ("configmap", "cm", "secret", "namespace", "ns"):
        return _generator(sub, argv[:index] + argv[index + 1:])
    from skiff.cli.kubectl.create_workloads import KINDS

    if index is not None and sub in ("role", "clusterrole", "rolebinding", "clusterrolebinding"):
        from skiff.cli.kubectl import create_workloads

        return create_workloads.run_rbac(sub, argv[:index] + argv[index + 1:])
    if index is not None and sub in KINDS:
        from skiff.cli.kubectl import create_workloads

        return create_workloads.run(sub, argv[:index] + argv[index + 1:])
    p = options.parser("create", HELP)
    options.add_filename(p, "to use to create the resource")
    _common(p)
    options.add_selector(p)
    p.add_argument("extra", nargs="*", help=argparse_suppress())
    opts = p.parse_intermixed_args(argv)
    if opts.extra:
        raise CommandError(f'unknown command "{opts.extra[0]}" for "kubectl create"')
    if not opts.filename:
        sys.stderr.write("error: must specify one of -f and -k\n\n" + HELP + "\n")
        return 1
    return create_from_files(Session(opts), opts)


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


def create_from_files(session: Session, opts: Any) -> int:
    from skiff.cli.kubectl import manifests

    failed = False
    items = manifests.load(opts.filename, opts.recursive)
    for m, res, ns in manifests.placed(session, items):
        obj = m.obj
        if opts.save_config:
            annotate_last_applied(obj)
        if opts.dry_run == "client":
            results.report(obj, "created", opts.output, opts.dry_run)
            continue
        params = {**results.dry_run_params(opts.dry_run), **results.validation_params(opts.validate),
                  "fieldManager": opts.field_manager}
        refused = client_side_errors(session, res, obj, params["fieldValidation"])
        if refused:
            sys.stderr.write(f"error: {schemacheck.message(m.source, refused)}\n")
            failed = True
            continue
        try:
            created = session.client.create(res, obj, ns, params=params)
        except StatusError as e:
            sys.stderr.write(server_error_text(e, f'error when creating "{m.source}"') + "\n")
            failed = True
            continue
        results.report(created, "created", opts.output, opts.dry_run)
    return 1 if failed or any(m.unmapped for m in items) else 0


_definitions: dict[str, Any] | None = None


def client_side_errors(session: Session, res: Any, obj: dict[str, Any], field_validation: str) -> list[str]:
    """What kubectl's own schema check refuses: only where the server cannot check fields (a
    kind without PATCH, like the review kinds), and only under strict validation."""
    global _definitions
    if field_validation != "Strict" or "patch" in res.verbs:
        return []
    if _definitions is None:
        _definitions = session.client.request("GET", "/openapi/v2").get("definitions") or {}
    return schemacheck.validate(_definitions, obj)


def annotate_last_applied(obj: dict[str, Any]) -> None:
    """Record the configuration in the annotation `kubectl apply` diffs against (without itself)."""
    meta = obj.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    clean = {**obj, "metadata": {**meta, "annotations": dict(annotations)}}  # `{}` kept, as kubectl writes it
    annotations[LAST_APPLIED] = json.dumps(clean, separators=(",", ":"), sort_keys=True) + "\n"
    meta["annotations"] = annotations


def _generator(sub: str, argv: list[str]) -> int:
    kind = {"cm": "configmap", "ns": "namespace"}.get(sub, sub)
    p = options.parser(f"create {kind}", f"Create a {kind}.")
    if kind == "secret":
        p.add_argument("secret_type", choices=("generic", "docker-registry", "tls"), metavar="generic|docker-registry|tls")
    p.add_argument("name", nargs="?")
    _common(p)
    if kind in ("configmap", "secret"):
        p.add_argument("--from-literal", action="append", default=[], help="Specify a key and literal value to insert")
        p.add_argument("--from-file", action="append", default=[], help="Key files can be specified using their file path")
        p.add_argument("--from-env-file", action="append", default=[], help="Path to a file to read lines of key=val pairs")
        p.add_argument("--append-hash", action="store_true", help="Append a hash of the data to its name.")
    if kind == "secret":
        p.add_argument("--type", default="", help="The type of secret to create")
        p.add_argument("--docker-server", default="https://index.docker.io/v1/", help="Server location for Docker registry")
        p.add_argument("--docker-username", default="", help="Username for Docker registry authentication")
        p.add_argument("--docker-password", default="", help="Password for Docker registry authentication")
        p.add_argument("--docker-email", default="", help="Email for Docker registry")
        p.add_argument("--cert", default="", help="Path to PEM encoded public key certificate.")
        p.add_argument("--key", default="", help="Path to private key associated with given certificate.")
    opts = p.parse_intermixed_args(argv)
    if not opts.name:
        raise CommandError("exactly one NAME is required, got 0")
    if kind == "configmap":
        obj = generators.configmap(opts.name, opts.from_literal, opts.from_file, opts.from_env_file)
    elif kind == "namespace":
        obj = generators.namespace(opts.name)
    elif opts.secret_type == "generic":
        obj = generators.secret_generic(opts.name, opts.from_literal, opts.from_file, opts.from_env_file, opts.type)
    elif opts.secret_type == "docker-registry":
        obj = generators.secret_docker_registry(opts.name, opts.docker_server, opts.docker_username,
                                                opts.docker_password, opts.docker_email)
    else:
        obj = generators.secret_tls(opts.name, opts.cert, opts.key)
    if getattr(opts, "append_hash", False):
        obj["metadata"]["name"] = f"{opts.name}-{generators.content_hash(obj)}"
    session = Session(opts)
    if opts.save_config:
        annotate_last_applied(obj)
    if opts.dry_run == "client":
        obj["metadata"]["creationTimestamp"] = None  # kubectl's typed objects print it so
        if kind != "namespace":
            obj["metadata"]["namespace"] = session.namespace if opts.namespace else obj["metadata"].get("namespace")
            if not obj["metadata"]["namespace"]:
                obj["metadata"].pop("namespace")
        results.report(obj, "created", opts.output, opts.dry_run)
        return 0
    res = session.resource_for("v1", obj["kind"])
    params = {**results.dry_run_params(opts.dry_run), **results.validation_params(opts.validate),
              "fieldManager": opts.field_manager}
    try:
        created = session.client.create(res, obj, session.ns_for(res), params=params)
    except StatusError as e:
        if kind == "namespace":
            raise
        sep = ":" if kind == "configmap" else ""  # kubectl's wording for these two, colon and all
        raise CommandError(f"failed to create {kind}{sep} {e.message}") from None
    results.report(created, "created", opts.output, opts.dry_run)
    return 0
