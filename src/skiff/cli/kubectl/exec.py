"""`kubectl exec` and `kubectl attach`: a command in (or the main process of) a pod's container,
over the pods/exec and pods/attach WebSocket subresources."""

from __future__ import annotations

import os
import sys

from skiff.cli.kubectl import options
from skiff.cli.kubectl.podtarget import default_container, pod_name
from skiff.cli.kubectl.session import CommandError, Session

EXEC_HELP = """Execute a command in a container.

Examples:
  kubectl exec mypod -- date
  kubectl exec mypod -c ruby-container -- date
  kubectl exec -i -t mypod -c ruby-container -- bash -il"""

ATTACH_HELP = """Attach to a process that is already running inside an existing container.

Examples:
  kubectl attach mypod
  kubectl attach mypod -c ruby-container
  kubectl attach mypod -c ruby-container -i -t"""


def run(word: str, argv: list[str]) -> int:
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    is_exec = word == "exec"
    p = options.parser(word, EXEC_HELP if is_exec else ATTACH_HELP,
                       usage="kubectl exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]" if is_exec
                       else "kubectl attach (POD | TYPE/NAME) -c CONTAINER [flags]")
    p.add_argument("words", nargs="*", metavar="POD")
    p.add_argument("-c", "--container", default="", help="Container name. If omitted, the default container "
                   "(kubectl.kubernetes.io/default-container, else the first) is chosen")
    p.add_argument("-i", "--stdin", action="store_true", help="Pass stdin to the container")
    p.add_argument("-t", "--tty", action="store_true", help="Stdin is a TTY")
    p.add_argument("-q", "--quiet", action="store_true", help="Only print output from the remote session")
    opts = p.parse_intermixed_args(argv)
    if not opts.words:
        raise CommandError(f"expected '{word} (POD | TYPE/NAME)'.\nPOD or TYPE/NAME is a required argument for "
                           f"the {word} command")
    if is_exec and not command:
        command = opts.words[1:]
        if not command:
            raise CommandError("you must specify at least one command for the container")
    tty = opts.tty
    if tty and opts.stdin and not os.isatty(0):
        if not opts.quiet:
            sys.stderr.write("Unable to use a TTY - input is not a terminal or the right kind of file\n")
        tty = False
    session = Session(opts)
    pods = session.resource("pods")
    name = pod_name(opts.words[0])
    pod = session.client.get(pods, name, session.namespace)
    phase = (pod.get("status") or {}).get("phase", "")
    if phase in ("Succeeded", "Failed"):
        raise CommandError(f"cannot {word} into a container in a completed pod; current phase is {phase}")
    container = opts.container or default_container(pod, quiet=opts.quiet)
    from skiff.cli.kubectl.wsstream import run_stream
    from skiff.cluster.client.paths import path_for, with_query

    params: dict = {"container": container, "stdin": opts.stdin or None, "stdout": True,
                    "stderr": not tty or None, "tty": tty or None}
    path = with_query(path_for(pods, session.namespace, name, word), params)
    for arg in command if is_exec else []:
        from urllib.parse import quote

        path += "&command=" + quote(arg, safe="")
    return run_stream(session, path, opts.stdin, tty)
