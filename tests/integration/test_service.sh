#!/usr/bin/env bash
# The systemd unit passes systemd-analyze verify, and cmake --install puts every
# file where Debian expects it. Skipped (exit 77) where systemd-analyze is missing.
set -euo pipefail
SRC=${AGORA_SRC:?} BIN=${AGORA_BIN:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-svc-XXXXXX")
trap 'rm -rf "$work"' EXIT
DESTDIR=$work cmake --install "$BIN" --prefix /usr >/dev/null
for f in usr/sbin/agorad usr/bin/agora usr/share/man/man1/agora.1 usr/share/man/man5/agorad.conf.5 \
	usr/share/man/man8/agorad.8 usr/share/bash-completion/completions/agora \
	usr/lib/systemd/system/agorad.service usr/lib/sysusers.d/agora.conf; do
	[ -e "$work/$f" ] || { echo "FAIL: cmake --install did not make $f"; exit 1; }
done
echo "ok: installed files in place"
for page in "$SRC"/contrib/man/*.[158]; do
	out=$(LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null || true)
	[ -z "$out" ] || { echo "FAIL: $page: $out"; exit 1; }
done
echo "ok: man pages render without warnings"
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze not found"
	exit 77
fi
sed "s|/usr/sbin/agorad|$BIN/agorad|g" "$SRC/contrib/systemd/agorad.service" > "$work/agorad.service"
out=$(systemd-analyze verify --man=no "$work/agorad.service" 2>&1) || { echo "FAIL: $out"; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze: $out"; exit 1; }
echo "ok: systemd-analyze verify"
echo "3 passed, 0 failed"
