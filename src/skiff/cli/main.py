"""The `skiff` entry point: routes a command line to the part of skiff that serves it.

Kept import-light on purpose: `skiff run` is on the hot path of every benchmark, so each
family is imported only when its command is used.
"""

import sys

# Commands served by other processes than the docker-style client.
DAEMONS = {
    "engine": "skiff.engine.daemon",  # the Docker Engine API server (dockerd's job)
    "runtime": "skiff.engine.runtime.cli",  # the OCI runtime, runc's verbs
    "server": "skiff.cluster.server",  # the control plane (k3s server's job)
    "agent": "skiff.cluster.agent",  # a node agent: kubelet and its engine (k3s agent's job)
    "controller-manager": "skiff.cluster.controllers.command",  # kube-controller-manager's job, standalone
    "scheduler": "skiff.cluster.scheduler.command",  # kube-scheduler's job, standalone
    "registry": "skiff.engine.registry.server.serve",  # `registry serve`: the distribution API server
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DAEMONS:
        import importlib

        enable_site()  # the daemons use third-party packages (aiohttp, ...)
        return int(importlib.import_module(DAEMONS[argv[0]]).main(argv[1:]) or 0)
    if argv and argv[0] == "kubectl":  # a client of the Kubernetes API, stdlib-only until it needs YAML
        from skiff.cli.kubectl import main as kubectl_main

        return int(kubectl_main(argv[1:]) or 0)
    if argv and argv[0] in ("compose", "fig"):  # docker-compose v1's job (`fig` is its first name)
        from skiff.cli.commands.compose import main as compose_main

        return int(compose_main(argv[1:], argv[0]) or 0)
    from skiff.cli.docker import main as docker_main

    return int(docker_main(argv) or 0)


def enable_site() -> None:
    """Add site-packages (and run their .pth files) when the interpreter started without
    `site` (the lean launcher runs `python -SE`); nothing otherwise."""
    if sys.flags.no_site and "site" not in sys.modules:
        import site

        site.main()
    if _SiteOnDemand in sys.meta_path:
        sys.meta_path.remove(_SiteOnDemand)


class _SiteOnDemand:
    """Last on sys.meta_path under the lean launcher: the first top-level import nothing
    else finds (a third-party package) adds site-packages, then is looked up again."""

    @classmethod
    def find_spec(cls, name: str, path=None, target=None):
        if path is not None:
            return None
        enable_site()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None:
                return spec
        return None


def launch() -> None:
    """The lean launcher's entry (see cli/launcher.py): the interpreter started with -SE, so
    site-packages come only on demand; and it leaves with os._exit once the output is
    flushed, skipping the interpreter's teardown (a few ms that no command needs), unless a
    thread or an atexit handler still has work to do."""
    import atexit
    import os

    sys.meta_path.append(_SiteOnDemand)
    try:
        code = main()
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            sys.stderr.write(f"{e.code}\n")
            code = 1
    threading = sys.modules.get("threading")
    busy = threading and any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread())
    if busy or atexit._ncallbacks():
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe (`skiff ps | head`) or stream
            pass
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
