#!/usr/bin/env bash
# Installs the Debian packages agora builds, tests and runs with, if any is missing.
set -euo pipefail
packages=(
	build-essential cmake pkg-config clang libclang-rt-14-dev
	libuv1-dev libsodium-dev libmsgpack-dev liblmdb-dev libjansson-dev
	libinih-dev libutf8proc-dev libcmocka-dev libsystemd-dev libstemmer-dev
	iproute2 nftables procps python3 python3-markdown man-db bc valgrind
	git debhelper dpkg-dev fakeroot lintian
	chromium python3-prometheus-client
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "agora: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
