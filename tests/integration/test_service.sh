#!/usr/bin/env bash
# The man pages render without a warning, and the systemd unit that the build
# made passes systemd-analyze verify (skipped, exit 77, where systemd-analyze is
# missing). Where cmake --install puts them: test_install.sh.
set -euo pipefail
SRC=${AGORA_SRC:?} BIN=${AGORA_BIN:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-svc-XXXXXX")
trap 'rm -rf "$work"' EXIT
for page in "$SRC"/contrib/man/*.[158]; do
	out=$(LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null || true)
	[ -z "$out" ] || { echo "FAIL: $page: $out"; exit 1; }
done
echo "ok: man pages render without warnings"
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze not found"
	exit 77
fi
# The unit names the installed agorad, which need not exist here: verify it with ours.
unit=$BIN/contrib/systemd/agorad.service
sbin=$(sed -n 's|^ExecStart=\([^ ]*\)/agorad .*|\1|p' "$unit")
[ -n "$sbin" ] || { echo "FAIL: no ExecStart in $unit"; exit 1; }
sed "s|$sbin/agorad|$BIN/agorad|g" "$unit" > "$work/agorad.service"
out=$(systemd-analyze verify --man=no "$work/agorad.service" 2>&1) || { echo "FAIL: $out"; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze: $out"; exit 1; }
echo "ok: systemd-analyze verify"
echo "2 passed, 0 failed"
