#!/usr/bin/env bash
# Control clients that never read (issue 14, item 7): 60 clients each ask for
# every record of a store of 10,000 (a LIST of about 12 MB) and read nothing.
#  - agorad's peak RSS stays within its RSS at rest + CONTROL_PENDING_MAX
#    (64 MiB) + 64 MiB for the response being built (without the bound the
#    60 answers held 764 MB);
#  - other clients are served meanwhile: status, get, a small list;
#  - the clients past the bound are told "busy", and it is logged once;
#  - once the readers read, a full LIST is served again.
. "$(dirname "$0")/lib.sh"
export LANG=C.UTF-8
unset AGORA_DIR
N=10000 HOGS=60
BUILT_MB=64 # the response being built: its entries, records and packed bytes
# Under AddressSanitizer freed memory waits in a quarantine (256 MB by default),
# which would count as the daemon's: keep it small, and allow for the shadow
# memory and redzones of the response being built.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8
[ "$SANITIZED" = 1 ] && BUILT_MB=96

node_init Lyon >/dev/null
"$BIN/tests/agora-fill" "$WORK/Lyon" "$N" 1000 >/dev/null || fail "agora-fill"
node_start Lyon
until_ok 10 a Lyon status || fail "Lyon does not answer"
pid=$(cat "$WORK/Lyon/pid")
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }

# At rest: one full LIST served and read, so the store's pages are in.
ok a Lyon --json list
size=$(stat -c %s "$WORK/out")
[ "$size" -gt 8000000 ] || fail "a LIST of $N records is only $size bytes"
sleep 1
rest=$(kb VmRSS)
echo 5 > "/proc/$pid/clear_refs" # VmHWM := VmRSS
echo "readers.rss_rest_mb: $((rest / 1024))"

coproc HOG { python3 "$(dirname "$0")/hog.py" "$WORK/Lyon/agorad.sock" "$HOGS"; }
read -r -t 30 line <&"${HOG[0]}" || fail "hog.py did not connect"
[ "$line" = sent ] || fail "hog.py: $line"
# agorad answers the requests one after another: until the last is answered.
until_ok 60 grep -q 'refused: .* MiB of responses wait' "$WORK/Lyon/agorad.log" || fail "no client was told busy"
sleep 3
ok a Lyon status
ok a Lyon get practice fill-1
ok a Lyon list --limit 5
[ "$(grep -c "^practice " "$WORK/out")" -eq 5 ] || fail "a list of 5 while clients do not read: $(cat "$WORK/out")"
echo "ok: other clients served while $HOGS do not read"

peak=$(kb VmHWM)
echo "readers.rss_peak_mb: $((peak / 1024))"
[ "$peak" -le $((rest + (64 + BUILT_MB) * 1024)) ] ||
	fail "peak RSS $((peak / 1024)) MB is above rest $((rest / 1024)) MB + 64 MiB waiting + $BUILT_MB MiB being built"
echo "ok: peak RSS $((peak / 1024)) MB, at rest $((rest / 1024)) MB"

echo go >&"${HOG[1]}"
read -r -t 120 line <&"${HOG[0]}" || fail "hog.py did not read the answers"
read -r _ served busy <<<"$line"
echo "readers.served: $served, readers.busy: $busy"
[ "$served" -ge 1 ] && [ "$busy" -ge 1 ] && [ $((served + busy)) -eq "$HOGS" ] ||
	fail "of $HOGS clients $served got records and $busy were told busy"
[ $((served * size)) -le $((80 * 1024 * 1024)) ] || fail "$served answers of $size bytes waited at once"
n=$(grep -c 'refused: .* MiB of responses wait' "$WORK/Lyon/agorad.log")
[ "$n" -eq 1 ] || fail "the refusal was logged $n times, not once"
echo "ok: $served answered, $busy told busy, logged once"

ok a Lyon --json list
[ "$(stat -c %s "$WORK/out")" = "$size" ] || fail "a full LIST after the readers went"
echo "ok: a full LIST is served again"
