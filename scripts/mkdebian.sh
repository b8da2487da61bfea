#!/usr/bin/env bash
# Make a Debian base image (debian:bookworm by default) with debootstrap, from the Debian
# package mirror this machine's apt already uses, and import it into a skiff engine, so that
# `FROM debian:bookworm` builds work with no public image registry.
#
#   sudo scripts/mkdebian.sh                         # import into the engine at $DOCKER_HOST or /run/skiff/engine.sock
#   sudo scripts/mkdebian.sh -o /tmp/bookworm.tar    # only write the rootfs tarball
#   sudo scripts/mkdebian.sh -H unix:///tmp/e/engine.sock -s bookworm -t debian:12
#
# Options: -s SUITE (bookworm), -m MIRROR (default: the first Debian URI in /etc/apt/sources*),
#          -t TAG (debian:SUITE), -o FILE (keep the rootfs tarball), -H HOST (engine socket),
#          -n (no import), --include PKGS (comma-separated extra packages).
set -euo pipefail

suite=bookworm
mirror="${MIRROR:-}"
tag=""
out=""
host="${DOCKER_HOST:-unix:///run/skiff/engine.sock}"
import=1
include=""

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    -s) suite="$2"; shift 2 ;;
    -m) mirror="$2"; shift 2 ;;
    -t) tag="$2"; shift 2 ;;
    -o) out="$2"; shift 2 ;;
    -H) host="$2"; shift 2 ;;
    -n) import=0; shift ;;
    --include) include="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mkdebian.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
tag="${tag:-debian:$suite}"

if [ "$(id -u)" != 0 ]; then
  echo "mkdebian.sh: debootstrap needs root" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "mkdebian.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

# The mirror apt is configured with (deb822 .sources files first, then one-line lists).
if [ -z "$mirror" ]; then
  mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
           | grep -v -- '-security' | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "mkdebian.sh: no Debian mirror found in /etc/apt; pass -m URL" >&2; exit 1; }

work=$(mktemp -d /tmp/skiff-mkdebian.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
rootfs="$work/rootfs"

echo "debootstrap $suite from $mirror ..." >&2
debootstrap --variant=minbase ${include:+--include="$include"} "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  echo "mkdebian.sh: debootstrap failed" >&2
  exit 1
}

# What Docker's debian images leave out: package caches and lists, logs, machine identity.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
       "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
: > "$rootfs/etc/machine-id"
rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
# apt in a container runs as root without a sandbox user switch that needs setgroups
printf 'APT::Sandbox::User "root";\n' > "$rootfs/etc/apt/apt.conf.d/00skiff-sandbox"

tarball="${out:-$work/rootfs.tar}"
tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball" .
echo "rootfs: $tarball ($(du -h "$tarball" | cut -f1))" >&2

if [ "$import" = 1 ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  skiff="$here/.venv/bin/skiff"
  [ -x "$skiff" ] || skiff=skiff
  "$skiff" -H "$host" import -c 'CMD ["bash"]' -m "debootstrap $suite (minbase) from the Debian mirror" "$tarball" "$tag"
fi
