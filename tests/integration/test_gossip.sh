#!/usr/bin/env bash
# Gossip with real daemons on loopback, driven by the real CLI:
#   a line Lyon - Tunis - Napoli: a record published at Lyon reaches Napoli;
#   an associate (Sfax) introduced by Tunis's member record is replicated by Lyon;
#   a partition (Tunis down) and its heal;
#   a peer that sends a forged entry is cut off and nothing of it is stored;
#   Big - Mid - End: Mid is killed (SIGKILL) and restarted in the middle of a
#   large sync, and End completes it with nothing lost or duplicated.
. "$(dirname "$0")/lib.sh"
seq_is() { [ "$(feed_seq "$1" "$2")" -eq "$3" ]; } # seq_is AT KEY SEQ
put() { echo "{\"title\": \"$3\", \"summary\": \"$3\", \"topics\": [\"housing\"]}" | a "$1" put practice "$2" >/dev/null; }

for c in Lyon Tunis Napoli; do node_make "$c"; done
until_ok 5 a Lyon status || fail "Lyon does not answer"
node_link Lyon Tunis
node_link Tunis Napoli
put Lyon p1 "Hébergement d'urgence"
until_ok 15 a Napoli get practice p1 --city Lyon || fail "p1 did not reach Napoli"
a Napoli get practice p1 --city Lyon | grep -q "Hébergement" || fail "p1 arrived altered"
echo "ok: line Lyon - Tunis - Napoli"

node_make Sfax
node_link Tunis Sfax
put Sfax s1 "Accès aux droits"
until_ok 15 a Lyon get practice s1 --city Sfax || fail "Sfax's record did not reach Lyon"
echo "ok: associate introduced by Tunis replicated at Lyon"

node_stop Tunis
put Lyon p2 "pendant la coupure"
sleep 1
gone Napoli get practice p2 --city Lyon || fail "p2 crossed a partition"
node_start Tunis
until_ok 20 a Napoli get practice p2 --city Lyon || fail "p2 did not arrive after the heal"
echo "ok: partition and heal"

node_init Evil > "$WORK/Evil.key"
a Lyon peer add "$(cat "$WORK/Evil.key")" --name Evil >/dev/null
"$BIN/tests/agora-evil" "$WORK/Evil" "$(cat "$WORK/Lyon.key")" "$(addr Lyon)" forge ||
	fail "Lyon did not cut off a forged entry"
wait_log Lyon 'Evil.*invalid entry.*bad signature'
# Evil's feed held at seq 0, which a status that fails does not give: not "no line saying forged".
[ "$(feed_seq Lyon "$(cat "$WORK/Evil.key")")" = 0 ] || fail "a forged entry was stored"
a Lyon id >/dev/null || fail "Lyon stopped answering"
until_ok 10 a Napoli get practice p2 --city Lyon || fail "Lyon stopped serving"
echo "ok: forged entry cut off, nothing stored"

N=${SYNC_ENTRIES:-60000}
node_init Big > "$WORK/Big.key"
BIG=$(cat "$WORK/Big.key")
"$BIN/tests/agora-fill" "$WORK/Big" "$N" || fail "fill"
node_start Big
until_ok 5 a Big status || fail "Big does not answer"
node_make Mid
node_make End
node_link Big Mid
node_link Mid End
# At once when End holds the first of Big's entries: agora-waitsync asks every
# 10 ms on one connection, where a CLI per look missed a whole sync of 60,000.
"$BIN/tests/bench/agora-waitsync" "$WORK/End" 1 $((60 * SLOW)) "$BIG" || fail "End took nothing of Big's feed"
kill -KILL "$(cat "$WORK/Mid/pid")"
got=$(feed_seq End "$BIG")
head=$(feed_seq Big "$BIG") # N records and the member records that vouch for Mid
[ "$got" -gt 0 ] && [ "$got" -lt "$head" ] || fail "Mid was not killed in the middle of the sync ($got of $head)"
wait "$(cat "$WORK/Mid/pid")" 2>/dev/null || true
node_start Mid
until_ok 120 seq_is End "$BIG" "$head" || fail "sync did not complete after SIGKILL ($(feed_seq End "$BIG") of $head)"
for city in Mid End; do
	a "$city" log --city Big --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
entries = doc["entries"] if isinstance(doc, dict) else doc
seqs = [e["seq"] for e in entries]
n = int(sys.argv[1])
assert seqs == list(range(1, n + 1)), f"{len(seqs)} entries, not 1..{n} once each"' "$head" || fail "$city: entries lost or duplicated"
done
echo "ok: a line's middle node killed with SIGKILL during a large sync; the sync completed, nothing lost or duplicated (killed at $got of $head)"
echo "5 passed, 0 failed"
