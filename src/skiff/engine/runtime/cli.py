"""`skiff runtime`: the OCI runtime on the command line, with runc's verbs and state JSON.

    skiff runtime [--root DIR] [--runtime linux|runc] create [--bundle DIR] [--pid-file F] ID
    skiff runtime start ID | state ID | kill [--all] ID [SIGNAL] | delete [--force] ID
    skiff runtime run [--bundle DIR] ID      (create, start, copy output, exit with its code)
    skiff runtime exec [--process FILE] ID [ARGS...] | list | ps ID
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import uuid

from skiff.common.errors import SkiffError
from skiff.common.stdcopy import STDOUT, read_frames
from skiff.engine.runtime.api import IOSpec

DEFAULT_ROOT = "/run/skiff/runtime"


def make_runtime(kind: str, root: str, prefix: str):
    if kind == "runc":
        from skiff.engine.runtime.runc import RuncRuntime

        return RuncRuntime(root, prefix=prefix)
    from skiff.engine.runtime.linux import LinuxRuntime

    return LinuxRuntime(root, prefix=prefix)


def parse_signal(s: str) -> int:
    if s.isdigit():
        return int(s)
    name = s.upper()
    return int(getattr(signal, name if name.startswith("SIG") else "SIG" + name))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="skiff runtime", description="OCI runtime (runc's verbs)")
    p.add_argument("--root", default=DEFAULT_ROOT, help="state directory")
    p.add_argument("--runtime", choices=["linux", "runc"], default="linux")
    p.add_argument("--prefix", default="skiff", help="cgroup parent for containers without cgroupsPath")
    sub = p.add_subparsers(dest="verb", required=True)
    for verb in ("create", "run"):
        c = sub.add_parser(verb)
        c.add_argument("--bundle", "-b", default=".")
        c.add_argument("--pid-file")
        c.add_argument("--log", help="json-file log path (create: default none)")
        c.add_argument("id")
    for verb in ("start", "state", "ps", "pause", "resume"):
        sub.add_parser(verb).add_argument("id")
    k = sub.add_parser("kill")
    k.add_argument("--all", "-a", action="store_true")
    k.add_argument("id")
    k.add_argument("signal", nargs="?", default="SIGTERM")
    d = sub.add_parser("delete")
    d.add_argument("--force", "-f", action="store_true")
    d.add_argument("id")
    e = sub.add_parser("exec")
    e.add_argument("--process", "-p")
    e.add_argument("--detach", "-d", action="store_true")
    e.add_argument("--cwd", default="/")
    e.add_argument("--env", "-e", action="append", default=[])
    e.add_argument("id")
    e.add_argument("args", nargs=argparse.REMAINDER)
    sub.add_parser("list")
    return p


def attach(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b'{"stdin":false,"stdout":true,"stderr":true}\n')
    return s


def copy_output(s: socket.socket) -> None:
    """Copy the multiplexed output of an attach socket to our stdout/stderr until EOF."""
    f = s.makefile("rb")
    for stream, data in read_frames(f.read):
        out = sys.stdout.buffer if stream == STDOUT else sys.stderr.buffer
        out.write(data)
        out.flush()
    s.close()


def run(args: argparse.Namespace) -> int:
    rt = make_runtime(args.runtime, args.root, args.prefix)
    verb = args.verb
    if verb in ("create", "run"):
        io = IOSpec(log_path=os.path.abspath(args.log) if args.log else None)
        st = rt.create(args.id, os.path.abspath(args.bundle), io)
        if args.pid_file:
            with open(args.pid_file, "w") as f:
                f.write(str(st.pid))
        if verb == "create":
            return 0
        import threading

        t = threading.Thread(target=copy_output, args=(attach(rt.attach_path(args.id)),), daemon=True)
        t.start()
        rt.start(args.id)
        ex = asyncio.run(rt.wait(args.id))
        t.join(5)
        rt.delete(args.id)
        return ex.exit_code
    if verb == "start":
        rt.start(args.id)
    elif verb == "state":
        print(json.dumps(rt.state(args.id).to_oci(), indent=2))
    elif verb == "kill":
        rt.kill(args.id, parse_signal(args.signal), all=args.all)
    elif verb == "delete":
        rt.delete(args.id, force=args.force)
    elif verb == "pause":
        rt.pause(args.id)
    elif verb == "resume":
        rt.resume(args.id)
    elif verb == "ps":
        print(json.dumps(rt.pids(args.id)))
    elif verb == "list":
        print(f"{'ID':<20}{'PID':<10}{'STATUS':<10}{'BUNDLE':<40}CREATED")
        for st in rt.list():
            oci = st.to_oci()
            print(f"{st.id:<20}{oci['pid']:<10}{st.status:<10}{st.bundle:<40}{st.created}")
    elif verb == "exec":
        if args.process:
            with open(args.process) as f:
                process = json.load(f)
        else:
            process = {"args": args.args, "cwd": args.cwd,
                       "env": args.env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
        exec_id = uuid.uuid4().hex
        st = rt.exec(args.id, exec_id, process, IOSpec())
        if args.detach:
            print(st.pid)
            return 0
        copy_output(attach(rt.attach_path(args.id, exec_id)))
        return asyncio.run(rt.wait(args.id, exec_id)).exit_code
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except SkiffError as e:
        print(f"skiff runtime: {e.message}", file=sys.stderr)
        return int(getattr(e, "exit_code", 1))
    except OSError as e:
        print(f"skiff runtime: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
