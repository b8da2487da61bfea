"""The docker CLI's credentials: `~/.docker/config.json` (or `$DOCKER_CONFIG`) and `X-Registry-Auth`.

Standard library only: the `skiff` CLI imports it and must start fast.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class AuthConfig:
    username: str = ""
    password: str = ""
    serveraddress: str = ""
    identitytoken: str = ""
    registrytoken: str = ""

    @property
    def empty(self) -> bool:
        return not (self.username or self.password or self.identitytoken or self.registrytoken)

    def header(self) -> str:
        """The base64url JSON the docker CLI sends as `X-Registry-Auth`."""
        data = {k: v for k, v in self.__dict__.items() if v}
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def decode_auth_header(value: str) -> AuthConfig:
    """`X-Registry-Auth` → AuthConfig; an absent or unreadable header is anonymous, as in dockerd."""
    value = (value or "").strip()
    if not value:
        return AuthConfig()
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        return AuthConfig()
    if not isinstance(data, dict):
        return AuthConfig()
    fields = AuthConfig.__dataclass_fields__
    return AuthConfig(**{k: str(v) for k, v in data.items() if k in fields and v is not None})


def config_dir(override: str | None = None) -> Path:
    if override:
        return Path(os.path.expanduser(override))
    env = os.environ.get("DOCKER_CONFIG")
    return Path(env) if env else Path.home() / ".docker"


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise ValueError(f"loading config file {path}: {e}") from None
    return data if isinstance(data, dict) else {}


def _save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="config.json.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent="\t")
        f.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def get_auth(key: str, directory: str | None = None) -> AuthConfig:
    """The stored credentials for a registry key (`https://index.docker.io/v1/`, `host:5000`)."""
    data = _load(config_dir(directory) / "config.json")
    auths = data.get("auths") or {}
    entry = auths.get(key)
    if entry is None:  # entries written as URLs: http(s)://host/...
        for k, v in auths.items():
            if k.split("://", 1)[-1].split("/", 1)[0] == key:
                entry = v
                break
    if not isinstance(entry, dict):
        return AuthConfig(serveraddress=key)
    cfg = AuthConfig(serveraddress=key, identitytoken=entry.get("identitytoken", ""))
    if entry.get("auth"):
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            cfg.username, cfg.password = user, password
        except (binascii.Error, UnicodeDecodeError):
            pass
    return cfg


def store_auth(key: str, username: str, password: str, directory: str | None = None) -> Path:
    """Save user:pass base64 under `auths[key]`, keeping everything else in the file."""
    path = config_dir(directory) / "config.json"
    data = _load(path)
    auths = data.setdefault("auths", {})
    auths[key] = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    _save(path, data)
    return path


def erase_auth(key: str, directory: str | None = None) -> bool:
    """Drop a registry's credentials; False when there were none."""
    path = config_dir(directory) / "config.json"
    data = _load(path)
    auths = data.get("auths") or {}
    if key not in auths:
        return False
    del auths[key]
    _save(path, data)
    return True
