"""RegistryService: what the API and the builder call to pull, push, log in, search and inspect.

    svc = RegistryService(images, data_root, insecure=["myhost:5000"])
    image_id = await svc.pull("localhost:5000/app:1", auth=None, progress=send, platform="")

`progress` is an async callable receiving Docker's JSON progress messages (dicts); `auth` an
`AuthConfig` (see dockerconfig.decode_auth_header) or None for anonymous.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from skiff.common.errors import Forbidden, InvalidArgument, NotFound, SkiffError, Unauthorized
from skiff.engine.registry import progress as msg
from skiff.engine.registry.blobmap import BlobMap
from skiff.engine.registry.client import Repository, parse_platform
from skiff.engine.registry.dockerconfig import AuthConfig
from skiff.engine.registry.hosts import index_host, normalize_server
from skiff.engine.registry.progress import Progress
from skiff.engine.registry.pull import pull as pull_image
from skiff.engine.registry.pull import resolve
from skiff.engine.registry.push import push_tag
from skiff.engine.registry.session import Registries, RegistryError, error_from
from skiff.oci import mediatypes as mt
from skiff.oci.reference import Reference, parse_reference


async def _discard(_: dict) -> None:
    return None


class RegistryService:
    def __init__(self, images, data_root: str | Path, insecure: list[str] | None = None):
        self.images = images
        self.registries = Registries(insecure)
        self.blobs = BlobMap(data_root)

    async def close(self) -> None:
        await self.registries.close()

    # -- pull ------------------------------------------------------------------------------
    async def pull(self, name: str | Reference, auth: AuthConfig | None = None, progress: Progress | None = None,
                   platform: str = "") -> str:
        """Pull one reference (tag or digest); returns the image id."""
        ref = name if isinstance(name, Reference) else parse_reference(name)
        send = progress or _discard
        before = self.images.store.refs.get(str(ref)) if ref.tag and not ref.digest else None
        try:
            image_id = await pull_image(self.images, self.registries, ref, auth, send, parse_platform(platform),
                                        self.blobs)
        except (RegistryError, Unauthorized) as e:
            raise self._pull_error(ref, e) from None
        digest = next((d.split("@", 1)[1] for d in self.images.store.records[image_id].repo_digests
                       if d.split("@", 1)[0] == ref.familiar_name()), "")
        await send(msg.status(f"Digest: {digest}"))
        word = "Image is up to date for" if before == image_id else "Downloaded newer image for"
        await send(msg.status(f"Status: {word} {ref.familiar()}"))
        self.images.events.publish("image", "pull", ref.familiar(), {"name": ref.familiar()})
        return image_id

    async def pull_all_tags(self, name: str, auth: AuthConfig | None = None, progress: Progress | None = None,
                            platform: str = "") -> list[str]:
        ref = parse_reference(name, default_tag=False)
        repo = Repository(self.registries.session(ref.domain, auth), ref.path)
        try:
            tags = await repo.tags()
        except (RegistryError, Unauthorized) as e:
            raise self._pull_error(ref, e) from None
        return [await self.pull(ref.with_tag(t), auth, progress, platform) for t in tags]

    @staticmethod
    def _pull_error(ref: Reference, e: RegistryError | Unauthorized) -> SkiffError:
        """dockerd's words; refused credentials are a 404 too, so the docker CLI does not prompt for a login."""
        code = e.code if isinstance(e, RegistryError) else "UNAUTHORIZED"
        if code in ("UNAUTHORIZED", "DENIED", "NAME_UNKNOWN") or e.status in (401, 403):
            return NotFound(f"pull access denied for {ref.familiar_name()}, repository does not exist or may "
                            f"require 'docker login': {e.message}")
        if e.status == 404:
            return NotFound(f"manifest for {ref.familiar()} not found: {e.message}")
        return e

    # -- push ------------------------------------------------------------------------------
    async def push(self, name: str, tag: str = "", auth: AuthConfig | None = None,
                   progress: Progress | None = None) -> list[dict]:
        """Push one tag, or every tag of the repository when `tag` is empty; returns the aux records."""
        ref = parse_reference(name, default_tag=False)
        if ref.digest:
            raise InvalidArgument("cannot push a digest reference")
        tag = tag or ref.tag
        if tag:
            refs = [ref.with_tag(tag)]
        else:
            refs = sorted((parse_reference(r) for r in self.images.store.refs
                           if "@" not in r and parse_reference(r).name == ref.name), key=lambda r: r.tag)
        if not refs or (tag and str(refs[0]) not in self.images.store.refs):
            shown = refs[0].familiar() if refs else ref.familiar_name()
            raise NotFound(f"An image does not exist locally with the tag: {shown}")
        send = progress or _discard
        await send(msg.status(f"The push refers to repository [{ref.name}]"))
        out = []
        for r in refs:
            aux = await push_tag(self.images, self.registries, self.blobs, r, auth, send)
            await send(msg.aux(aux["Tag"], aux["Digest"], aux["Size"]))
            self.images.events.publish("image", "push", r.familiar(), {"name": r.familiar()})
            out.append(aux)
        return out

    # -- login, search, distribution -------------------------------------------------------
    async def login(self, auth: AuthConfig) -> dict:
        """POST /auth: check the credentials against the registry."""
        domain = normalize_server(auth.serveraddress or "docker.io")
        session = self.registries.session(domain, auth)
        await session.login()
        return {"Status": "Login Succeeded", "IdentityToken": ""}

    async def search(self, term: str, limit: int = 25, auth: AuthConfig | None = None) -> list[dict]:
        """`docker search`: the registry's v1 search API, where it has one."""
        if not term:
            raise InvalidArgument("term is required")
        domain, query = "docker.io", term
        first, sep, rest = term.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            domain, query = first, rest
        session = self.registries.session(domain, auth)
        host = index_host(domain)
        try:
            if not session.state.base:
                await session.ping()
            base = session.state.base.split("://", 1)[0] + "://" + host
            resp = await session.request("GET", f"{base}/v1/search", "", params={"q": query, "n": str(limit)})
            body = await resp.read()
        except Unauthorized as e:
            raise Forbidden(f"searching {domain}: {e.message}") from None
        if resp.status == 404:
            raise NotFound(f"the registry {domain} does not offer search (no /v1/search endpoint)")
        if resp.status in (401, 403):  # not 401 to the client: the docker CLI would prompt for a login
            raise Forbidden(f"searching {domain}: " + error_from(resp.status, body).message)
        if resp.status >= 400:
            raise error_from(resp.status, body, f"searching {domain}: ")
        try:
            results = orjson.loads(body).get("results") or []
        except (orjson.JSONDecodeError, AttributeError):
            raise InvalidArgument(f"the registry {domain} answered the search with invalid JSON") from None
        return [{"name": r.get("name", ""), "description": r.get("description", ""),
                 "star_count": r.get("star_count", 0), "is_official": bool(r.get("is_official")),
                 "is_automated": bool(r.get("is_automated"))} for r in results[:limit]]

    async def distribution(self, name: str, auth: AuthConfig | None = None) -> dict:
        """GET /distribution/{name}/json: the manifest descriptor and its platforms."""
        ref = parse_reference(name)
        repo = Repository(self.registries.session(ref.domain, auth), ref.path)
        try:
            digest, media_type, body = await repo.manifest(ref.digest or ref.tag)
        except (RegistryError, Unauthorized) as e:
            raise self._pull_error(ref, e) from None
        data = orjson.loads(body)
        if mt.is_index(media_type):
            platforms = [m.get("platform") for m in data.get("manifests", []) if m.get("platform")]
        else:
            resolved = await resolve(repo, ref, ("linux", "", ""))
            cfg = orjson.loads(await repo.blob_bytes(resolved.config_digest))
            platforms = [{"architecture": cfg.get("architecture", ""), "os": cfg.get("os", "")}]
        return {"Descriptor": {"mediaType": media_type, "digest": digest, "size": len(body)},
                "Platforms": platforms}
