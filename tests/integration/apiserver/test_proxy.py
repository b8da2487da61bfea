"""pods/NAME/proxy and services/NAME/proxy relay HTTP to a pod's address (here a loopback server
standing in for a pod), through our API and through real kubectl."""

from __future__ import annotations

import http.server
import json
import threading

import pytest


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's name
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_pod_proxy(kube_server, namespace, echo):
    base = f"/api/v1/namespaces/{namespace}/pods"
    pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "busybox",
                                                                 "ports": [{"name": "http", "containerPort": echo}]}]}}
    assert kube_server.json("POST", base, pod)[0] == 201
    status, body = kube_server.json("GET", f"{base}/web:http/proxy/hello")
    assert status == 503 and "has no IP address" in body["message"]
    status, body = kube_server.json("PATCH", f"{base}/web/status", json.dumps({"status": {"podIP": "127.0.0.1"}}).encode(),
                                    headers={"Content-Type": "application/merge-patch+json"})
    assert status == 200, body
    status, body = kube_server.json("GET", f"{base}/web:http/proxy/hello?x=1")
    assert status == 200 and body == {"path": "/hello?x=1"}
    status, body = kube_server.json("GET", f"{base}/web:{echo}/proxy/")
    assert status == 200 and body == {"path": "/"}
    status, body = kube_server.json("GET", f"{base}/nope/proxy/")
    assert status == 404


def test_service_proxy_through_kubectl(kube_server, namespace, echo):
    ns = f"/api/v1/namespaces/{namespace}"
    svc = {"metadata": {"name": "front"}, "spec": {"ports": [{"name": "http", "port": 80}]}}  # no selector
    assert kube_server.json("POST", f"{ns}/services", svc)[0] == 201
    status, body = kube_server.json("GET", f"{ns}/services/front:http/proxy/")
    assert status == 503 and 'no endpoints available for service "front"' in body["message"]
    eps = {"metadata": {"name": "front"}, "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                                                       "ports": [{"name": "http", "port": echo}]}]}
    assert kube_server.json("POST", f"{ns}/endpoints", eps)[0] == 201
    out = kube_server.kubectl("get", "--raw", f"{ns}/services/front:http/proxy/api/items")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"path": "/api/items"}
    out = kube_server.kubectl("get", "--raw", f"{ns}/services/http:front:80/proxy/x")
    assert out.returncode == 0 and json.loads(out.stdout) == {"path": "/x"}
    assert kube_server.ready()
