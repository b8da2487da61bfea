#!/usr/bin/env bash
# Installs everything skiff needs on a Debian machine (apt packages, a virtualenv with
# skiff in it) and, unless SKIFF_NO_START=1, starts the engine on /run/skiff/engine.sock.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  busybox-static   # the busybox:latest test image, with no registry
  gcc libc6-dev    # the per-container shim is compiled on first use
  iproute2 iptables
  conntrack        # the Service proxy drops stale UDP conntrack entries when an endpoint goes
  procps           # ps, which `docker top` runs on the host as dockerd does
  runc             # the reference OCI runtime, for the runtime comparison tests
  docker.io        # the reference engine (dockerd) for interop tests and benchmarks
  skopeo           # reads skiff's OCI layout in interop tests
  etcd-server etcd-client  # the etcd datastore backend's tests and benchmarks (reference)
  docker-registry  # the reference registry (distribution 2.8) for registry interop tests
  docker-compose   # the reference docker-compose 1.29 for `skiff compose` interop tests
  strace           # bench/profile_run.py: the engine's system calls
  dnsmasq-base     # bench/bench_dns.py: the reference DNS server (the binary, no service started)
  debootstrap      # scripts/mkdebian.sh: the debian:bookworm base image, from the package mirror
  python3-venv
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # docker.io's post-install tries to start dockerd; skiff never needs that one running.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
# Byte-compile now: `skiff` starts on the hot path of every run, and some environments
# set PYTHONDONTWRITEBYTECODE, which would make every start recompile the CLI.
.venv/bin/python -m compileall -q src >/dev/null
# The `skiff` command starts Python without `site` (skiff/cli/launcher.py): pip's wrapper
# costs every command ~5 ms more. Written after pip, which rewrites its own wrapper.
.venv/bin/python -m skiff.cli.launcher .venv/bin/skiff
ln -sf "$PWD/.venv/bin/skiff" /usr/local/bin/skiff 2>/dev/null || true

if [ "${SKIFF_NO_START:-0}" != "1" ]; then
  mkdir -p /run/skiff /var/log/skiff
  if .venv/bin/skiff version >/dev/null 2>&1; then
    echo "skiff engine already running on /run/skiff/engine.sock"
  else
    nohup .venv/bin/skiff engine >/var/log/skiff/engine.log 2>&1 &
    for _ in $(seq 100); do
      [ -S /run/skiff/engine.sock ] && break
      sleep 0.1
    done
    echo "skiff engine started on /run/skiff/engine.sock (log: /var/log/skiff/engine.log)"
  fi
fi
