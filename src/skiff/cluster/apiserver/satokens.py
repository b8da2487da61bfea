"""Service account tokens: JWTs signed by the server (ES256), issued through TokenRequest and
accepted as bearer tokens, as kube-apiserver's bound service account tokens are.

Claims follow upstream: iss, sub `system:serviceaccount:NS:NAME`, aud, iat/nbf/exp, and
`kubernetes.io` with the namespace, the account's name and uid (and the pod's, when bound).
A token is only good while its account (same uid) still exists.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_AUDIENCES = [ISSUER, "k3s"]
DEFAULT_EXPIRY = 3600
MIN_EXPIRY = 600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Claims:
    namespace: str
    name: str
    uid: str
    audiences: tuple[str, ...]
    expires: int
    pod: tuple[str, str] | None = None  # (name, uid)


class Signer:
    def __init__(self, key: ec.EllipticCurvePrivateKey):
        self.key = key
        pub = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = _b64(_sha256(pub))

    def issue(self, c: Claims, now: int | None = None) -> str:
        now = int(now if now is not None else time.time())
        k8s: dict[str, Any] = {"namespace": c.namespace, "serviceaccount": {"name": c.name, "uid": c.uid}}
        if c.pod:
            k8s["pod"] = {"name": c.pod[0], "uid": c.pod[1]}
        body = {"aud": list(c.audiences), "exp": c.expires, "iat": now, "iss": ISSUER, "kubernetes.io": k8s,
                "nbf": now, "sub": f"system:serviceaccount:{c.namespace}:{c.name}"}
        header = {"alg": "ES256", "kid": self.kid}
        signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(body))}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def verify(self, token: str, now: int | None = None) -> Claims | None:
        """The claims of a token this server signed and that has not expired; None otherwise."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header, body, sig = orjson.loads(_unb64(parts[0])), orjson.loads(_unb64(parts[1])), _unb64(parts[2])
        except (ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(header, dict) or header.get("alg") != "ES256" or len(sig) != 64:
            return None
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            self.key.public_key().verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return None
        now = int(now if now is not None else time.time())
        if not isinstance(body, dict) or body.get("iss") != ISSUER or int(body.get("exp", 0)) <= now \
                or int(body.get("nbf", 0)) > now + 60:
            return None
        k8s = body.get("kubernetes.io") or {}
        sa = k8s.get("serviceaccount") or {}
        pod = k8s.get("pod")
        return Claims(k8s.get("namespace", ""), sa.get("name", ""), sa.get("uid", ""),
                      tuple(body.get("aud") or ()), int(body["exp"]),
                      (pod.get("name", ""), pod.get("uid", "")) if isinstance(pod, dict) else None)


def _sha256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()
