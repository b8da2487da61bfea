"""scripts/mkdebian.sh makes debian:bookworm with debootstrap from the Debian package mirror,
and a Dockerfile FROM it installs a package with apt-get in a RUN step."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.build.contexts import write_context
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bookworm_rootfs(tmp_path_factory):
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (scripts/install.sh installs it)")
    out = tmp_path_factory.mktemp("debian") / "bookworm.tar"
    proc = subprocess.run([str(REPO / "scripts" / "mkdebian.sh"), "-n", "-o", str(out)], capture_output=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    yield out
    out.unlink(missing_ok=True)  # ~120 MB: not left for pytest's kept temp dirs


def test_from_debian_bookworm_with_apt_get(engine, bookworm_rootfs, tmp_path):
    ok(engine.skiff("import", "-c", 'CMD ["bash"]', str(bookworm_rootfs), "skb-debian:bookworm"))
    ctx = write_context(tmp_path / "c", "FROM skb-debian:bookworm\n"
                        "RUN apt-get update && apt-get install -y --no-install-recommends hello "
                        "&& rm -rf /var/lib/apt/lists/*\nCMD [\"hello\"]\n")
    try:
        out = ok(engine.skiff("build", "-t", "skb-hello:1", str(ctx), timeout=600))
        assert "Setting up hello" in out
        assert ok(engine.docker("run", "--rm", "--network", "none", "skb-hello:1")) == "Hello, world!\n"
        release = ok(engine.docker("run", "--rm", "--network", "none", "skb-debian:bookworm", "cat",
                                   "/etc/os-release"))
        assert 'VERSION_CODENAME=bookworm' in release
    finally:
        engine.docker("rmi", "-f", "skb-hello:1", "skb-debian:bookworm")
