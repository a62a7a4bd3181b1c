#!/usr/bin/env bash
# bench-sync: two daemons on loopback; Source holds 100,000 entries (~500-byte
# bodies of multilingual text, as bench-store's: tests/bench/textgen.c; 10
# authors introduced by Source's member records), Empty starts with none.
# Times Empty's full sync as `agora status` sees it, beside the machine's
# bare Ed25519 verify rate on all its cores. Prints "name: value" lines only.
# Also, steady on a shared machine: sync.cpu_s, the CPU time both daemons
# spent (both run here, so the sender's work counts too), sync.receiver_cpu_s
# of it, sync.entries_per_cpu_s, and sync.bare_verify_per_cpu_s beside it:
# their ratio is the share of the sync's CPU that goes to verifying
# signatures. sync.receiver_peak_anon_mb and sync.receiver_peak_file_mb: the
# high-water marks of Empty's RssAnon (its heap: what the daemon costs) and
# RssFile (LMDB's mapped pages, the kernel's cache), sampled every 2 ms by
# agora-waitsync. sync.load_1m: the load average when the sync began.
# BODY=N gives one word of N letters per body instead of text. PROFILE=FILE
# records the receiver with `perf record -g` during the sync into FILE.
# RECEIVER_WRAP="valgrind --tool=massif" runs the receiver under a tool that
# keeps its pid.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=$(cd "$here/../.." && pwd)
AUTHORS=${AUTHORS:-10} PER=${PER:-10000} BODY=${BODY:-text}
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-bench-sync-XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
a() { local n=$1; shift; "$BIN/agora" --dir "$work/$n" "$@"; }
ps=$(port) pe=$(port)
ks=$("$BIN/tests/agora-mkinit" "$work/Source" Source "127.0.0.1:$ps")
ke=$("$BIN/tests/agora-mkinit" "$work/Empty" Empty "127.0.0.1:$pe")
for i in $(seq 1 "$AUTHORS"); do
	"$BIN/tests/agora-mkinit" "$work/A$i" "A$i" 127.0.0.1:1 > "$work/A$i.key"
	"$BIN/tests/agora-fill" "$work/Source" "$PER" "$BODY" "$work/A$i" >&2
done
"$BIN/agorad" --dir "$work/Source" 2>"$work/Source.log" & pids+=($!)
${RECEIVER_WRAP:-} "$BIN/agorad" --dir "$work/Empty" 2>"$work/Empty.log" & pids+=($!)
# Up to 30 s: on a loaded machine 5 s was too short for both to answer, and the bench failed.
up=0
for i in $(seq 300); do a Source id >/dev/null 2>&1 && a Empty id >/dev/null 2>&1 && up=1 && break; sleep 0.1; done
[ "$up" = 1 ] || { echo "bench-sync: the daemons did not answer in 30 s" >&2; tail -n 5 "$work"/*.log >&2; exit 1; }
for i in $(seq 1 "$AUTHORS"); do a Source peer add "$(cat "$work/A$i.key")" --name "A$i" >/dev/null; done
total=$((AUTHORS * PER + AUTHORS + 1)) # the records, Source's member records
a Source peer add "$ke" --name Empty --endpoint "127.0.0.1:$pe" >/dev/null
verify() { "$BIN/tests/bench/bench-verify" | sed -n "s/^verify.$1: //p"; }
# CPU seconds (user + system) both daemons, or the receiver alone (cpu recv), have used so far.
cpu() {
	local stats=(/proc/"${pids[1]}"/stat)
	[ "${1:-}" = recv ] || stats+=(/proc/"${pids[0]}"/stat)
	awk -v hz="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { printf "%.3f", s / hz }' "${stats[@]}"
}
before=$(verify bare_all_cores_per_s) before_cpu=$(verify bare_per_cpu_s)
c0=$(cpu) r0=$(cpu recv)
load=$(cut -d' ' -f1 /proc/loadavg)
if [ -n "${PROFILE:-}" ]; then
	perf record -q -g -o "$PROFILE" -p "${pids[1]}" 2>/dev/null & perf=$!
	sleep 0.5
fi
t0=$(date +%s.%N)
a Empty peer add "$ks" --name Source --endpoint "127.0.0.1:$ps" >/dev/null
# One process that asks every 10 ms on one connection: a process or three per look took CPU from the sync.
"$here/agora-waitsync" -p "${pids[1]}" "$work/Empty" "$total" 600 >"$work/peaks" ||
	{ echo "bench-sync: no full sync" >&2; exit 1; }
t1=$(date +%s.%N)
c1=$(cpu) r1=$(cpu recv)
if [ -n "${PROFILE:-}" ]; then kill -INT "$perf" && wait "$perf" || true; fi
secs=$(echo "$t1 - $t0" | bc -l)
printf 'sync.seconds: %.2f\n' "$secs"
printf 'sync.entries_per_s: %.0f\n' "$(echo "$AUTHORS * $PER / $secs" | bc -l)"
# The bare rate, measured just before and just after, so a noisy neighbour weighs on both alike.
after=$(verify bare_all_cores_per_s) after_cpu=$(verify bare_per_cpu_s)
printf 'sync.bare_verify_per_s: %.0f\n' "$(echo "($before + $after) / 2" | bc -l)"
printf 'sync.cpu_s: %.2f\n' "$(echo "$c1 - $c0" | bc -l)"
printf 'sync.receiver_cpu_s: %.2f\n' "$(echo "$r1 - $r0" | bc -l)"
printf 'sync.entries_per_cpu_s: %.0f\n' "$(echo "$AUTHORS * $PER / ($c1 - $c0)" | bc -l)"
printf 'sync.bare_verify_per_cpu_s: %.0f\n' "$(echo "($before_cpu + $after_cpu) / 2" | bc -l)"
peak() { sed -n "s/^peak_$1_kb: //p" "$work/peaks"; }
printf 'sync.receiver_peak_anon_mb: %.1f\n' "$(echo "$(peak anon) / 1024" | bc -l)"
printf 'sync.receiver_peak_file_mb: %.1f\n' "$(echo "$(peak file) / 1024" | bc -l)"
printf 'sync.load_1m: %s\n' "$load"
