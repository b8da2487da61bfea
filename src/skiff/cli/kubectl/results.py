"""How the mutating commands report each object: `pod/web created`, or -o name|json|yaml."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import printers
from skiff.cli.kubectl.session import CommandError


def dry_run_params(mode: str) -> dict[str, Any]:
    return {"dryRun": "All"} if mode == "server" else {}


def validation_params(validate: str) -> dict[str, Any]:
    value = (validate or "strict").lower()
    mapping = {"true": "Strict", "strict": "Strict", "warn": "Warn", "false": "Ignore", "ignore": "Ignore"}
    if value not in mapping:
        raise CommandError(f'invalid - validate option "{validate}"; must be one of: strict (or true), warn, ignore (or false)')
    return {"fieldValidation": mapping[value]}


def suffix(dry_run: str) -> str:
    return {"client": " (dry run)", "server": " (server dry run)"}.get(dry_run, "")


def report(obj: dict[str, Any], verb: str, output: str = "", dry_run: str = "none") -> None:
    if output in ("json", "yaml"):
        obj = printers.without_managed_fields(obj)
        sys.stdout.write(printers.to_json(obj) if output == "json" else printers.to_yaml(obj))
    elif output == "name":
        sys.stdout.write(printers.kind_name(obj) + "\n")
    elif output:
        raise CommandError(f'unable to match a printer suitable for the output format "{output}", allowed formats are: '
                           "json,name,yaml")
    else:
        sys.stdout.write(f"{printers.kind_name(obj)} {verb}{suffix(dry_run)}\n")
