"""What each metadata instruction does to the image config, as Docker's classic builder does it. Pure.

Every function takes the stage's state and the instruction, applies variable substitution
where Docker applies it, changes `state.run` (the image's runtime config) and returns the
history comment (`ENV A=b`, `CMD ["sh"]`, ...) that goes after `#(nop)`.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

from skiff.common.errors import InvalidArgument
from skiff.common.goduration import parse_go_duration
from skiff.engine.build.instructions import Instruction
from skiff.engine.build.parser import DockerfileError
from skiff.engine.build.shellwords import process_word, process_words

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHELL = ["/bin/sh", "-c"]
# Usable with --build-arg without an ARG line, and kept out of history (they may hold passwords).
PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
              "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


@dataclass
class StageState:
    image: dict  # the whole image config of the current image (rootfs, history, config, ...)
    image_id: str = ""  # "" for scratch until the first step is committed
    run: dict = field(default_factory=dict)  # the runtime config being built (Env, Cmd, ...)
    args: dict[str, str | None] = field(default_factory=dict)  # ARGs declared in this stage
    cmd_set: bool = False
    escape: str = "\\"

    @property
    def shell(self) -> list[str]:
        return list(self.run.get("Shell") or DEFAULT_SHELL)


def env_list_to_dict(env: list[str] | None) -> dict[str, str]:
    out = {}
    for item in env or []:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def expansion_env(state: StageState, build_args: dict[str, str]) -> dict[str, str]:
    """What `$VAR` sees: declared build args (their values in effect), then ENV, which wins."""
    env: dict[str, str] = {}
    for name, default in state.args.items():
        value = build_args.get(name, default)
        if value is not None:
            env[name] = value
    for name in PROXY_ARGS:
        if name in build_args and name not in env:
            env[name] = build_args[name]
    env.update(env_list_to_dict(state.run.get("Env")))
    return env


def run_args(state: StageState, build_args: dict[str, str]) -> list[str]:
    """`K=V` of the declared args a RUN sees that ENV does not override, sorted (Docker's `|N` list)."""
    env_keys = env_list_to_dict(state.run.get("Env"))
    out = []
    for name, default in sorted(state.args.items()):
        value = build_args.get(name, default)
        if value is not None and name not in env_keys:
            out.append(f"{name}={value}")
    return out


def go_quote_list(items: list[str]) -> str:
    """Go's `%q` of a []string: ["a" "b"]."""
    return "[" + " ".join(json.dumps(s, ensure_ascii=False) for s in items) + "]"


def set_env(run: dict, key: str, value: str) -> None:
    env = list(run.get("Env") or [])
    for i, item in enumerate(env):
        if item.partition("=")[0] == key:
            env[i] = f"{key}={value}"
            break
    else:
        env.append(f"{key}={value}")
    run["Env"] = env


def parse_duration(text: str, flag: str) -> int:
    """A Go duration, as Docker accepts it for HEALTHCHECK flags → nanoseconds."""
    if text in ("", "0"):
        return 0
    try:
        total = round(parse_go_duration(text) * 1e9)
    except ValueError as e:
        raise InvalidArgument(str(e)) from None
    if 0 < total < 1_000_000:
        raise InvalidArgument(f"Interval \"{flag}\" cannot be less than 1ms")
    return total


def normalize_port(spec: str) -> list[str]:
    """`80`, `80/udp`, `8000-8002/tcp` → ["80/tcp"], ... with Docker's errors."""
    port, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f"invalid proto: {proto}")
    lo, _, hi = port.partition("-")
    if not lo.isdigit() or (hi and not hi.isdigit()):
        raise InvalidArgument(f"invalid containerPort: {port}")
    start, end = int(lo), int(hi or lo)
    if end < start:
        raise InvalidArgument(f"invalid range specified for containerPort: {port}")
    return [f"{p}/{proto}" for p in range(start, end + 1)]


def apply(state: StageState, ins: Instruction, build_args: dict[str, str]) -> str:
    """Apply one metadata instruction; returns its history comment. DockerfileError on bad input."""
    try:
        return _apply(state, ins, build_args)
    except DockerfileError:
        raise
    except InvalidArgument as e:
        raise InvalidArgument(f"dockerfile parse error on line {ins.line}: {e.message}") from None


def _word(state: StageState, text: str, build_args: dict[str, str]) -> str:
    return process_word(text, expansion_env(state, build_args), state.escape)


def _apply(state: StageState, ins: Instruction, build_args: dict[str, str]) -> str:
    run = state.run
    kind = ins.kind
    if kind == "env":
        parts = []
        env = expansion_env(state, build_args)  # one instruction's pairs do not see each other, as in Docker
        for key, raw in ins.pairs:
            k = process_word(key, env, state.escape)
            v = process_word(raw or "", env, state.escape)
            set_env(run, k, v)
            parts.append(f"{k}={v}")
        return "ENV " + " ".join(parts)
    if kind == "label":
        labels = dict(run.get("Labels") or {})
        parts = []
        env = expansion_env(state, build_args)
        for key, raw in ins.pairs:
            k = process_word(key, env, state.escape)
            v = process_word(raw or "", env, state.escape)
            labels[k] = v
            parts.append(f"{k}={v}")
        run["Labels"] = labels
        return "LABEL " + " ".join(parts)
    if kind == "arg":
        parts = []
        env = expansion_env(state, build_args)
        for key, raw in ins.pairs:
            value = None if raw is None else process_word(raw, env, state.escape)
            state.args[key] = value
            parts.append(key if value is None else f"{key}={value}")
        return "ARG " + " ".join(parts)
    if kind == "maintainer":
        author = _word(state, ins.text, build_args)
        state.image["author"] = author
        return "MAINTAINER " + author
    if kind == "expose":
        ports = dict(run.get("ExposedPorts") or {})
        words: list[str] = []
        for w in ins.args:
            for spec in process_words(w, expansion_env(state, build_args), state.escape):
                for p in normalize_port(spec):
                    ports[p] = {}
                words.append(spec)
        run["ExposedPorts"] = ports
        return "EXPOSE " + " ".join(sorted(words))
    if kind == "user":
        run["User"] = _word(state, ins.args[0], build_args)
        return "USER " + run["User"]
    if kind == "stopsignal":
        run["StopSignal"] = _word(state, ins.args[0], build_args)
        return "STOPSIGNAL " + run["StopSignal"]
    if kind == "volume":
        vols = dict(run.get("Volumes") or {})
        env = expansion_env(state, build_args)
        names = [process_word(a, env, state.escape) for a in ins.args] if ins.json else \
            [w for a in ins.args for w in process_words(a, env, state.escape)]
        for v in names:
            if not v.strip():
                raise InvalidArgument("VOLUME specified can not be an empty string")
            vols[v] = {}
        run["Volumes"] = vols
        return "VOLUME " + "[" + " ".join(names) + "]"
    if kind == "workdir":
        return "WORKDIR " + apply_workdir(state, ins, build_args)
    if kind in ("cmd", "entrypoint"):
        cmd: list[str] = list(ins.args) if ins.json else [*state.shell, ins.text]
        if kind == "entrypoint" and not ins.json and not ins.text:
            cmd = []
        key = "Cmd" if kind == "cmd" else "Entrypoint"
        run[key] = cmd if cmd or (kind == "cmd" and ins.json) else None  # CMD [] is kept empty, as Docker
        if kind == "cmd":
            state.cmd_set = True
        elif not state.cmd_set:
            run["Cmd"] = None  # a new ENTRYPOINT drops the base image's CMD
        return f"{kind.upper()} " + go_quote_list(cmd)
    if kind == "shell":
        run["Shell"] = list(ins.args)
        return "SHELL [" + " ".join(ins.args) + "]"
    if kind == "onbuild":
        assert ins.sub is not None
        trigger = ins.sub.original
        run["OnBuild"] = [*(run.get("OnBuild") or []), trigger]
        return "ONBUILD " + trigger
    if kind == "healthcheck":
        return apply_healthcheck(state, ins)
    raise InvalidArgument(f"not a metadata instruction: {kind}")


def apply_workdir(state: StageState, ins: Instruction, build_args: dict[str, str]) -> str:
    path = _word(state, " ".join(ins.args), build_args)
    current = state.run.get("WorkingDir") or "/"
    state.run["WorkingDir"] = posixpath.normpath(posixpath.join(current, path))
    return state.run["WorkingDir"]


def go_duration(ns: int) -> str:
    """Go's time.Duration.String(): 0s, 500ms, 1m30s, 1h0m0s."""
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return f"{ns / size:g}{unit}"
    secs = ns / 1_000_000_000
    h, rest = divmod(secs, 3600)
    m, sec = divmod(rest, 60)
    text = f"{sec:.9f}".rstrip("0").rstrip(".") + "s"
    if h:
        return f"{int(h)}h{int(m)}m{text}"
    if m:
        return f"{int(m)}m{text}"
    return text


def _go_quote_rune(n: int) -> str:
    return f"'{chr(n)}'" if 0x20 <= n < 0x7F and chr(n) not in "'\\" else f"'\\x{n:02x}'"


def healthcheck_comment(hc: dict) -> str:
    """What dockerd writes: Go's %q of the HealthConfig pointer."""
    durations = " ".join(f'"{go_duration(hc.get(k, 0))}"' for k in ("Interval", "Timeout", "StartPeriod"))
    return f"HEALTHCHECK &{{{go_quote_list(hc['Test'])} {durations} {_go_quote_rune(hc.get('Retries', 0))}}}"


def apply_healthcheck(state: StageState, ins: Instruction) -> str:
    if ins.args == ["NONE"]:
        state.run["Healthcheck"] = {"Test": ["NONE"]}
        return healthcheck_comment(state.run["Healthcheck"])
    hc: dict = {"Test": list(ins.args)}
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod"),
                      ("start-interval", "StartInterval")):
        value = parse_duration(ins.flags.get(flag, ""), "--" + flag)
        if value:
            hc[key] = value
    retries = ins.flags.get("retries", "")
    if retries:
        if not retries.lstrip("-").isdigit() or int(retries) < 1:
            raise InvalidArgument("--retries cannot be 0" if retries == "0" else
                                  f"--retries must be a positive integer, not {retries}")
        hc["Retries"] = int(retries)
    state.run["Healthcheck"] = hc
    return healthcheck_comment(hc)
