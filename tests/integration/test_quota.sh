#!/usr/bin/env bash
# Quotas (issue 15; agorad.conf(5) Quota, QuotaEntries, MaxDisk), with real
# daemons on two lines:
#  - A - B: A's author holds 3,000 practices (4 MiB of bodies); B has Quota
#    256K and QuotaEntries 2000. B stores A's first 2,000 headers and no more,
#    keeps at most 256 KiB of A's bodies, logs each limit once, says both in
#    agora status (and --json), never asks again for what it dropped (A sends
#    it nothing more once synced), and its store stays within Quota plus
#    QuotaEntries headers; B still serves A's bodies it holds, and publishes
#    to A.
#  - C - E: C's own feed already takes about 20 MB, over its MaxDisk of 16M: its
#    agora put exits 4 and says MaxDisk was reached, nothing written; after
#    SIGHUP with MaxDisk 64M it publishes. E (MaxDisk 16M, Quota 1G) takes
#    C's feed until 15/16 of MaxDisk, and no more: its store stays under
#    MaxDisk, status and check say it is full, and it still publishes; once
#    a SIGHUP raises its MaxDisk, it takes the rest.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, node_*, fail, cleanup on exit
export LANG=C.UTF-8
unset AGORA_DIR

KIB=1024
MIB=$((1024 * 1024))
A=$(node_init a)
B=$(node_init b)
C=$(node_init c)
E=$(node_init e)
printf 'Quota = 256K\nQuotaEntries = 2000\n' >"$WORK/limits"
sed -i "/^\[Node\]/r $WORK/limits" "$WORK/b/agorad.conf"
printf 'MaxDisk = 16M\n' >"$WORK/limits"
sed -i "/^\[Node\]/r $WORK/limits" "$WORK/c/agorad.conf"
printf 'MaxDisk = 16M\nQuota = 1G\n' >"$WORK/limits"
sed -i "/^\[Node\]/r $WORK/limits" "$WORK/e/agorad.conf"
"$BIN/tests/agora-fill" "$WORK/a" 3000 1400 || fail "agora-fill a"
"$BIN/tests/agora-fill" "$WORK/c" 8000 1400 || fail "agora-fill c"
node_peer a b "$B"
node_peer b a "$A"
node_peer c e "$E"
node_peer e c "$C"
for n in a b c e; do node_start $n; done
for n in a b c e; do until_ok 10 a $n status || fail "$n did not start"; done

# status_of NODE PY: the Python expression PY over NODE's status --json (s).
status_of() {
	a "$1" --json status | python3 -c '
import json, sys
s = json.load(sys.stdin)
feed = {f["author"]: f for f in s["feeds"]}
print(eval(sys.argv[1]))' "$2"
}

# ---- A - B: Quota and QuotaEntries ----
b_at_cap() { [ "$(feed_seq b "$A")" = 2000 ]; }
until_ok 30 b_at_cap || fail "B did not reach A's entry 2000: at $(feed_seq b "$A")"
sleep 2
[ "$(feed_seq b "$A")" = 2000 ] || fail "B stored A's entries past QuotaEntries: $(feed_seq b "$A")"
ok a b --json status
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
f = [f for f in s["feeds"] if f["author"] == sys.argv[2]][0]
assert s["quota"] == 256 * 1024 and s["quota_entries"] == 2000, s
assert f["capped"] and f["over_quota"], f
assert 200 * 1024 < f["body_bytes"] <= 256 * 1024, f
assert f["dropped"] >= 2000 - 256 * 1024 // 1400, f
p = [p for p in s["peers"] if p["name"] == "a"][0]
assert p["we_lack"] == 0, p
assert not s["catchup"]["running"], s["catchup"]' "$WORK/out" "$A" ||
	fail "B's status --json: A's feed capped, over quota, bodies within 256 KiB"
ok a b status
grep -E "^a +" "$WORK/out" | grep -q "at QuotaEntries: no more stored; over Quota: new bodies dropped; [0-9]* bodies dropped" ||
	fail "B's status table does not say A's feed is capped and over quota"
grep -q "^store  .* of MaxDisk 16.0 GiB; Quota 256.0 KiB and 2000 entries per feed" "$WORK/out" ||
	fail "B's status does not say its limits"
[ "$(grep -c "is over its quota" "$WORK/b/agorad.log")" = 1 ] || fail "B logged A over quota not once: $(grep -c "is over its quota" "$WORK/b/agorad.log")"
[ "$(grep -c "reached QuotaEntries (2000)" "$WORK/b/agorad.log")" = 1 ] || fail "B logged the entry cap not once"
ok a b metrics
grep -qE "^agora_feeds_over_quota 1$" "$WORK/out" && grep -qE "^agora_store_full 0$" "$WORK/out" ||
	fail "B's metrics: one feed over quota, the store not full"
echo "ok: B stores A's feed to QuotaEntries and 256 KiB of its bodies, logs each once, and says so in status"

# Nothing dropped is asked for again: A sends B nothing more while nothing changes.
sent() { a a --json status | python3 -c 'import json, sys; print([p["sent"] for p in json.load(sys.stdin)["peers"] if p["name"] == "b"][0])'; }
s1=$(sent)
sleep 3
s2=$(sent)
[ "$s1" = "$s2" ] || fail "A kept sending to B after the sync ($s1, then $s2 entries): something dropped is asked again"
b_bytes=$(status_of b 's["store_bytes"]')
bound=$((256 * KIB + 2000 * KIB + MIB))
a_bytes=$(status_of a 's["store_bytes"]')
echo "B's store: $b_bytes bytes (bound $bound); A's, holding everything: $a_bytes"
[ "$b_bytes" -le "$bound" ] || fail "B's store is $b_bytes bytes, over Quota + QuotaEntries KiB + 1 MiB ($bound)"
echo "ok: B asks nothing again, and its store ($b_bytes bytes) is within the bound ($bound)"

# B goes on: it serves A's bodies it holds, and publishes to A.
ok a b get practice fill-1 --city "$A"
grep -q "practice 1" "$WORK/out" || fail "B does not show A's first practice"
node_ready b
ok a b practice add --id from-b --title "Accueil" --topic health --summary "Un centre."
a_has_b() { a a get practice from-b --city "$B"; }
until_ok 10 a_has_b || fail "A did not get B's practice"
ok a b check
echo "ok: B still serves what it holds and publishes"

# ---- C: MaxDisk refuses its own publishing, until raised ----
rc=0
echo '{"title": "t", "summary": "s", "topics": ["housing"]}' | a c put practice over --force >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" = 4 ] || fail "put past MaxDisk exited $rc"
grep -q "^agora: put: the store has reached MaxDisk (16 MiB): nothing was written; raise MaxDisk in " "$WORK/err" ||
	fail "put past MaxDisk said: $(cat "$WORK/err")"
grep -Eq "store: publish practice refused: the store takes (1[7-9]|2[0-9])\.[0-9] MiB, MaxDisk is 16.0 MiB" "$WORK/c/agorad.log" ||
	fail "C's log does not say why"
gone c get practice over || fail "the refused practice was stored"
sed -i 's/^MaxDisk = 16M$/MaxDisk = 64M/' "$WORK/c/agorad.conf"
kill -HUP "$(cat "$WORK/c/pid")"
wait_log c "config reloaded: .*MaxDisk changed"
echo '{"title": "t", "summary": "s", "topics": ["housing"]}' >"$WORK/rec.json"
ok a c put practice over --force --file "$WORK/rec.json"
echo "ok: past MaxDisk C's own put exits 4 and says so; after a reload raising MaxDisk it publishes"

# ---- E: MaxDisk bounds what it takes of C's feed ----
e_full() { [ "$(status_of e 's["store_full"]')" = True ]; }
until_ok 30 e_full || fail "E did not fill to MaxDisk: $(status_of e 's["store_bytes"]') bytes"
sleep 2
e_bytes=$(status_of e 's["store_bytes"]')
e_seq=$(feed_seq e "$C")
echo "E's store: $e_bytes bytes of MaxDisk 16M, C's feed to $e_seq of 8001"
[ "$e_bytes" -le $((16 * MIB)) ] || fail "E's store grew past MaxDisk: $e_bytes bytes"
[ "$e_seq" -gt 4000 ] && [ "$e_seq" -lt 8000 ] || fail "E holds C's feed to $e_seq"
[ "$(grep -c "entries from peers are not stored until there is room" "$WORK/e/agorad.log")" = 1 ] &&
	! grep -q "has room again" "$WORK/e/agorad.log" || fail "E's log does not say once that it is full"
rc=0
a e check >"$WORK/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "^store full: it takes 1[0-9] MiB of MaxDisk 16 MiB" "$WORK/out" || fail "E's check: exit $rc: $(cat "$WORK/out")"
ok a e metrics
grep -qE "^agora_store_full 1$" "$WORK/out" && grep -qE "^agora_store_max_bytes 16777216$" "$WORK/out" ||
	fail "E's metrics do not say its store is full"
node_ready e
ok a e practice add --id own --title "Accueil" --topic health --summary "Un centre."
[ "$(status_of e 's["store_bytes"]')" -le $((16 * MIB)) ] || fail "E's own put took it past MaxDisk"
echo "ok: E takes C's feed to 15/16 of MaxDisk ($e_bytes bytes), says it is full, and still publishes"

# MaxDisk raised by SIGHUP: E takes the rest of C's feed, without a new connection.
sed -i 's/^MaxDisk = 16M$/MaxDisk = 64M/' "$WORK/e/agorad.conf"
kill -HUP "$(cat "$WORK/e/pid")"
wait_log e "config reloaded: .*MaxDisk changed"
e_whole() { [ "$(feed_seq e "$C")" = "$(feed_seq c "$C")" ]; }
until_ok 30 e_whole || fail "E did not take the rest of C's feed after MaxDisk was raised: $(feed_seq e "$C") of $(feed_seq c "$C")"
[ "$(status_of e 's["store_full"]')" = False ] || fail "E still says it is full"
echo "ok: with MaxDisk raised by a reload, E takes the rest of C's feed"
echo "6 passed, 0 failed"
