"""`docker import -c` / `docker commit -c`: Dockerfile instructions applied to an image config."""

from __future__ import annotations

import json
import shlex

from skiff.common.errors import InvalidArgument

ALLOWED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")


def _json_or_shell(arg: str, shell: bool) -> list[str]:
    arg = arg.strip()
    if arg.startswith("["):
        try:
            value = json.loads(arg)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(x, str) for x in value):
            return value
    return ["/bin/sh", "-c", arg] if shell else shlex.split(arg)


def _pairs(arg: str, what: str) -> list[tuple[str, str]]:
    words = shlex.split(arg)
    if not words:
        raise InvalidArgument(f"{what} requires at least one argument")
    if "=" not in words[0]:
        # legacy form: ENV key value with spaces
        key, _, value = arg.strip().partition(" ")
        return [(key, value.strip())]
    out = []
    for w in words:
        if "=" not in w:
            raise InvalidArgument(f"{what} names can not be blank" if w.startswith("=") else f"Syntax error - can't find = in {w!r}. Must be of the form: name=value")
        k, _, v = w.partition("=")
        out.append((k, v))
    return out


def apply_changes(config: dict, changes: list[str]) -> dict:
    """Returns a new container config (the image config's `config` part) with `changes` applied."""
    c = json.loads(json.dumps(config or {}))
    for line in changes:
        line = line.strip()
        if not line:
            continue
        word, _, arg = line.partition(" ")
        instr = word.upper()
        if instr not in ALLOWED:
            raise InvalidArgument(f"{word} is not a valid change command")
        if instr == "CMD":
            c["Cmd"] = _json_or_shell(arg, shell=True)
        elif instr == "ENTRYPOINT":
            c["Entrypoint"] = _json_or_shell(arg, shell=True)
        elif instr == "ENV":
            env = list(c.get("Env") or [])
            for k, v in _pairs(arg, "ENV"):
                env = [e for e in env if e.split("=", 1)[0] != k] + [f"{k}={v}"]
            c["Env"] = env
        elif instr == "LABEL":
            labels = dict(c.get("Labels") or {})
            labels.update(_pairs(arg, "LABEL"))
            c["Labels"] = labels
        elif instr == "EXPOSE":
            ports = dict(c.get("ExposedPorts") or {})
            for p in arg.split():
                ports[p if "/" in p else p + "/tcp"] = {}
            c["ExposedPorts"] = ports
        elif instr == "VOLUME":
            vols = dict(c.get("Volumes") or {})
            for v in _json_or_shell(arg, shell=False):
                vols[v] = {}
            c["Volumes"] = vols
        elif instr == "USER":
            c["User"] = arg.strip()
        elif instr == "WORKDIR":
            c["WorkingDir"] = arg.strip()
        elif instr == "STOPSIGNAL":
            c["StopSignal"] = arg.strip()
        elif instr == "ONBUILD":
            c["OnBuild"] = [*(c.get("OnBuild") or []), arg.strip()]
    return c
