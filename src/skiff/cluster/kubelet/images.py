"""Images for a pod's containers by imagePullPolicy, with the kubelet's events and its pull back-off
(ErrImagePull, then ImagePullBackOff: 10 s doubling to 5 min)."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from skiff.common.errors import SkiffError
from skiff.engine.registry.dockerconfig import AuthConfig
from skiff.engine.registry.hosts import normalize_server
from skiff.oci.reference import parse_reference

INITIAL = 10.0
MAX = 300.0


def pull_policy(container: dict) -> str:
    """The API server defaults it; a pod from a static manifest may not have it."""
    if container.get("imagePullPolicy"):
        return container["imagePullPolicy"]
    image = container.get("image", "")
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    return "Always" if ":" not in tail or tail.endswith(":latest") else "IfNotPresent"


def pull_auth(image: str, secrets: list[dict]) -> AuthConfig | None:
    """Credentials for the image's registry from imagePullSecrets (kubernetes.io/dockerconfigjson
    or the legacy dockercfg), the first secret that names the registry winning."""
    domain = parse_reference(image).domain
    for secret in secrets:
        data = secret.get("data") or {}
        raw = data.get(".dockerconfigjson") or data.get(".dockercfg")
        if not raw:
            continue
        try:
            doc = json.loads(base64.b64decode(raw))
        except (ValueError, binascii.Error):
            continue
        auths = doc.get("auths", doc) if isinstance(doc, dict) else {}
        for server, entry in auths.items():
            if normalize_server(server) != domain or not isinstance(entry, dict):
                continue
            user, password = entry.get("username", ""), entry.get("password", "")
            if entry.get("auth"):
                try:
                    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    continue
            return AuthConfig(username=user, password=password, serveraddress=server)
    return None


class ImagePuller:
    def __init__(self, runtime: Any):
        self.runtime = runtime
        self.backoff: dict[str, tuple[float, float]] = {}  # image → (delay, retry not before)

    async def ensure(self, worker: Any, c: dict, init: bool = False) -> str | None:
        """The image reference to create the container from, or None with the container's waiting
        state set on the worker."""
        image, name = c["image"], c["name"]
        policy = pull_policy(c)
        present = self.runtime.image_present(image)
        if policy == "Never" and not present:
            message = f'Container image "{image}" is not present with pull policy of Never'
            worker.waiting[name] = {"reason": "ErrImageNeverPull", "message": message}
            await worker.event("Warning", "ErrImageNeverPull", message, name, init)
            return None
        if present and policy != "Always":
            await worker.event("Normal", "Pulled", f'Container image "{image}" already present on machine', name, init)
            return image
        delay, not_before = self.backoff.get(image, (0.0, 0.0))
        if time.time() < not_before:
            worker.waiting[name] = {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
            await worker.event("Normal", "BackOff", f'Back-off pulling image "{image}"', name, init)
            return None
        await worker.event("Normal", "Pulling", f'Pulling image "{image}"', name, init)
        t0 = time.monotonic()
        try:
            await self.runtime.pull(image, pull_auth(image, await worker.pull_secrets()))
        except SkiffError as e:
            delay = min(MAX, delay * 2) if delay else INITIAL
            self.backoff[image] = (delay, time.time() + delay)
            message = f'Failed to pull image "{image}": {e.message}'
            worker.waiting[name] = {"reason": "ErrImagePull", "message": message}
            await worker.event("Warning", "Failed", message, name, init)
            await worker.event("Warning", "Failed", "Error: ErrImagePull", name, init)
            return None
        took = time.monotonic() - t0
        self.backoff.pop(image, None)
        await worker.event("Normal", "Pulled", f'Successfully pulled image "{image}" in {took:.3f}s '
                           f'({took:.3f}s including waiting)', name, init)
        return image
