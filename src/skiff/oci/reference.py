"""Docker image references: `name`, `name:tag`, `host:port/ns/name:tag`, `name@sha256:...`."""

from __future__ import annotations

from dataclasses import dataclass

from skiff.common.errors import InvalidArgument

DEFAULT_DOMAIN = "docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"


@dataclass(frozen=True)
class Reference:
    domain: str
    path: str  # "library/busybox"
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """The full repository name: docker.io/library/busybox."""
        return f"{self.domain}/{self.path}"

    def familiar_name(self) -> str:
        """busybox, user/app, myhost:5000/app."""
        raise NotImplementedError

    def familiar(self) -> str:
        """busybox:latest, busybox@sha256:..., as Docker displays it."""
        raise NotImplementedError

    def __str__(self) -> str:
        raise NotImplementedError


def parse_reference(s: str, default_tag: bool = True) -> Reference:
    """Parse with Docker's grammar; `default_tag` adds `latest` when neither tag nor digest is given."""
    raise InvalidArgument("invalid reference format")
