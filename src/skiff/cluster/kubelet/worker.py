"""One serialized worker per pod: turns the pod's spec into runtime containers and reports status.

`sync()` is level-triggered: it looks at the pod object and the runtime's containers for the pod,
takes the next steps (sandbox, init containers in order, app containers, restarts with back-off,
termination), posts the status when it changed and says when it wants to run again. Watch events,
engine exits and probe results wake it early.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from skiff.cluster.client.errors import StatusError
from skiff.cluster.kubelet import naming, phase, resources
from skiff.cluster.kubelet.clock import now as now_rfc3339
from skiff.cluster.kubelet.containerspec import create_body, run_as_non_root_error
from skiff.cluster.kubelet.env import MASTER_NAMESPACE, ConfigError, build_env, referenced, service_env
from skiff.cluster.kubelet.poddns import add_binds, warn_reason
from skiff.cluster.kubelet.recorder import involved
from skiff.cluster.kubelet.runtime import RuntimeContainer
from skiff.cluster.kubelet.status import container_status, sent_form
from skiff.cluster.kubelet.volumes import VolumeError
from skiff.common.errors import SkiffError

log = logging.getLogger(__name__)

IDLE = 10.0


def _restarts(policy: str, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


class PodWorker:
    def __init__(self, kubelet: Any, pod: dict):
        self.kl = kubelet
        self.pod = pod
        self.uid = pod["metadata"]["uid"]
        self.wake = asyncio.Event()
        self.removed = False  # the API object is gone
        self.done = False
        self.waiting: dict[str, dict] = {}  # container → the waiting state the kubelet holds it in
        self.restart_at: dict[str, float] = {}  # runtime id of an exited container → when it may restart
        self.sent: dict | None = None
        self.start_time = (pod.get("status") or {}).get("startTime") or now_rfc3339()
        self.pod_ip = ""
        self.task: asyncio.Task | None = None
        self.static = False  # from a manifest file: kept while the file is, whatever the API says

    @property
    def ns(self) -> str:
        return self.pod["metadata"].get("namespace", "default")

    @property
    def name(self) -> str:
        return self.pod["metadata"]["name"]

    def update(self, pod: dict) -> None:
        self.pod = pod
        self.wake.set()

    def gone(self) -> None:
        self.removed = True
        self.wake.set()

    async def run(self) -> None:
        while not self.done:
            self.wake.clear()
            try:
                delay = await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pod %s/%s: sync failed", self.ns, self.name)
                delay = 2.0
            if self.done:
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), max(0.05, delay))
        self.kl.worker_done(self.uid)

    async def event(self, kind: str, reason: str, message: str, container: str | None = None,
                    init: bool = False) -> None:
        await self.kl.recorder.emit(involved(self.pod, container, init), kind, reason, message)

    # ---- the sync loop ---------------------------------------------------------------------
    async def sync(self) -> float:
        pod = self.pod
        if self.removed or pod["metadata"].get("deletionTimestamp"):
            await self.terminate()
            return 0
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed") and self.sent is not None:
            return 3600.0
        rejection = self.kl.admit(pod) if self.sent is None and not status.get("phase") == "Running" else None
        if rejection:
            reason, message = rejection
            await self.event("Warning", reason, message)
            await self.post_status({"phase": "Failed", "reason": reason, "message": message,
                                    "startTime": self.start_time})
            return 3600.0
        spec = pod["spec"]
        sandbox = await self.ensure_sandbox()
        try:
            binds = await self.kl.volumes.setup(pod)
        except VolumeError as e:
            await self.event("Warning", "FailedMount", str(e))
            await self.report(sandbox)
            return 5.0
        delay = IDLE
        now = time.time()
        policy = spec.get("restartPolicy", "Always")
        by_name = self.attempts()
        init_ok = True
        for c in spec.get("initContainers") or []:
            attempts = by_name.get(c["name"], [])
            latest = attempts[-1] if attempts else None
            if latest is not None and latest.status == "exited" and latest.exit_code == 0:
                continue
            init_ok = False
            if latest is None:
                await self.start_container(c, 0, sandbox, binds, init=True)
            elif latest.status == "exited" and policy != "Never":
                delay = min(delay, await self.maybe_restart(c, latest, sandbox, binds, now, init=True))
            break
        if init_ok:
            for c in spec.get("containers") or []:
                attempts = by_name.get(c["name"], [])
                latest = attempts[-1] if attempts else None
                if latest is None:
                    await self.start_container(c, 0, sandbox, binds)
                elif latest.running:
                    delay = min(delay, await self.kl.probes.check(self, c, latest))
                elif latest.status in ("exited", "dead", "created") and _restarts(policy, latest.exit_code):
                    delay = min(delay, await self.maybe_restart(c, latest, sandbox, binds, now))
        new_phase = await self.report(sandbox)
        if new_phase in ("Succeeded", "Failed"):
            await self.kl.runtime.stop(sandbox, 0)  # a finished pod holds no namespaces
            return 3600.0
        return delay

    def attempts(self) -> dict[str, list[RuntimeContainer]]:
        out: dict[str, list[RuntimeContainer]] = {}
        for c in self.kl.runtime.list(self.uid):
            if not c.is_sandbox:
                out.setdefault(c.key.container, []).append(c)
        for v in out.values():
            v.sort(key=lambda c: c.key.attempt)
        return out

    async def ensure_sandbox(self) -> str:
        spec = self.pod["spec"]
        sandboxes = sorted((c for c in self.kl.runtime.list(self.uid) if c.is_sandbox), key=lambda c: c.key.attempt)
        if sandboxes and sandboxes[-1].running:
            sid = sandboxes[-1].id
        else:
            attempt = sandboxes[-1].key.attempt + 1 if sandboxes else 0
            if sandboxes:
                # the pod's namespaces are gone: its containers go with them, as the kubelet does
                await self.event("Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
                for c in self.kl.runtime.list(self.uid):
                    await self.kl.runtime.remove(c.id)
            t0 = time.monotonic()
            sid = await self.kl.runtime.run_sandbox(self.pod, attempt, bool(spec.get("hostNetwork")), self.kl.dns,
                                                    self.kl.pod_cgroups.ensure(self.pod))
            log.debug("pod %s/%s: sandbox %s in %.3fs", self.ns, self.name, sid[:12], time.monotonic() - t0)
        if not self.pod_ip:
            self.pod_ip = self.kl.host_ip if spec.get("hostNetwork") else await self.kl.runtime.sandbox_ip(sid)
        return sid

    async def maybe_restart(self, c: dict, latest: RuntimeContainer, sandbox: str, binds: dict, now: float,
                            init: bool = False) -> float:
        """Start the next attempt when the back-off allows; else hold it in CrashLoopBackOff."""
        at = self.restart_at.get(latest.id)
        if at is None:
            from skiff.common.timefmt import parse_rfc3339

            started = parse_rfc3339(latest.started_at) if latest.started_at[:4] != "0001" else now
            finished = parse_rfc3339(latest.finished_at) if latest.finished_at[:4] != "0001" else now
            at = self.kl.backoff.next_start(f"{self.uid}/{c['name']}", started, finished)
            self.restart_at[latest.id] = at
        if now < at:
            delay = at - now
            key = f"{self.uid}/{c['name']}"
            message = (f"back-off {int(self.kl.backoff.delays[key] / 2)}s restarting "
                       f"failed container={c['name']} pod={self.name}_{self.ns}({self.uid})")
            if self.waiting.get(c["name"], {}).get("reason") != "CrashLoopBackOff":
                await self.event("Warning", "BackOff", "Back-off restarting failed container "
                                 f"{c['name']} in pod {self.name}_{self.ns}({self.uid})", c["name"], init)
            self.waiting[c["name"]] = {"reason": "CrashLoopBackOff", "message": message}
            return delay
        self.restart_at.pop(latest.id, None)
        await self.start_container(c, latest.key.attempt + 1, sandbox, binds, init=init)
        # keep one previous attempt for `kubectl logs --previous`
        for old in self.attempts().get(c["name"], [])[:-2]:
            await self.kl.runtime.remove(old.id)
        return IDLE

    async def start_container(self, c: dict, attempt: int, sandbox: str, binds: dict, init: bool = False) -> None:
        name = c["name"]
        image = await self.kl.images.ensure(self, c, init)
        if image is None:
            return
        try:
            env = await self.container_env(c)
        except ConfigError as e:
            self.waiting[name] = {"reason": "CreateContainerConfigError", "message": str(e)}
            await self.event("Warning", "Failed", f"Error: {e}", name, init)
            return
        refusal = run_as_non_root_error(self.pod, c, self.kl.runtime.image_user(image))
        if refusal:
            self.waiting[name] = {"reason": "CreateContainerConfigError", "message": refusal}
            await self.event("Warning", "Failed", f"Error: {refusal}", name, init)
            return
        try:
            mounts = self.kl.volumes.binds_for(self.pod, c, binds)
        except VolumeError as e:
            self.waiting[name] = {"reason": "CreateContainerConfigError", "message": str(e)}
            await self.event("Warning", "Failed", f"Error: {e}", name, init)
            return
        etc_binds, warnings = await asyncio.to_thread(self.kl.pod_dns.write, self.pod, self.pod_ip)
        for message in warnings:
            await self.event("Warning", warn_reason(message), message)
        mounts = add_binds(mounts, etc_binds)
        cname = naming.container_name(name, self.name, self.ns, self.uid, attempt)
        labels = naming.container_labels(self.pod, name, attempt, init)
        body = create_body(self.pod, c, image, sandbox, env, labels, mounts)
        if parent := self.kl.pod_cgroups.ensure(self.pod):
            body["HostConfig"]["CgroupParent"] = parent
        t0 = time.monotonic()
        try:
            cid = await self.kl.runtime.create_container(cname, body)
        except SkiffError as e:
            if e.status == 409:  # a leftover of a crashed attempt: take the name back
                await self.kl.runtime.remove(cname)
                cid = await self.kl.runtime.create_container(cname, body)
            else:
                self.waiting[name] = {"reason": "CreateContainerError", "message": e.message}
                await self.event("Warning", "Failed", f"Error: {e.message}", name, init)
                return
        self.waiting.pop(name, None)
        await self.event("Normal", "Created", f"Created container {name}", name, init)
        try:
            await self.kl.runtime.start(cid)
        except SkiffError as e:
            await self.event("Warning", "Failed", f"Error: failed to start container \"{name}\": {e.message}",
                             name, init)
            return
        failure = await self.run_hook(c, cid, "postStart")
        if failure:  # the kubelet kills a container whose postStart hook failed
            await self.event("Warning", "FailedPostStartHook", failure, name, init)
            await self.kl.runtime.stop(cid, 0)
            return
        self.kl.probes.started(self.uid, name, cid)
        log.debug("pod %s/%s: container %s created and started in %.3fs", self.ns, self.name, name,
                  time.monotonic() - t0)
        await self.event("Normal", "Started", f"Started container {name}", name, init)

    async def pull_secrets(self) -> list[dict]:
        names = [r.get("name", "") for r in self.pod["spec"].get("imagePullSecrets") or []]
        found = [await self.kl.get_object("secrets", self.ns, n) for n in names if n]
        return [s for s in found if s is not None]

    async def run_hook(self, c: dict, cid: str, which: str) -> str:
        """Run the container's postStart or preStop handler; the failure's message, or ""."""
        handler = (c.get("lifecycle") or {}).get(which)
        if not handler:
            return ""
        if "sleep" in handler:
            await asyncio.sleep(float(handler["sleep"].get("seconds") or 0))
            return ""
        from skiff.cluster.kubelet.probes import run_probe

        ok, output = await run_probe({**handler, "timeoutSeconds": 30}, c, self.pod_ip, self.kl.runtime, cid)
        return "" if ok else output

    async def container_env(self, c: dict) -> dict[str, str]:
        cm_names, secret_names = referenced(c)
        cms = {n: await self.kl.get_object("configmaps", self.ns, n) for n in cm_names}
        secrets = {n: await self.kl.get_object("secrets", self.ns, n) for n in secret_names}
        links = self.pod["spec"].get("enableServiceLinks") is not False
        services = service_env(await self.visible_services(links), self.ns, links)
        return build_env(c, self.pod, cms, secrets, self.kl.host_ip, self.pod_ip, self.kl.allocatable, services)

    async def visible_services(self, links: bool) -> list[dict]:
        """The Services whose variables the pod may get: the default namespace's (for
        `kubernetes`) and, with enableServiceLinks, its own namespace's."""
        out: list[dict] = []
        for ns in dict.fromkeys([MASTER_NAMESPACE, *([self.ns] if links else [])]):
            try:
                listed = await self.kl.client.get(f"/api/v1/namespaces/{ns}/services")
            except (StatusError, OSError) as e:  # the kubelet cannot build the env without them
                raise ConfigError(f"failed to list services in namespace {ns}: {e}") from None
            out.extend(listed.get("items") or [])
        return out

    # ---- status --------------------------------------------------------------------------------
    async def report(self, sandbox: str | None) -> str:
        spec = self.pod["spec"]
        by_name = self.attempts()

        def statuses(containers: list[dict], init: bool) -> list[dict]:
            out = []
            for c in containers:
                attempts = by_name.get(c["name"], [])
                ready, started = self.kl.probes.state(self.uid, c, attempts[-1] if attempts else None)
                if init:
                    ready = bool(attempts) and attempts[-1].status == "exited" and attempts[-1].exit_code == 0
                waiting = self.waiting.get(c["name"])
                if waiting and attempts and attempts[-1].running:
                    waiting = None
                out.append(container_status(c["name"], c["image"], attempts, waiting, ready, started))
            return out

        init_statuses = statuses(spec.get("initContainers") or [], True)
        app_statuses = statuses(spec.get("containers") or [], False)
        new_phase = phase.pod_phase(spec, app_statuses, init_statuses)
        prev = (self.pod.get("status") or {}).get("conditions") or []
        status = {"phase": new_phase, "hostIP": self.kl.host_ip, "hostIPs": [{"ip": self.kl.host_ip}],
                  "startTime": self.start_time, "qosClass": resources.qos_class(self.pod),
                  "conditions": phase.conditions(spec, app_statuses, init_statuses, new_phase, prev, now_rfc3339()),
                  "containerStatuses": app_statuses}
        if self.pod_ip:
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        await self.post_status(status)
        return new_phase

    async def post_status(self, status: dict) -> None:
        comparable = sent_form(status)
        if comparable == self.sent:
            return
        try:
            updated = await self.kl.client.merge_patch(f"/api/v1/namespaces/{self.ns}/pods/{self.name}/status",
                                                       {"metadata": {"uid": self.uid}, "status": status})
        except StatusError as e:
            if e.code == 404:
                self.gone()
                return
            raise
        self.sent = comparable
        if updated.get("metadata", {}).get("uid") == self.uid:
            self.pod = {**self.pod, "status": updated.get("status", status)}

    # ---- termination ---------------------------------------------------------------------------
    async def stop_container(self, rc: RuntimeContainer, grace: int) -> None:
        """preStop first (within the grace period), then SIGTERM, the rest of the period, SIGKILL."""
        spec = next((c for c in (self.pod["spec"].get("containers") or []) if c["name"] == rc.key.container), None)
        t0 = time.monotonic()
        if spec is not None and (spec.get("lifecycle") or {}).get("preStop"):
            try:
                failure = await asyncio.wait_for(self.run_hook(spec, rc.id, "preStop"), max(grace, 1))
            except TimeoutError:
                failure = f"PreStopHook did not finish within {grace}s"
            if failure:
                await self.event("Warning", "FailedPreStopHook", failure, rc.key.container)
        await self.kl.runtime.stop(rc.id, max(0, int(grace - (time.monotonic() - t0))))

    async def terminate(self) -> None:
        meta = self.pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = self.pod["spec"].get("terminationGracePeriodSeconds", 30)
        running = [c for c in self.kl.runtime.list(self.uid) if c.running and not c.is_sandbox]
        for c in running:
            await self.event("Normal", "Killing", f"Stopping container {c.key.container}", c.key.container)
        await asyncio.gather(*(self.stop_container(c, int(grace)) for c in running))
        for c in self.kl.runtime.list(self.uid):
            await self.kl.runtime.remove(c.id)
        await self.kl.volumes.teardown(self.pod)
        await asyncio.to_thread(self.kl.pod_cgroups.remove, self.pod)
        self.kl.probes.forget(self.uid)
        self.kl.backoff.forget(self.uid + "/")
        if not self.removed:
            with contextlib.suppress(StatusError):
                await self.kl.client.delete(f"/api/v1/namespaces/{self.ns}/pods/{self.name}",
                                            {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                                             "preconditions": {"uid": self.uid}})
        self.kl.recorder.forget(self.uid)
        self.done = True
