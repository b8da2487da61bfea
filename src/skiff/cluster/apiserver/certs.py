"""The cluster's PKI, made at first start: a CA, the serving certificate, the admin client certificate.

Files live in `<data-dir>/tls/` and are reused on later starts; the serving certificate is
re-issued when the names it must cover change (a new --bind-address or hostname).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class Pki:
    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "server-ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "server-ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.dir / "serving-kube-apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.dir / "serving-kube-apiserver.key"

    @property
    def admin_cert(self) -> Path:
        return self.dir / "client-admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.dir / "client-admin.key"


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALIDITY))


def _load(cert: Path, key: Path):
    return (x509.load_pem_x509_certificate(cert.read_bytes()),
            serialization.load_pem_private_key(key.read_bytes(), None))


def issue(ca_cert: x509.Certificate, ca_key, cn: str, *, orgs: tuple[str, ...] = (),
          sans: list[x509.GeneralName] | None = None, server: bool = False) -> tuple[bytes, bytes]:
    """A leaf certificate signed by the CA: (cert PEM, key PEM)."""
    key = _new_key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    b = (_builder(_name(cn, orgs), ca_cert.subject, key.public_key())
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
         .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = b.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def serving_names(bind_address: str, extra: tuple[str, ...] = ()) -> list[str]:
    names = ["127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
             socket.gethostname()]
    if bind_address and bind_address not in ("0.0.0.0", "::"):
        names.append(bind_address)
    names.extend(extra)
    return list(dict.fromkeys(n for n in names if n))


def _sans(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return out


def _covers(cert_path: Path, names: list[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = {str(v) for v in ext.get_values_for_type(x509.IPAddress)} | set(ext.get_values_for_type(x509.DNSName))
    return set(names) <= have


def ensure_pki(data_dir: Path, names: list[str]) -> Pki:
    """Create whatever of the PKI is missing under data_dir/tls; keep what exists."""
    pki = Pki(Path(data_dir) / "tls")
    pki.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (pki.ca_cert.exists() and pki.ca_key.exists()):
        key = _new_key()
        name = _name("skiff-server-ca")
        cert = (_builder(name, name, key.public_key())
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                               critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        _write(pki.ca_key, _key_pem(key), 0o600)
        _write(pki.ca_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        for stale in (pki.serving_cert, pki.admin_cert):
            stale.unlink(missing_ok=True)
    ca_cert, ca_key = _load(pki.ca_cert, pki.ca_key)
    if not (_covers(pki.serving_cert, names) and pki.serving_key.exists()):
        cert_pem, key_pem = issue(ca_cert, ca_key, "kube-apiserver", sans=_sans(names), server=True)
        _write(pki.serving_key, key_pem, 0o600)
        _write(pki.serving_cert, cert_pem, 0o644)
    if not (pki.admin_cert.exists() and pki.admin_key.exists()):
        cert_pem, key_pem = issue(ca_cert, ca_key, "system:admin", orgs=("system:masters",))
        _write(pki.admin_key, key_pem, 0o600)
        _write(pki.admin_cert, cert_pem, 0o644)
    return pki
