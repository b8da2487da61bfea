"""Running `skiff compose` / `skiff fig` and docker-compose against a test engine, in a project dir."""

import socket
import subprocess
import sys
import textwrap
from pathlib import Path


def write_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def compose(engine, cwd: Path, *args: str, prog: str = "compose", timeout: float = 180,
            env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skiff", prog, *args], cwd=cwd, env={**engine.env, **(env or {})},
                          capture_output=True, timeout=timeout)


def docker_compose(engine, cwd: Path, *args: str, timeout: float = 180,
                   env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["docker-compose", *args], cwd=cwd, env={**engine.env, **(env or {})},
                          capture_output=True, timeout=timeout)


def project_containers(engine, project: str, all_: bool = True) -> list[str]:
    """Names of the engine's containers labelled with the project, as the docker CLI lists them."""
    args = ["ps", "--format", "{{.Names}}", "--filter", f"label=com.docker.compose.project={project}"]
    out = engine.docker(*(args + ["-a"] if all_ else args)).stdout.decode().split()
    return sorted(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, timeout: float = 5) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout) as r:
        return r.read().decode()


def remove_project(engine, project: str) -> None:
    """Whatever a failed test left: the project's containers, networks, volumes and built images."""
    ids = engine.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").stdout.split()
    if ids:
        engine.docker("rm", "-f", *[i.decode() for i in ids])
    for kind in ("network", "volume"):
        names = engine.docker(kind, "ls", "-q", "--filter", f"label=com.docker.compose.project={project}").stdout.split()
        if names:
            engine.docker(kind, "rm", *[n.decode() for n in names])
