"""`kubectl version` and `kubectl cluster-info`."""

from __future__ import annotations

import sys

from skiff.cli.kubectl import options, printers
from skiff.cli.kubectl.session import CommandError, Session

CLIENT_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0+skiff", "gitCommit": "", "gitTreeState": "",
                  "buildDate": "", "goVersion": "", "compiler": "python",
                  "platform": f"linux/{'amd64' if sys.maxsize > 2**32 else '386'}"}


def run(word: str, argv: list[str]) -> int:
    if word == "cluster-info":
        p = options.parser("cluster-info", "Display addresses of the control plane and services with label kubernetes.io/cluster-service=true.")
        opts = p.parse_intermixed_args(argv)
        session = Session(opts)
        session.client.request("GET", "/version")  # reachable and authenticated, as kubectl checks by listing services
        green, yellow, reset = ("\x1b[0;32m", "\x1b[0;33m", "\x1b[0m") if sys.stdout.isatty() else ("", "", "")
        sys.stdout.write(f"{green}Kubernetes control plane{reset} is running at {yellow}{session.connection.server}{reset}\n"
                         "\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n")
        return 0
    p = options.parser("version", "Print the client and server version information for the current context.")
    p.add_argument("--client", action="store_true", help="If true, shows client version only (no server required).")
    options.add_output(p)
    opts = p.parse_intermixed_args(argv)
    if opts.output not in ("", "json", "yaml"):
        raise CommandError("--output must be 'yaml' or 'json'")
    doc: dict = {"clientVersion": CLIENT_VERSION}
    if not opts.client:
        doc["serverVersion"] = Session(opts).client.request("GET", "/version")
    if opts.output == "json":
        sys.stdout.write(printers.to_json(doc).replace("    ", "  "))
    elif opts.output == "yaml":
        sys.stdout.write(printers.to_yaml(doc))
    else:
        sys.stdout.write(f"Client Version: {CLIENT_VERSION['gitVersion']}\n")
        if "serverVersion" in doc:
            sys.stdout.write(f"Server Version: {doc['serverVersion'].get('gitVersion', '')}\n")
    return 0
