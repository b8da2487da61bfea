"""`kubectl version` and `kubectl cluster-info`."""

from __future__ import annotations

import sys

from skiff.cli.kubectl import options, printers
from skiff.cli.kubectl.session import CommandError, Session

CLIENT_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0+skiff", "gitCommit": "", "gitTreeState": "",
                  "buildDate": "", "goVersion": "", "compiler": "python",
                  "platform": f"linux/{'amd64' if sys.maxsize > 2**32 else '386'}"}


def _service_link(server: str, svc: dict) -> str:
    """A cluster service's address as kubectl prints it: its load balancer's, else the API
    server's proxy path `<scheme>:<name>:<port name>` (https guessed from the port)."""
    ports = (svc.get("spec") or {}).get("ports") or []
    ingress = (((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [])
    if ingress:
        ip = ingress[0].get("ip") or ingress[0].get("hostname") or ""
        return "".join(f"http://{ip}:{p.get('port')} " for p in ports)
    name = svc["metadata"]["name"]
    if ports:
        port = ports[0]
        scheme = "https" if port.get("name") == "https" or port.get("port") == 443 else ""
        parts = [scheme, name, port.get("name") or ""] if scheme else [name, port.get("name") or ""]
        name = ":".join(parts) if (scheme or port.get("name")) else name
    return f"{server}/api/v1/namespaces/{svc['metadata']['namespace']}/services/{name}/proxy"


def run(word: str, argv: list[str]) -> int:
    if word == "cluster-info":
        p = options.parser("cluster-info", "Display addresses of the control plane and services with label kubernetes.io/cluster-service=true.")
        opts = p.parse_intermixed_args(argv)
        session = Session(opts)
        ns = opts.namespace or "kube-system"  # kubectl's default here, not the context's namespace
        listed = session.client.request("GET", f"/api/v1/namespaces/{ns}/services"
                                               "?labelSelector=kubernetes.io%2Fcluster-service%3Dtrue")
        green, yellow, reset = ("\x1b[0;32m", "\x1b[0;33m", "\x1b[0m") if sys.stdout.isatty() else ("", "", "")
        server = session.connection.server
        lines = [("Kubernetes control plane", server)]
        lines += [(((svc["metadata"].get("labels") or {}).get("kubernetes.io/name") or svc["metadata"]["name"]),
                   _service_link(server, svc)) for svc in listed.get("items") or []]
        for name, link in lines:
            sys.stdout.write(f"{green}{name}{reset} is running at {yellow}{link}{reset}\n")
        sys.stdout.write("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n")
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
