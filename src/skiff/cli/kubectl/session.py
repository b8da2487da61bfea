"""One invocation's connection state: kubeconfig, client, discovery; and kubectl's error printing."""

from __future__ import annotations

import sys
from argparse import Namespace
from collections.abc import Callable
from functools import cached_property
from typing import Any

from skiff.cluster.client.discovery import UnknownResource
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.paths import Resource
from skiff.common.errors import SkiffError
from skiff.common.goduration import parse_go_duration


class CommandError(Exception):
    """A client-side failure, printed as `error: <message>` with exit code 1."""


class BareError(Exception):
    """A failure kubectl prints without the `error: ` prefix (explain's unknown type)."""


class Session:
    def __init__(self, opts: Namespace):
        self.opts = opts

    @cached_property
    def config(self) -> dict[str, Any]:
        from skiff.cluster.client import kubeconfig, loader

        explicit = getattr(self.opts, "kubeconfig", None)
        paths = [explicit] if explicit else kubeconfig.default_paths()
        return loader.read_or_in_cluster(paths, explicit=bool(explicit))

    @cached_property
    def connection(self):
        from skiff.cluster.client import kubeconfig

        o = self.opts
        conn = kubeconfig.resolve(self.config, context=o.context, server=o.server, token=o.token,
                                  namespace=o.namespace, insecure=o.insecure_skip_tls_verify,
                                  cluster=o.cluster, user=o.user)
        return conn

    @cached_property
    def client(self):
        from skiff.cluster.client.rest import RestClient

        timeout = _seconds(getattr(self.opts, "request_timeout", "0"))
        client = RestClient(self.connection, timeout=timeout or None)
        client.on_warning = lambda text: sys.stderr.write(f"Warning: {text}\n")
        client.extra_headers = impersonation_headers(self.opts, self._auth_info_name)
        return client

    def _auth_info_name(self) -> str:
        """The kubeconfig user the context names (kubectl's errors name it)."""
        cfg = self.config
        if getattr(self.opts, "user", None):
            return self.opts.user
        wanted = getattr(self.opts, "context", None) or cfg.get("current-context", "")
        for c in cfg.get("contexts") or []:
            if c.get("name") == wanted:
                return (c.get("context") or {}).get("user", "")
        return ""

    @property
    def namespace(self) -> str:
        return self.opts.namespace or self.connection.namespace

    @property
    def namespace_explicit(self) -> bool:
        return bool(self.opts.namespace)

    @cached_property
    def resources(self) -> list[Resource]:
        from skiff.cli.kubectl import discovery_cache

        cached = discovery_cache.load(self._cache_path)
        if cached is not None:
            self.discovery_fresh = False
            return cached
        return self._fetch_resources()

    @cached_property
    def _cache_path(self) -> str:
        from skiff.cli.kubectl import discovery_cache

        return discovery_cache.cache_file(self.connection.server)

    discovery_fresh = True

    def _fetch_resources(self) -> list[Resource]:
        from skiff.cli.kubectl import discovery_cache
        from skiff.cluster.client import discovery

        fetched = discovery.fetch(self.client)
        discovery_cache.store(self._cache_path, fetched)
        self.discovery_fresh = True
        return fetched

    def fresh_resources(self) -> list[Resource]:
        """Discovery from the server, not the cache (api-resources and api-versions, as kubectl)."""
        self.__dict__["resources"] = self._fetch_resources()
        return self.resources

    def _resolve(self, lookup: Callable[[list[Resource]], Resource]) -> Resource:
        """Look a resource up; a miss in a cached discovery refreshes it and looks again."""
        try:
            return lookup(self.resources)
        except UnknownResource:
            if self.discovery_fresh:
                raise
            self.__dict__["resources"] = self._fetch_resources()
            return lookup(self.resources)

    def resource(self, name: str) -> Resource:
        from skiff.cluster.client import discovery

        return self._resolve(lambda resources: discovery.resolve(resources, name))

    def resource_for(self, api_version: str, kind: str) -> Resource:
        from skiff.cluster.client import discovery

        return self._resolve(lambda resources: discovery.by_kind(resources, api_version, kind))

    def ns_for(self, res: Resource, obj_namespace: str | None = None) -> str | None:
        """The namespace a request on this resource goes to (None for cluster-scoped kinds)."""
        if not res.namespaced:
            return None
        if obj_namespace and self.namespace_explicit and obj_namespace != self.namespace:
            raise CommandError(f"the namespace from the provided object \"{obj_namespace}\" does not match the "
                               f"namespace \"{self.namespace}\". You must pass '--namespace={obj_namespace}' to perform this operation.")
        return obj_namespace or self.namespace


def _seconds(text: str) -> float:
    """A timeout flag: a Go duration, or bare seconds; 0 for anything else."""
    text = (text or "0").strip()
    try:
        return parse_go_duration(text)
    except ValueError:
        return float(text) if text.replace(".", "", 1).isdigit() else 0.0


def impersonation_headers(opts: Namespace, auth_info: Callable[[], str]) -> list[tuple[str, str]]:
    """--as, --as-group (repeatable) and --as-uid as Impersonate-* headers."""
    user = getattr(opts, "as_user", "") or ""
    groups = getattr(opts, "as_groups", None) or []
    uid = getattr(opts, "as_uid", "") or ""
    if (groups or uid) and not user:
        raise CommandError(f"requesting uid, groups or user-extra for {auth_info()} without impersonating a user")
    headers = [("Impersonate-User", user)] if user else []
    headers += [("Impersonate-Group", g) for g in groups]
    if uid:
        headers.append(("Impersonate-Uid", uid))
    return headers


def server_error_text(err: StatusError, doing: str = "") -> str:
    """kubectl's rendering of a Status: `Error from server (NotFound): pods "x" not found`."""
    reason = err.reason or "Unknown"
    message = err.message
    if doing:
        message = f"{doing}: {message}"
    if err.code == 422 and reason == "Invalid" and not err.status.get("details"):
        return f"The request is invalid: {message}"  # kubectl's checkErr, for an Invalid without details
    if err.code == 401:
        return f"error: You must be logged in to the server ({err.status.get('message') or 'Unauthorized'})"
    return f"Error from server ({reason}): {message}" if reason else f"Error from server: {message}"


def run_guarded(action: Callable[[], int | None]) -> int:
    """Run a command, turning the failures it raises into kubectl's messages and exit code 1."""
    try:
        return int(action() or 0)
    except StatusError as e:
        message = server_error_text(e)
    except (CommandError, SkiffError, UnknownResource) as e:
        message = f"error: {e}"
    except BareError as e:
        message = str(e)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        # transport failures, checked without importing ssl/http for the commands that never connect
        rest, ssl = sys.modules.get("skiff.cluster.client.rest"), sys.modules.get("ssl")
        if rest is not None and isinstance(e, rest.ConnectionFailed):
            message = str(e)
        elif ssl is not None and isinstance(e, ssl.SSLError):
            message = f"Unable to connect to the server: {e}"
        else:
            raise
    sys.stdout.flush()  # what was printed before the failure comes first, as in kubectl
    sys.stderr.write(message + "\n")
    return 1
