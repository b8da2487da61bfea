"""The `kube-root-ca.crt` ConfigMap every namespace holds (pure): the CA bundle that verifies
the API server, which pods mount through their kube-api-access volume. Made by the API server's
namespace loop and kept right by the root-CA publisher controller, both from `configmap()`."""

from __future__ import annotations

from typing import Any

NAME = "kube-root-ca.crt"
KEY = "ca.crt"
DESCRIPTION_KEY = "kubernetes.io/description"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")


def configmap(namespace: str, ca: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": namespace, "annotations": {DESCRIPTION_KEY: DESCRIPTION}},
            "data": {KEY: ca}}
