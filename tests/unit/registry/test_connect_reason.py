import socket
from types import SimpleNamespace

import aiohttp

from skiff.engine.registry.session import _reason


def test_a_failed_connection_reads_as_host_port_and_the_os_reason():
    key = SimpleNamespace(host="registry-1.docker.io", port=443, ssl=True)
    err = aiohttp.ClientConnectorError(key, socket.gaierror(-2, "Name or service not known"))
    assert _reason(err) == "dial tcp registry-1.docker.io:443: Name or service not known"
