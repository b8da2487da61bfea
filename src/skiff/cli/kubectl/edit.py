"""`kubectl edit`: the object in $KUBE_EDITOR / $EDITOR (vi), saved back as a merge patch."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from typing import Any

from skiff.cli.kubectl import options, printers, targets
from skiff.cli.kubectl.applypatch import merge_diff
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError

HELP = """Edit a resource from the default editor (KUBE_EDITOR, then EDITOR, else vi).

Examples:
  kubectl edit svc/registry
  KUBE_EDITOR="nano" kubectl edit deployment/front
  kubectl edit deployment/front -o json"""

HEADER = ("# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
          "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
          "# reopened with the relevant failures.\n#\n")


def strip_comments(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))


def run(word: str, argv: list[str]) -> int:
    p = options.parser("edit", HELP)
    p.add_argument("words", nargs="*", metavar="(RESOURCE/NAME | -f FILENAME)")
    options.add_filename(p, "to use to edit the resource")
    p.add_argument("-o", "--output", default="yaml", choices=("yaml", "json"), help="Output format in the editor.")
    p.add_argument("--validate", default="strict", help="strict (or true), warn, ignore (or false)")
    p.add_argument("--field-manager", default="kubectl-edit", help="Name of the manager used to track field ownership.")
    opts = p.parse_intermixed_args(argv)
    session = Session(opts)
    objects: list[tuple[Any, dict[str, Any]]] = []
    if opts.filename:
        from skiff.cli.kubectl import manifests

        for m in manifests.load(opts.filename, opts.recursive, verb="edit"):
            meta = m.obj.get("metadata") or {}
            res = manifests.resource_of(session, m)
            objects.append((res, session.client.get(res, meta.get("name", ""), session.ns_for(res, meta.get("namespace")))))
    else:
        if not opts.words:
            raise CommandError("edit requires a resource argument and name")
        for target in targets.resolve(session, opts.words, allow_all=False):
            if not target.names:
                raise CommandError("edit requires a resource name")
            objects += [(target.resource, session.client.get(target.resource, n, session.ns_for(target.resource)))
                        for n in target.names]
    failed = False
    for res, live in objects:
        failed |= not _edit_one(session, res, printers.without_managed_fields(live), opts)
    return 1 if failed else 0


def _editor() -> list[str]:
    editor = os.environ.get("KUBE_EDITOR") or os.environ.get("EDITOR") or "vi"
    return shlex.split(editor)


def _edit_one(session: Session, res: Any, shown: dict[str, Any], opts: Any) -> bool:
    text = printers.to_json(shown) if opts.output == "json" else printers.to_yaml(shown)
    suffix = ".json" if opts.output == "json" else ".yaml"
    fd, path = tempfile.mkstemp(prefix="kubectl-edit-", suffix=suffix)
    with os.fdopen(fd, "w") as f:
        f.write(HEADER + text)
    try:
        code = subprocess.call([*_editor(), path])
        if code != 0:
            raise CommandError(f"there was a problem with the editor \"{' '.join(_editor())}\"")
        with open(path) as f:
            edited_text = strip_comments(f.read())
    except BaseException:
        os.unlink(path)
        raise
    if not edited_text.strip():
        os.unlink(path)
        sys.stdout.write("Edit cancelled, no changes made.\n")
        return True
    try:
        from skiff.cli.kubectl.manifests import parse_documents

        docs = json.loads(edited_text) if opts.output == "json" else parse_documents(edited_text, path)[0]
    except (ValueError, IndexError, CommandError) as e:
        sys.stderr.write(f'error: {e}\nA copy of your changes has been stored to "{path}"\n')
        return False
    edited: dict[str, Any] = docs
    patch = merge_diff(shown, edited)
    name = (shown.get("metadata") or {}).get("name", "")
    if not patch:
        os.unlink(path)
        sys.stdout.write("Edit cancelled, no changes made.\n")
        return True
    patch.setdefault("metadata", {})["resourceVersion"] = (shown.get("metadata") or {}).get("resourceVersion")
    params = {"fieldManager": opts.field_manager, **_validation(opts.validate)}
    ns = (shown.get("metadata") or {}).get("namespace") if res.namespaced else None
    try:
        session.client.patch(res, name, patch, "merge", ns, params=params)
    except StatusError as e:
        sys.stderr.write(f'error: {res.qualified} "{name}" could not be patched: {e.message}\n'
                         f'You can run `kubectl replace -f {path}` to try this update again.\n'
                         if e.code in (409, 422) else server_error_text(e) + "\n")
        return False
    os.unlink(path)
    sys.stdout.write(f"{res.kind_qualified}/{name} edited\n")
    return True


def _validation(validate: str) -> dict[str, Any]:
    from skiff.cli.kubectl.results import validation_params

    return validation_params(validate)
