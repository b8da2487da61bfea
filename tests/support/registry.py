"""Registries for tests, each on a loopback port of its own: skiff's (`skiff registry serve`),
Debian's reference one (`docker-registry`, distribution 2.8), and a proxy that drops connections."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.support.procs import stop_process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_cert(directory: Path, ip: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed CA-capable certificate for `ip` (PEM cert, PEM key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skiff test registry")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "domain.crt", directory / "domain.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def htpasswd_file(path: Path, user: str, password: str) -> Path:
    import bcrypt

    path.write_text(f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}\n")
    return path


class _Served:
    """A registry process on 127.0.0.1:port with its storage under `root`."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.addr}"
        self.proc: subprocess.Popen | None = None
        self.log = root / "registry.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 20) -> _Served:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"registry exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                import ssl
                unverified = ssl._create_unverified_context()
                urllib.request.urlopen(self.url + "/v2/", timeout=2, context=unverified)
                return self
            except urllib.error.HTTPError:
                return self  # 401: up, and wants credentials
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"registry did not answer in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class SkiffRegistry(_Served):
    def __init__(self, root: Path, htpasswd: Path | None = None, tls: tuple[Path, Path] | None = None):
        super().__init__(root)
        self.htpasswd = htpasswd
        self.tls = tls
        self.storage = root / "storage"
        if tls:
            self.url = f"https://{self.addr}"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "skiff", "registry", "serve", "--addr", self.addr, "--root", str(self.storage)]
        if self.tls:
            cmd += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        return cmd + (["--htpasswd", str(self.htpasswd)] if self.htpasswd else [])


class DistributionRegistry(_Served):
    """Debian's docker-registry (distribution 2.8) with a config file of ours."""

    def __init__(self, root: Path, htpasswd: Path | None = None):
        super().__init__(root)
        auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n" if htpasswd else ""
        self.config = root / "config.yml"
        root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                               f"    rootdirectory: {root / 'storage'}\n  delete:\n    enabled: true\n"
                               f"http:\n  addr: {self.addr}\n{auth}")

    def command(self) -> list[str]:
        return ["docker-registry", "serve", str(self.config)]


class DroppingProxy:
    """A TCP proxy to `target_port` that cuts blob downloads (or, with uploads=True, chunked
    uploads) after `after` bytes, `drops` times (or always, with drops=-1); everything else
    passes through."""

    def __init__(self, target_port: int, after: int = 64 << 10, drops: int = 2, uploads: bool = False):
        self.uploads = uploads
        self.target_port = target_port
        self.after = after
        self.drops = drops
        self.dropped = 0
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(16)
        self._stop = False
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> DroppingProxy:
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(client,), daemon=True)
            t.start()
            self._threads.append(t)

    def _should_drop(self) -> bool:
        with self._lock:
            if self.drops < 0 or self.dropped < self.drops:
                self.dropped += 1
                return True
            return False

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        state = {"drop": False, "sent": 0, "cut": False, "up": 0}

        def up() -> None:
            try:
                while data := client.recv(65536):
                    if not self.uploads and b"GET /v2/" in data and b"/blobs/sha256:" in data \
                            and self._should_drop():
                        state["drop"], state["sent"] = True, 0
                    if self.uploads and data.startswith(b"PATCH /v2/") and self._should_drop():
                        state["cut"], state["up"] = True, 0
                    if state["cut"]:
                        room = self.after - state["up"]
                        if room <= len(data):
                            upstream.sendall(data[:max(room, 0)])
                            break
                        state["up"] += len(data)
                    upstream.sendall(data)
            except OSError:
                pass
            finally:
                _close(upstream)
                if state["cut"]:
                    _close(client)

        threading.Thread(target=up, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                if state["drop"]:
                    room = self.after - state["sent"]
                    if room <= len(data):
                        client.sendall(data[:max(room, 0)])
                        break
                    state["sent"] += len(data)
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)

    def stop(self) -> None:
        self._stop = True
        _close(self._sock)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()
