#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a copy of its seed corpus.
# Any crash, leak or sanitizer report makes libFuzzer exit non-zero, failing the test.
set -euo pipefail
target=$1 seeds=$2 seconds=${3:-60}
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
set +e # a failing run must still print its reproducer
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/" corpus 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -e "$f" ] && { echo "reproducer: $(basename "$f") (base64):"; base64 -w0 "$f"; echo; }
	done
fi
exit "$status"
