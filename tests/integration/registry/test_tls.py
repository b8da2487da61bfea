"""A registry served over https: the engine talks TLS to it, and trusts a CA from certs.d."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from tests.integration.registry.conftest import import_unique
from tests.support.procs import ok
from tests.support.registry import SkiffRegistry, self_signed_cert


@pytest.fixture(scope="module")
def tls_registry():
    root = Path(tempfile.mkdtemp(prefix="skreg-tls-", dir="/tmp"))
    reg = SkiffRegistry(root / "reg", tls=self_signed_cert(root / "certs")).start()
    reg.cert = root / "certs" / "domain.crt"
    yield reg
    reg.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def test_it_speaks_only_tls(tls_registry):
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://{tls_registry.addr}/v2/", timeout=5)
    with urllib.request.urlopen(tls_registry.url + "/v2/", timeout=5,
                                context=ssl.create_default_context(cafile=str(tls_registry.cert))) as r:
        assert r.status == 200


def test_certs_d_ca_is_trusted(tls_registry, tmp_path):
    from skiff.engine.registry.session import Registries

    (tmp_path / tls_registry.addr).mkdir()
    shutil.copy(tls_registry.cert, tmp_path / tls_registry.addr / "ca.crt")
    with_ca = Registries(certs_dir=str(tmp_path)).ssl_context(tls_registry.addr)
    without = Registries(certs_dir=str(tmp_path / "none")).ssl_context(tls_registry.addr)

    async def status(ctx) -> int:
        async with aiohttp.ClientSession() as s, s.get(tls_registry.url + "/v2/", ssl=ctx) as r:
            return r.status

    assert asyncio.run(status(with_ca)) == 200
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        asyncio.run(status(without))


@pytest.mark.root
def test_push_and_pull_over_tls(engine, tls_registry):
    """127.0.0.1 is an insecure registry to Docker: https first, without verification."""
    ref = f"{tls_registry.addr}/tls/app:v1"
    image_id = import_unique(engine, ref)
    try:
        assert "Pushed" in ok(engine.docker("push", ref))
        ok(engine.docker("rmi", ref))
        assert "Pull complete" in ok(engine.docker("pull", ref))
        assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", ref)).strip() == image_id
    finally:
        engine.docker("rmi", "-f", ref)
