"""What authorization costs per request: `skiff server` with `--authorization-mode AlwaysAllow`
(no decision work beyond the gate) against the default `Node,RBAC`.

    .venv/bin/python bench/bench_authz.py [--ops N] [--rounds N]

GETs of one ConfigMap at 10 concurrent clients, as the admin certificate (`system:masters`,
allowed at once) and as a service account (under RBAC allowed by a RoleBinding to `view`: the
RBAC index path; its token's verification costs the same in both modes). The servers take turns over rounds; medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
from tests.support.server import Server  # noqa: E402

PATH = "/api/v1/namespaces/default/configmaps/kube-root-ca.crt"


async def _run(srv: Server, ops: int, token: str = "") -> tuple[float, float]:
    """(requests per second, p50 ms) of `ops` GETs at 10 concurrent clients."""
    tls = srv.ssl_context(client_cert=not token)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls, limit=10), headers=headers) as http:
        async def worker(n: int) -> None:
            for _ in range(n):
                t = time.perf_counter()
                async with http.get(srv.url + PATH) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - t)
        started = time.perf_counter()
        await asyncio.gather(*(worker(ops // 10) for _ in range(10)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


def _sa_token(srv: Server) -> str:
    srv.kubectl("create", "rolebinding", "bench-view", "--clusterrole=view", "--serviceaccount=default:default",
                "-n", "default")
    token = srv.kubectl("create", "token", "default", "-n", "default").stdout.decode().strip()
    time.sleep(0.5)  # the binding reaches the authorizer through the watch
    return token


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    allow = Server(extra_args=["--authorization-mode", "AlwaysAllow"]).start()
    rbac = Server().start()
    try:
        token, allow_token = _sa_token(rbac), _sa_token(allow)
        rows: dict[str, list[tuple[float, float]]] = {
            "AlwaysAllow, admin": [], "Node,RBAC, admin": [], "AlwaysAllow, service account": [],
            "Node,RBAC, service account (view)": []}
        for _ in range(a.rounds):
            rows["AlwaysAllow, admin"].append(asyncio.run(_run(allow, a.ops)))
            rows["AlwaysAllow, service account"].append(asyncio.run(_run(allow, a.ops, allow_token)))
            rows["Node,RBAC, admin"].append(asyncio.run(_run(rbac, a.ops)))
            rows["Node,RBAC, service account (view)"].append(asyncio.run(_run(rbac, a.ops, token)))
        print("| mode, caller | GET/s (median) | p50 ms |")
        print("|---|---|---|")
        for name, got in rows.items():
            print(f"| {name} | {statistics.median(r for r, _ in got):,.0f} | {statistics.median(p for _, p in got):.2f} |")
    finally:
        allow.cleanup()
        rbac.cleanup()


if __name__ == "__main__":
    main()
