"""The one error class of compose files: docker-compose prints its message and exits 1."""

from __future__ import annotations

from skiff.common.errors import InvalidArgument


class ConfigError(InvalidArgument):
    """A compose file that cannot be used as written (bad YAML, unknown key, wrong type,
    undefined or circular dependency, interpolation failure)."""


class SchemaError(ConfigError):
    """A key or a type the file format does not allow: docker-compose introduces these with
    "The Compose file '<file>' is invalid because:"."""

    path = ""  # the file, set by the loader
