"""The `skiff` entry point: routes a command line to the part of skiff that serves it.

Kept import-light on purpose: `skiff run` is on the hot path of every benchmark, so each
family is imported only when its command is used.
"""

import sys

# Commands served by other processes than the docker-style client.
DAEMONS = {
    "engine": "skiff.engine.daemon",  # the Docker Engine API server (dockerd's job)
    "runtime": "skiff.engine.runtime.cli",  # the OCI runtime, runc's verbs
    "registry": "skiff.engine.registry.server.serve",  # `registry serve`: the distribution API server
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DAEMONS:
        import importlib

        return int(importlib.import_module(DAEMONS[argv[0]]).main(argv[1:]) or 0)
    from skiff.cli.docker import main as docker_main

    return int(docker_main(argv) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
