"""Objects `kubectl create configmap|secret|namespace` builds from literals, files and env files.

Pure apart from reading the named files; the wording of errors is kubectl's."""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

from skiff.cli.kubectl.session import CommandError

_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _check_key(key: str) -> None:
    if not key or not _KEY.match(key) or len(key) > 253:
        raise CommandError(f'"{key}" is not a valid key name: a valid config key must consist of alphanumeric '
                           "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
                           "for validation is '[-._a-zA-Z0-9]+')")


def literal_pairs(literals: list[str]) -> list[tuple[str, str]]:
    out = []
    for lit in literals:
        key, sep, value = lit.partition("=")
        if not sep or not key:
            raise CommandError(f"invalid literal source {lit}, expected key=value")
        out.append((key, value))
    return out


def env_file_pairs(text: str, path: str) -> list[tuple[str, str]]:
    """KEY=VALUE lines; `#` comments and blank lines skipped; a bare KEY takes the environment's value."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            if key.strip() in os.environ:
                out.append((key.strip(), os.environ[key.strip()]))
            continue
        if not key or " " in key:
            raise CommandError(f'"{key}" is not a valid key name in {path} line {number}')
        out.append((key, value))
    return out


def file_pairs(sources: list[str]) -> list[tuple[str, bytes]]:
    """`--from-file=[key=]path`: a file under its base name (or the key), a directory's regular files."""
    out: list[tuple[str, bytes]] = []
    for src in sources:
        key, sep, path = src.partition("=")
        if not sep:
            key, path = "", src
        elif not key:
            raise CommandError(f"key names or file paths cannot be empty: {src}")
        if not os.path.exists(path):
            raise CommandError(f"error reading {path}: no such file or directory")
        if os.path.isdir(path):
            if key:
                raise CommandError("cannot give a key name for a directory path")
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                if os.path.isfile(full):
                    with open(full, "rb") as f:
                        out.append((name, f.read()))
            continue
        with open(path, "rb") as f:
            out.append((key or os.path.basename(path), f.read()))
    return out


def _add(target: dict[str, str], key: str, value: str, kind: str, name: str, section: str) -> None:
    _check_key(key)
    if key in target:
        raise CommandError(f'cannot add key "{key}", another key by that name already exists in {section} for {kind} "{name}"')
    target[key] = value


def configmap(name: str, literals: list[str], files: list[str], env_files: list[str]) -> dict[str, Any]:
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for key, value in literal_pairs(literals):
        _add(data, key, value, "ConfigMap", name, "Data")
    for key, raw in file_pairs(files):
        try:
            _add(data, key, raw.decode("utf-8"), "ConfigMap", name, "Data")
        except UnicodeDecodeError:
            _add(binary, key, base64.b64encode(raw).decode(), "ConfigMap", name, "BinaryData")
    for path in env_files:
        with open(path, encoding="utf-8") as f:
            for key, value in env_file_pairs(f.read(), path):
                _add(data, key, value, "ConfigMap", name, "Data")
    obj: dict[str, Any] = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name}}
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    return obj


def secret_generic(name: str, literals: list[str], files: list[str], env_files: list[str],
                   secret_type: str = "") -> dict[str, Any]:
    data: dict[str, str] = {}

    def put(key: str, raw: bytes) -> None:
        _add(data, key, base64.b64encode(raw).decode(), "Secret", name, "Data")

    for key, value in literal_pairs(literals):
        put(key, value.encode())
    for key, raw in file_pairs(files):
        put(key, raw)
    for path in env_files:
        with open(path, encoding="utf-8") as f:
            for key, value in env_file_pairs(f.read(), path):
                put(key, value.encode())
    obj: dict[str, Any] = {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": name}}
    if data:
        obj["data"] = data
    if secret_type:
        obj["type"] = secret_type
    return obj


def secret_docker_registry(name: str, server: str, username: str, password: str, email: str = "") -> dict[str, Any]:
    if not username or not password:
        raise CommandError("either --from-file or the combination of --docker-username, --docker-password and "
                           "--docker-server is required")
    entry: dict[str, str] = {"username": username, "password": password}
    if email:
        entry["email"] = email
    entry["auth"] = base64.b64encode(f"{username}:{password}".encode()).decode()
    config = json.dumps({"auths": {server: entry}}, separators=(",", ":")).encode()
    return {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": name}, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(config).decode()}}


def secret_tls(name: str, cert_path: str, key_path: str) -> dict[str, Any]:
    if not cert_path or not key_path:
        raise CommandError("key and cert must be specified")
    blobs = []
    for path in (cert_path, key_path):
        if not os.path.exists(path):
            raise CommandError(f"open {path}: no such file or directory")
        with open(path, "rb") as f:
            blobs.append(f.read())
    if b"-----BEGIN" not in blobs[0] or b"-----BEGIN" not in blobs[1]:
        raise CommandError("tls: failed to find any PEM data in certificate input")
    return {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": name}, "type": "kubernetes.io/tls",
            "data": {"tls.crt": base64.b64encode(blobs[0]).decode(), "tls.key": base64.b64encode(blobs[1]).decode()}}


def namespace(name: str) -> dict[str, Any]:
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name}}


def content_hash(obj: dict[str, Any]) -> str:
    """`--append-hash`: ten characters of a sha256 over the kind, name and data, as kubectl encodes them."""
    import hashlib

    payload = {"kind": obj["kind"], "name": obj["metadata"]["name"], "data": obj.get("data", {})}
    if obj["kind"] == "Secret":
        payload["type"] = obj.get("type", "")
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    # kubectl maps hex to characters that cannot spell words; any stable suffix serves the same purpose here
    return "".join("bcdfghkmt"[int(c, 16) % 9] if c.isdigit() else c for c in digest[:10])
