#!/usr/bin/env bash
# The restart rule: a plain restart publishes at once, even with every peer
# down; a node restored from an old backup (agora backup) does not fork its own
# feed: its store is older than DIR/node.head, so it refuses to publish, saying
# why, until a peer has told it its feed's head and it has caught up, and then
# goes on from that head.
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
a Lyon backup "$WORK/backup" >/dev/null || fail "agora backup failed"
[ -e "$WORK/backup/node.head" ] && fail "the backup holds node.head"

# node.head: this key's last seq and hash, nothing secret, replaced whole.
head=$(cat "$WORK/Lyon/node.head")
seq=$(a Lyon --json log | python3 -c 'import json, sys; e = json.load(sys.stdin)["entries"][-1]; print(e["seq"], e["hash"])')
[ "$head" = "$A $seq" ] || fail "node.head is '$head', not '$A $seq'"
secret=$(head -c 40 "$WORK/Lyon/node.key")
grep -qF "$secret" "$WORK/Lyon/node.head" && fail "node.head holds the secret key"
ls -a "$WORK/Lyon" | grep -q '^\.node\.head' && fail "a temporary node.head was left behind"

# Every peer down, a plain restart publishes at once: the store is not behind the key.
node_stop Tunis
node_stop Lyon
node_start Lyon
until_ok 5 a Lyon status || fail "Lyon does not answer"
put r2 >/dev/null 2>"$WORK/err" || fail "a plain restart with every peer down does not publish: $(cat "$WORK/err")"
a Lyon --json status | grep -qE '"ready": *true' || fail "Lyon is not ready after a plain restart"
put r3 >/dev/null
node_start Tunis
until_ok 10 a Tunis get practice r3 --city Lyon || fail "r3 did not reach Tunis"
echo "ok: a plain restart with every peer down publishes at once; node.head holds seq and hash only"

# Lyon's disk dies; the backup from before r2 comes back, and Tunis is away.
node_stop Lyon
node_stop Tunis
node_restore Lyon "$WORK/backup/data"
if put r4 2>"$WORK/err"; then fail "a restored node published before learning its feed"; fi
grep -qE "waits to learn its own feed from a peer, since its store holds its feed to seq [0-9]+, older than the seq [0-9]+ this key published" "$WORK/err" ||
	fail "message: $(cat "$WORK/err")"
grep -q -- '--force' "$WORK/err" || fail "the refusal does not say how to go ahead: $(cat "$WORK/err")"
a Lyon status | grep -qE "older than the seq [0-9]+" || fail "status does not say why it waits: $(a Lyon status)"
gone Lyon get practice r4 || fail "a refused put was stored"
echo "ok: a restored node waits, and says why"

node_start Tunis
until_ok 15 put r4 || fail "Lyon never learned its feed back from Tunis"
a Lyon get practice r3 >/dev/null || fail "Lyon did not take back r3 from Tunis"
until_ok 10 a Tunis get practice r4 --city Lyon || fail "r4 did not reach Tunis: a fork?"
# What Tunis logs and lists on a fork, not "fork" anywhere: its log holds keys and
# the work directory's name, in which any four letters may turn up.
grep -q ': fork: author ' "$WORK/Tunis/agorad.log" && fail "Tunis logged a fork"
[ "$(a Tunis fork list)" = "no forked feed" ] || fail "Tunis saw a fork: $(a Tunis fork list)"
echo "ok: after learning its head from a peer it goes on without a fork"
echo "3 passed, 0 failed"
