"""Unique names for the containers and networks a test makes, removed when it ends."""

import contextlib
import secrets
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def unique_names(engine, tag: str) -> Iterator[Callable[..., str]]:
    """`new()` names a container, `new("net")` a network; at exit the containers are removed
    (forced), then the networks."""
    containers: list[str] = []
    networks: list[str] = []

    def new(kind: str = "c") -> str:
        name = f"{tag}-{secrets.token_hex(4)}"
        (networks if kind == "net" else containers).append(name)
        return name

    try:
        yield new
    finally:
        if containers:
            engine.docker("rm", "-f", *containers)
        for n in networks:
            engine.docker("network", "rm", n)
