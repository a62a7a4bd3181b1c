#!/usr/bin/env bash
# A node restored from an old backup does not fork its own feed: it refuses to
# publish until a peer has told it its feed's head and it has caught up, and
# then goes on from that head.
. "$(dirname "$0")/lib.sh"
put() { echo "{\"title\": \"$1\", \"summary\": \"$1\", \"topics\": [\"housing\"]}" | a Lyon put practice "$1"; }

A=$(node_init Lyon)
B=$(node_init Tunis)
node_start Lyon
node_start Tunis
until_ok 5 a Lyon status && until_ok 5 a Tunis status || fail "daemons do not answer"
a Lyon peer add "$B" --name Tunis --endpoint "127.0.0.1:$(node_port Tunis)" >/dev/null
a Tunis peer add "$A" --name Lyon --endpoint "127.0.0.1:$(node_port Lyon)" >/dev/null
put r1 >/dev/null
until_ok 10 a Tunis get practice r1 --city Lyon || fail "r1 did not reach Tunis"
node_stop Lyon
cp -a "$WORK/Lyon/data" "$WORK/backup"
node_start Lyon
until_ok 5 a Lyon status || fail "Lyon does not answer"
# After a restart a node publishes once a peer has told it its feed's head.
until_ok 10 put r2 || fail "Lyon did not get ready after a restart"
put r3 >/dev/null
until_ok 10 a Tunis get practice r3 --city Lyon || fail "r3 did not reach Tunis"

# Lyon's disk dies; the backup from before r2 comes back, and Tunis is away.
node_stop Lyon
node_stop Tunis
rm -rf "$WORK/Lyon/data"
cp -a "$WORK/backup" "$WORK/Lyon/data"
node_start Lyon
until_ok 5 a Lyon status || fail "restored Lyon does not answer"
if put r4 2>"$WORK/err"; then fail "a restored node published before learning its feed"; fi
grep -q "waiting to learn this node's own feed" "$WORK/err" || fail "message: $(cat "$WORK/err")"
a Lyon get practice r4 >/dev/null 2>&1 && fail "a refused put was stored"
echo "ok: a restored node waits, and says why"

node_start Tunis
until_ok 15 put r4 || fail "Lyon never learned its feed back from Tunis"
a Lyon get practice r3 >/dev/null || fail "Lyon did not take back r3 from Tunis"
until_ok 10 a Tunis get practice r4 --city Lyon || fail "r4 did not reach Tunis: a fork?"
grep -qi fork "$WORK/Tunis/agorad.log" && fail "Tunis saw a fork"
echo "ok: after learning its head from a peer it goes on without a fork"
echo "2 passed, 0 failed"
