"""skiff server stops on SIGTERM even with watches open, and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess

from tests.support.server import Server


def test_sigterm_ends_open_watches_and_the_server(tmp_path):
    srv = Server(root=tmp_path / "srv").start()
    watcher = subprocess.Popen(["kubectl", "get", "namespaces", "-w"], env=srv.env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert watcher.stdout is not None
        watcher.stdout.readline()  # the watch is open (kubectl printed its first line)
        assert srv.proc is not None
        os.killpg(srv.proc.pid, signal.SIGTERM)
        assert srv.proc.wait(timeout=30) == 0
        assert watcher.wait(timeout=30) is not None
    finally:
        watcher.kill()
        watcher.wait()
        srv.cleanup()
