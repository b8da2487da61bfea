"""`kubectl logs`: a container's log through the pods/log subresource, streamed as it arrives."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import options
from skiff.cli.kubectl.podtarget import default_container, duration_seconds, pod_name
from skiff.cli.kubectl.session import CommandError, Session

HELP = """Print the logs for a container in a pod.

Examples:
  kubectl logs nginx
  kubectl logs -f -c ruby web-1
  kubectl logs -p -c ruby web-1
  kubectl logs --tail=20 nginx
  kubectl logs --since=1h --timestamps nginx"""


def log_params(opts: Any, container: str) -> dict[str, Any]:
    params: dict[str, Any] = {"container": container}
    if opts.follow:
        params["follow"] = True
    if opts.previous:
        params["previous"] = True
    if opts.timestamps:
        params["timestamps"] = True
    if opts.tail >= 0:
        params["tailLines"] = opts.tail
    if opts.limit_bytes > 0:
        params["limitBytes"] = opts.limit_bytes
    if opts.since and opts.since_time:
        raise CommandError("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if opts.since:
        params["sinceSeconds"] = duration_seconds(opts.since)
    if opts.since_time:
        params["sinceTime"] = opts.since_time
    return params


def run(word: str, argv: list[str]) -> int:
    p = options.parser("logs", HELP, usage="kubectl logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER] [options]")
    p.add_argument("words", nargs="*", metavar="POD [CONTAINER]")
    p.add_argument("-c", "--container", default="", help="Print the logs of this container")
    p.add_argument("-f", "--follow", action="store_true", help="Specify if the logs should be streamed.")
    p.add_argument("-p", "--previous", action="store_true",
                   help="If true, print the logs for the previous instance of the container in a pod if it exists.")
    p.add_argument("--tail", type=int, default=-1, help="Lines of recent log file to display.")
    p.add_argument("--since", default="", help="Only return logs newer than a relative duration like 5s, 2m, or 3h.")
    p.add_argument("--since-time", default="", help="Only return logs after a specific date (RFC3339).")
    p.add_argument("--timestamps", action="store_true", help="Include timestamps on each line in the log output")
    p.add_argument("--limit-bytes", type=int, default=0, help="Maximum bytes of logs to return.")
    opts = p.parse_intermixed_args(argv)
    if not opts.words:
        raise CommandError("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                           "POD or TYPE/NAME is a required argument for the logs command\n"
                           "See 'kubectl logs -h' for help and examples")
    if len(opts.words) > 2:
        raise CommandError("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.")
    session = Session(opts)
    pods = session.resource("pods")
    name = pod_name(opts.words[0])
    container = opts.container or (opts.words[1] if len(opts.words) > 1 else "")
    if not container:
        container = default_container(session.client.get(pods, name, session.namespace))
    from skiff.cluster.client.paths import path_for, with_query

    path = with_query(path_for(pods, session.namespace, name, "log"), log_params(opts, container))
    resp = session.client.open("GET", path, accept="*/*")
    out = sys.stdout.buffer
    while chunk := resp.read1(65536):
        out.write(chunk)
        out.flush()
    return 0
