"""Project operations against the engine's Docker API: up (converge every service), down, and
the verbs over a project's containers. `api` is a Docker API client (get/post/delete/request);
status lines go to `say` (docker-compose writes them to stderr)."""

from __future__ import annotations

from collections.abc import Callable

from skiff.compose import converge, deploy, filerefs, model, resources, spec
from skiff.compose.composehash import service_hash
from skiff.compose.converge import Existing
from skiff.compose.errors import ConfigError
from skiff.compose.model import Project
from skiff.compose.resources import status_of

Builder = Callable[[str, dict, str], None]  # (service, build entry, image tag) → builds it or raises


class Ops:
    def __init__(self, project: Project, api, say: Callable[[str], None], builder: Builder | None = None):
        self.project = project
        self.api = api
        self.say = say
        self.builder = builder

    # -- what exists -------------------------------------------------------------------------
    def containers(self, services: list[str] | None = None, stopped: bool = True, oneoff: bool | None = False,
                   orphans: bool = False) -> list[Existing]:
        labels = [f"{model.LABEL_PROJECT}={self.project.name}"]
        if oneoff is not None:
            labels.append(f"{model.LABEL_ONEOFF}={'True' if oneoff else 'False'}")
        found = [Existing.from_summary(c) for c in
                 self.api.get("/containers/json", {"all": stopped, "filters": {"label": labels}}) or []]
        if orphans:
            return [c for c in found if c.service not in self.project.services]
        if services:
            found = [c for c in found if c.service in services]
        else:
            found = [c for c in found if c.service in self.project.services]
        return sorted(found, key=lambda c: (c.service, c.number))

    def image_id(self, image: str) -> str | None:
        try:
            return self.api.get(f"/images/{image}/json")["Id"]
        except Exception as e:
            if status_of(e) == 404:
                return None
            raise

    # -- images ------------------------------------------------------------------------------
    def build(self, services: list[str] | None = None, only_missing: bool = False) -> None:
        for name in services or list(self.project.services):
            svc = self.project.services[name]
            if "build" not in svc:
                if services:
                    self.say(f"{name} uses an image, skipping")
                continue
            tag = self.project.image_name(name)
            if only_missing and self.image_id(tag):
                continue
            if self.builder is None:
                raise ConfigError(f"Service {name} needs building, and no builder is available")
            self.say(f"Building {name}")
            self.builder(name, svc["build"], tag)

    def pull(self, services: list[str] | None = None, ignore_failures: bool = False) -> None:
        for name in services or list(self.project.services):
            image = self.project.services[name].get("image")
            if not image or ("build" in self.project.services[name] and not services):
                continue
            self.say(f"Pulling {name} ({image if ':' in image.rsplit('/', 1)[-1] else image + ':latest'})...")
            self._pull(image, ignore_failures)

    def _pull(self, image: str, ignore_failures: bool = False) -> None:
        repo, tag = image, "latest"
        if ":" in image.rsplit("/", 1)[-1] and "@" not in image:
            repo, tag = image.rsplit(":", 1)
        resp = self.api.request("POST", "/images/create", {"fromImage": repo, "tag": tag})
        try:
            for msg in resp.body.json_stream():
                if msg.get("error"):
                    if ignore_failures:
                        self.say(f"ERROR: {msg['error']}")
                        return
                    raise ConfigError(msg["error"])
        finally:
            resp.close()

    def push(self, services: list[str] | None = None) -> None:
        for name in services or list(self.project.services):
            svc = self.project.services[name]
            if "build" not in svc or "image" not in svc:
                continue
            image = svc["image"]
            repo, tag = (image.rsplit(":", 1) if ":" in image.rsplit("/", 1)[-1] else (image, "latest"))
            self.say(f"Pushing {name} ({image})...")
            resp = self.api.request("POST", f"/images/{repo}/push", {"tag": tag},
                                    headers={"X-Registry-Auth": "e30="})
            try:
                for msg in resp.body.json_stream():
                    if msg.get("error"):
                        raise ConfigError(msg["error"])
            finally:
                resp.close()

    def ensure_image(self, name: str, build: bool) -> str | None:
        svc = self.project.services[name]
        image = self.project.image_name(name)
        if "build" in svc and build:
            self.build([name])
        image_id = self.image_id(image)
        if image_id:
            return image_id
        if "build" in svc:
            self.build([name])
            self.say(f"Image for service {name} was built because it did not already exist. To rebuild "
                     "this image you must use `docker-compose build` or `docker-compose up --build`.")
        else:
            self.say(f"Pulling {name} ({image})...")
            self._pull(image)
        return self.image_id(image)

    # -- up ----------------------------------------------------------------------------------
    def first_containers(self) -> dict[str, str]:
        """Service → the name of its lowest-numbered container (what links and volumes_from name)."""
        out: dict[str, str] = {}
        for c in self.containers():
            out.setdefault(c.service, c.name)
        return out

    def up(self, services: list[str] | None = None, *, deps: bool = True, build: bool = False,
           force_recreate: bool = False, no_recreate: bool = False, scale: dict[str, int] | None = None,
           start: bool = True, remove_orphans: bool = False, timeout: int | None = None) -> list[Existing]:
        """Converge the services; returns the containers that belong to them afterwards."""
        project = self.project
        order = project.order(services, deps)
        self.prepare(order)
        self._orphans(remove_orphans)
        updated: set[str] = set()  # services that got new containers: their dependents are recreated
        for name in order:
            if start:
                self._wait_for_dependencies(name)
            image_id = self.ensure_image(name, build)
            want = (scale or {}).get(name, self._default_scale(name))
            digest = service_hash(project, name, image_id)
            existing = self.containers([name])
            recreate = force_recreate and (services is None or name in services or not deps)
            recreate = recreate or (not no_recreate and bool(existing) and bool(updated & set(self._deps(name))))
            for action in converge.plan(existing, want, digest, force_recreate=recreate,
                                        no_recreate=no_recreate, start=start):
                if action.verb in ("create", "recreate"):
                    updated.add(name)
                self._apply(name, action, digest, image_id, start, timeout)
        return self.containers(order)

    def _wait_for_dependencies(self, name: str) -> None:
        """depends_on conditions (2.1+ files): healthy, or exited 0, before `name` starts."""
        import time

        for dep, cond in (self.project.services[name].get("depends_on") or {}).items():
            condition = cond.get("condition", "service_started")
            if condition == "service_started":
                continue
            deadline = time.monotonic() + self._health_wait(dep)
            for c in self.containers([dep]):
                while True:
                    if condition == "service_healthy" and time.monotonic() > deadline:
                        raise ConfigError(f'Container "{c.name}" is unhealthy (no healthy status in time; '
                                          "is the engine running its healthcheck?)")
                    info = self.api.get(f"/containers/{c.id}/json")
                    state = info.get("State") or {}
                    health = (state.get("Health") or {}).get("Status")
                    if health is None and ((info.get("Config") or {}).get("Healthcheck") or {}).get("Test"):
                        health = "starting"  # no probe has run yet
                    if condition == "service_healthy":
                        if health is None:
                            raise ConfigError(f"Container \"{c.name}\" has no healthcheck configured "
                                              f"(service \"{dep}\" is a service_healthy dependency)")
                        if health == "healthy":
                            break
                        if health == "unhealthy" or not state.get("Running"):
                            raise ConfigError(f'Container "{c.name}" is unhealthy.')
                    elif not state.get("Running") and state.get("Status") != "created":
                        if state.get("ExitCode"):
                            raise ConfigError(f'Service "{dep}" didn\'t complete successfully: '
                                              f'exit {state["ExitCode"]}')
                        break
                    time.sleep(0.2)

    def _health_wait(self, service: str) -> float:
        """How long a healthcheck can take to pass: start period + (interval + timeout) x retries."""
        hc = self.project.services[service].get("healthcheck") or {}

        def seconds(key: str, default: float) -> float:
            return spec.duration_ns(hc[key], key) / 1e9 if key in hc else default
        return seconds("start_period", 0) + (seconds("interval", 30) + seconds("timeout", 30)) * \
            (int(hc.get("retries", 3)) + 1) + 5

    def prepare(self, services: list[str]) -> None:
        """The services' secrets and configs checked (a missing file is refused before anything is
        created) and what a single engine ignores warned about; then the networks the services
        join and the project's volumes, created if missing."""
        for name in services:
            svc = self.project.services[name]
            filerefs.placements(name, svc, self.project.file_definitions(), self.project.environment)
            for text in deploy.warnings(name, svc) + filerefs.warnings(name, svc, self.project.file_definitions()):
                self.say(f"WARNING: {text}")
        resources.ensure_networks(self.project, self.api, self.say, services)
        resources.ensure_volumes(self.project, self.api, self.say)

    def _default_scale(self, name: str) -> int:
        return deploy.scale(self.project.services[name])

    def _deps(self, name: str) -> list[str]:
        from skiff.compose.graph import dependencies

        return dependencies(self.project.services[name])

    def _orphans(self, remove: bool) -> None:
        orphans = self.containers(orphans=True)
        if not orphans:
            return
        if not remove:
            names = ", ".join(sorted({c.service for c in orphans}))
            self.say(f"WARNING: Found orphan containers ({', '.join(c.name for c in orphans)}) for this project. "
                     "If you removed or renamed this service in your compose file, you can run this command "
                     "with the --remove-orphans flag to clean it up.")
            del names
            return
        for c in orphans:
            self.say(f"Removing orphan container \"{c.name}\"")
            self.api.delete(f"/containers/{c.id}", {"force": True, "v": False})

    def _apply(self, service: str, action: converge.Action, digest: str, image_id: str | None,
               start: bool, timeout: int | None) -> None:
        c = action.container
        if action.verb == "keep" and c:
            self.say(f"{c.name} is up-to-date")
        elif action.verb == "start" and c:
            self._step("Starting", c.name, lambda: self.api.post(f"/containers/{c.id}/start"))
        elif action.verb == "remove" and c:
            self._step("Stopping", c.name, lambda: self._stop(c.id, timeout, service))
            self._step("Removing", c.name, lambda: self.api.delete(f"/containers/{c.id}", {"v": False}))
        elif action.verb == "create":
            name = self.project.container_name(service, action.number)
            self._step("Creating", name, lambda: self.create(service, action.number, digest, image_id, start))
        elif action.verb == "recreate" and c:
            def recreate():
                self._stop(c.id, timeout, service)
                self.api.post(f"/containers/{c.id}/rename", {"name": f"{c.id[:12]}_{c.name}"})
                try:
                    self.create(service, action.number, digest, image_id, start, previous=c.id)
                except Exception:
                    self.api.post(f"/containers/{c.id}/rename", {"name": c.name})
                    raise
                self.api.delete(f"/containers/{c.id}", {"v": False})
            self._step("Recreating", c.name, recreate)

    def _step(self, verb: str, name: str, fn) -> None:
        try:
            fn()
        except Exception:
            self.say(f"{verb} {name} ... error")
            raise
        self.say(f"{verb} {name} ... done")

    def create(self, service: str, number: int, digest: str, image_id: str | None, start: bool = True,
               previous: str | None = None, **overrides) -> str:
        project = self.project
        oneoff = overrides.get("oneoff", False)
        name = overrides.pop("name", None) or project.container_name(service, number, oneoff)
        hooks = overrides.pop("hooks", [])
        body = spec.create_body(project, service, number, containers=self.first_containers(),
                                image_id=image_id, config_hash=digest, **overrides)
        for hook in hooks:  # `run`'s own flags (-u, -w, -p, -v) over the service's
            hook(body)
        if previous:  # the old container's anonymous volumes carry over, as binds of their names
            anonymous = body.get("Volumes") or {}
            for m in self.api.get(f"/containers/{previous}/json").get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("Destination") in anonymous:
                    anonymous.pop(m["Destination"])
                    body["HostConfig"]["Binds"].append(f"{m['Name']}:{m['Destination']}")
        cid = self.api.post("/containers/create", {"name": name}, body)["Id"]
        self._inject_files(service, cid)
        networks = project.service_networks(service) if not project.services[service].get("network_mode") \
            and not project.v1 else {}
        for key in list(networks)[1:]:
            self.api.post(f"/networks/{project.network_name(key)}/connect", None, {
                "Container": cid, "EndpointConfig": spec.endpoint_config(service, networks[key], [], oneoff)})
        if start:
            self.api.post(f"/containers/{cid}/start")
        return cid

    def _inject_files(self, service: str, cid: str) -> None:
        """Secrets and configs given by `content`/`environment`, written into the new container
        before it starts (file-backed ones are bind mounts in its create body)."""
        found = filerefs.placements(service, self.project.services[service], self.project.file_definitions(),
                                    self.project.environment)
        data = filerefs.archive(found)
        if data is None:
            return
        try:
            self.api.request("PUT", f"/containers/{cid}/archive", {"path": "/", "copyUIDGID": "1"}, body=data,
                             content_type="application/x-tar").close()
        except Exception:
            self.api.delete(f"/containers/{cid}", {"force": True})
            raise

    # -- verbs over existing containers -----------------------------------------------------
    def _stop(self, cid: str, timeout: int | None, service: str) -> None:
        t = timeout
        if t is None:
            grace = self.project.services.get(service, {}).get("stop_grace_period")
            t = spec.duration_seconds(grace) if grace is not None else 10
        try:
            self.api.post(f"/containers/{cid}/stop", {"t": t})
        except Exception as e:
            if status_of(e) not in (304, 404):
                raise

    def each(self, verb: str, containers: list[Existing], fn) -> None:
        """fn(c) for every container at once (a stop may wait its grace period), as docker-compose
        runs them in parallel; the first error is raised once all are done."""
        if len(containers) <= 1:
            for c in containers:
                self._step(verb, c.name, lambda c=c: fn(c))
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(containers), 16)) as pool:
            futures = [pool.submit(self._step, verb, c.name, lambda c=c: fn(c)) for c in containers]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]

    def stop(self, services=None, timeout=None) -> None:
        running = [c for c in self.containers(services, stopped=False)]
        self.each("Stopping", list(reversed(running)), lambda c: self._stop(c.id, timeout, c.service))

    def start(self, services=None) -> None:
        stopped = [c for c in self.containers(services) if not c.running]
        if not stopped and not self.containers(services):
            raise ConfigError("No containers to start")
        order = self.project.order(None)
        stopped.sort(key=lambda c: (order.index(c.service) if c.service in order else 0, c.number))
        self.each("Starting", stopped, lambda c: self.api.post(f"/containers/{c.id}/start"))

    def restart(self, services=None, timeout=None) -> None:
        self.each("Restarting", self.containers(services),
                  lambda c: self.api.post(f"/containers/{c.id}/restart", {"t": 10 if timeout is None else timeout}))

    def kill(self, services=None, signal: str = "SIGKILL") -> None:
        self.each("Killing", self.containers(services, stopped=False),
                  lambda c: self.api.post(f"/containers/{c.id}/kill", {"signal": signal}))

    def pause(self, services=None) -> None:
        self.each("Pausing", self.containers(services, stopped=False),
                  lambda c: self.api.post(f"/containers/{c.id}/pause"))

    def unpause(self, services=None) -> None:
        self.each("Unpausing", [c for c in self.containers(services) if c.state == "paused"],
                  lambda c: self.api.post(f"/containers/{c.id}/unpause"))

    def remove(self, containers: list[Existing], volumes: bool = False) -> None:
        self.each("Removing", containers, lambda c: self.api.delete(f"/containers/{c.id}", {"v": volumes, "force": True}))

    def down(self, *, volumes: bool = False, rmi: str | None = None, remove_orphans: bool = False,
             timeout: int | None = None) -> None:
        everything = self.containers(oneoff=None)
        if remove_orphans:
            everything += [c for c in self.containers(oneoff=None, orphans=True)]
        running = [c for c in everything if c.running]
        self.each("Stopping", list(reversed(running)), lambda c: self._stop(c.id, timeout, c.service))
        self.remove(list(reversed(everything)), volumes)
        if not remove_orphans:
            self._orphans(False)
        resources.remove_networks(self.project, self.api, self.say)
        if volumes:
            resources.remove_volumes(self.project, self.api, self.say)
        if rmi:
            for name, svc in self.project.services.items():
                if rmi == "local" and "image" in svc:
                    continue
                image = self.project.image_name(name)
                try:
                    self.api.delete(f"/images/{image}")
                    self.say(f"Removing image {image}")
                except Exception as e:
                    if status_of(e) != 404:
                        self.say(f"ERROR: Failed to remove image for service {name}: {getattr(e, 'message', e)}")
