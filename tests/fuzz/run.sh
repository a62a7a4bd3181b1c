#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a copy of its seed corpus,
# and prints its figures as "fuzz.NAME.execs: N" (inputs run) and
# "fuzz.NAME.cov: N" (coverage points reached at the end), plus ".ft" (features).
# Any crash, leak or sanitizer report makes libFuzzer exit non-zero, failing the
# test, and the reproducer is printed in base64.
set -euo pipefail
target=$(realpath "$1") seeds=$(realpath "$2") seconds=${3:-60}
name=$(basename "$target")
name=${name#fuzz_}
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
set +e # a failing run must still print its reproducer
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/" corpus >"$work/log" 2>&1
status=$?
set -e
tail -n 25 "$work/log"
# libFuzzer's status lines read "#N  KIND  cov: C ft: F corp: ..."; the last one holds the end state.
last=$(grep -E '^#[0-9]+.* cov: [0-9]+' "$work/log" | tail -n 1 || true)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
echo "fuzz.$name.execs: ${execs:-0}"
cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
echo "fuzz.$name.cov: ${cov:-0}"
echo "fuzz.$name.ft: ${ft:-0}"
if [ "$status" -ne 0 ]; then
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -e "$f" ] && { echo "reproducer: $(basename "$f") (base64):"; base64 -w0 "$f"; echo; }
	done
fi
# libFuzzer reports a crash with 77, which ctest could take for "skipped".
[ "$status" -eq 0 ] || exit 1
