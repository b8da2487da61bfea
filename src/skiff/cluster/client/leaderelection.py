"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.

Candidates race to write their identity into the Lease's holderIdentity. The holder renews
renewTime every `retry_period`; others take over only once `leaseDurationSeconds` passed since
the last renewal they observed. A holder that cannot renew within `renew_deadline` stops
leading (its work is cancelled). Writes carry the resourceVersion they read, so two
candidates cannot both win the same round: one gets 409 Conflict.

`decide` is the pure rule; `LeaderElector` does the I/O.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from skiff.cluster.apimachinery.meta import parse_rfc3339
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.informers import ApiClient

log = logging.getLogger("skiff.leaderelection")


@dataclass
class LeaseConfig:
    namespace: str = "kube-system"
    name: str = "kube-controller-manager"
    identity: str = ""
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


def add_flags(p: argparse.ArgumentParser, lease_name: str, before: str) -> None:
    """The --leader-elect* flags kube-scheduler and kube-controller-manager share; `before` ends
    the first one's help ("... before scheduling")."""
    p.add_argument("--leader-elect", default="true", choices=["true", "false"],
                   help=f"start a leader election client and gain leadership before {before} (default %(default)s)")
    p.add_argument("--leader-elect-lease-duration", type=float, default=15.0,
                   help="seconds a non-leader waits after the last renewal before taking over (default 15)")
    p.add_argument("--leader-elect-renew-deadline", type=float, default=10.0,
                   help="seconds the leader keeps retrying a renewal before it gives up leading (default 10)")
    p.add_argument("--leader-elect-retry-period", type=float, default=2.0,
                   help="seconds between attempts to acquire or renew (default 2)")
    p.add_argument("--leader-elect-resource-name", default=lease_name, help="name of the Lease object (default %(default)s)")
    p.add_argument("--leader-elect-resource-namespace", default="kube-system",
                   help="namespace of the Lease object (default %(default)s)")


def config_from_flags(a: argparse.Namespace, identity: str = "") -> LeaseConfig:
    return LeaseConfig(namespace=a.leader_elect_resource_namespace, name=a.leader_elect_resource_name,
                       identity=identity, lease_duration=a.leader_elect_lease_duration,
                       renew_deadline=a.leader_elect_renew_deadline, retry_period=a.leader_elect_retry_period)


def micro_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decide(spec: dict, identity: str, now: datetime, duration: float) -> dict | None:
    """The Lease spec to write to hold the lease now, or None when someone else holds it."""
    holder = spec.get("holderIdentity") or ""
    renewed = spec.get("renewTime") or spec.get("acquireTime")
    held_for = float(spec.get("leaseDurationSeconds") or duration)
    if holder and holder != identity and renewed:
        if (now - parse_rfc3339(renewed)).total_seconds() < held_for:
            return None
    new = dict(spec)
    new["holderIdentity"] = identity
    new["leaseDurationSeconds"] = int(duration)
    new["renewTime"] = micro_time(now)
    if holder != identity:
        new["acquireTime"] = micro_time(now)
        new["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
    return new


class LeaderElector:
    def __init__(self, client: ApiClient, config: LeaseConfig,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.client = client
        self.config = config
        self.now = now
        self.is_leader = False
        self.path = (f"/apis/coordination.k8s.io/v1/namespaces/{config.namespace}/leases")

    async def try_acquire_or_renew(self) -> bool:
        c = self.config
        try:
            lease = await self.client.get(f"{self.path}/{c.name}")
        except StatusError as e:
            if e.code != 404:
                raise
            spec = decide({}, c.identity, self.now(), c.lease_duration)
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": c.name, "namespace": c.namespace}, "spec": spec}
            try:
                await self.client.create(self.path, body)
            except StatusError as e2:
                if e2.code == 409:
                    return False
                raise
            return True
        spec = decide(lease.get("spec") or {}, c.identity, self.now(), c.lease_duration)
        if spec is None:
            return False
        lease["spec"] = spec
        try:
            await self.client.replace(f"{self.path}/{c.name}", lease)
        except StatusError as e:
            if e.code == 409:
                return False
            raise
        return True

    async def _attempt(self) -> bool:
        try:
            return await self.try_acquire_or_renew()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the API server is unreachable: not leading this round
            log.debug("lease %s: %s", self.config.name, e)
            return False

    async def run(self, lead: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Acquire, run `lead()` while holding the lease, cancel it when the lease is lost; repeat."""
        c = self.config
        while True:
            while not await self._attempt():
                await asyncio.sleep(c.retry_period)
            self.is_leader = True
            log.info("successfully acquired lease %s/%s as %s", c.namespace, c.name, c.identity)
            work = asyncio.create_task(lead(), name="leader work")
            last_renew = time.monotonic()
            try:
                while not work.done():
                    await asyncio.wait({work}, timeout=c.retry_period)
                    if work.done():
                        break
                    if await self._attempt():
                        last_renew = time.monotonic()
                    elif time.monotonic() - last_renew > c.renew_deadline:
                        log.warning("leaderelection lost: failed to renew lease %s/%s", c.namespace, c.name)
                        break
            finally:
                self.is_leader = False
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work
            if work.done() and not work.cancelled() and work.exception() is None:
                return

    async def release(self) -> None:
        """Give the lease up (on a clean shutdown) so a standby takes over at once."""
        c = self.config
        with contextlib.suppress(Exception):
            lease = await self.client.get(f"{self.path}/{c.name}")
            if (lease.get("spec") or {}).get("holderIdentity") == c.identity:
                lease["spec"]["holderIdentity"] = ""
                lease["spec"]["leaseDurationSeconds"] = 1
                await self.client.replace(f"{self.path}/{c.name}", lease)
