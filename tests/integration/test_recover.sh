#!/usr/bin/env bash
# test_recover.sh: a stolen key recovered (DESIGN.md "Trust over the years"). On a
# line A - B - C, a copy of A's node.key publishes and rotates from a thief's node;
# A's agora recover makes a certificate with its recovery key, B imports it, and
# within 10 s every node holds it, the thief's entries and successor feed are gone
# everywhere, the thief is refused, and A's new key is connected to B.
. "$(dirname "$0")/lib.sh"

has_record() { a "$1" --json get "$3" "$4" --city "$2" >/dev/null 2>&1; }
lacks_record() { gone "$1" --json get "$3" "$4" --city "$2"; }
config_has() { grep -qF "PublicKey = $2" "$WORK/$1/agorad.conf"; }
logged() { grep -F "$2" "$WORK/$1/agorad.log" | grep -qF "$3"; }
peer_up() {
	a "$1" --json peer list | python3 -c '
import json, sys
sys.exit(0 if any(p["key"] == sys.argv[1] and p["connected"] for p in json.load(sys.stdin)["peers"]) else 1)' "$2"
}

node_line A B C
OLD=$(cat "$WORK/A.key")
a A practice add --id mine --title "Ma pratique" --topic housing --summary "de A" >/dev/null ||
	fail "A cannot publish"
until_ok 10 has_record C "$OLD" practice mine || fail "C never got A's practice"
LAST=$(feed_seq A "$OLD")

# ---- a thief with a copy of A's node.key publishes and rotates, through B ----
# (while A is away: two nodes of one key would take B's link from each other by turns)
node_stop A
mkdir -m 700 "$WORK/T"
cp "$WORK/A/node.key" "$WORK/T/node.key"
echo "$(free_port)" >"$WORK/ports/T"
printf '[Node]\nName = T\nListen = 127.0.0.1:%s\n' "$(node_port T)" >"$WORK/T/agorad.conf"
node_peer T B "$(cat "$WORK/B.key")"
node_start T
node_ready T
a T practice add --id stolen --title "Volée" --topic housing --summary "du voleur" >/dev/null ||
	fail "the thief cannot publish"
until_ok 10 has_record C "$OLD" practice stolen || fail "C never got the thief's practice"
a T key rotate >"$WORK/out" || fail "the thief cannot rotate"
THIEF=$(sed -n 's/^new key: //p' "$WORK/out")
until_ok 10 config_has B "$THIEF" || fail "B did not follow the thief's rotation"
echo "ok: a copy of A's key published and rotated to $THIEF; B followed"
node_start A
until_ok 5 a A status || fail "A does not answer"

# ---- A recovers; B imports the certificate ----
a A recover --recovery-key "$WORK/A.recovery" --output "$WORK/A.cert" >"$WORK/out" ||
	fail "agora recover failed: $(cat "$WORK/out")"
NEW=$(sed -n 's/^new key: //p' "$WORK/out")
[[ "$NEW" =~ ^[A-Za-z0-9+/]{43}=$ ]] && [ "$NEW" != "$OLD" ] || fail "recover printed no new key"
[ -s "$WORK/A.cert" ] || fail "recover wrote no certificate file"
[ "$(a A id | cut -d' ' -f1)" = "$NEW" ] || fail "A's key is not the new one"
t0=$SECONDS
a B cert import "$WORK/A.cert" >/dev/null || fail "B cannot import the certificate"

for n in A B C; do
	until_ok 10 logged "$n" "certificate: $OLD is succeeded by" "$NEW" ||
		fail "$n does not hold the certificate"
	until_ok 10 lacks_record "$n" "$OLD" practice stolen || fail "$n still holds the thief's practice"
	[ "$(feed_seq "$n" "$OLD")" -le "$LAST" ] || fail "$n holds A's old feed past seq $LAST"
	[ "$(feed_seq "$n" "$THIEF")" = 0 ] || fail "$n still holds the thief's successor feed"
	has_record "$n" "$OLD" practice mine || fail "$n lost A's own practice"
done
echo "ok: within $((SECONDS - t0)) s A, B and C hold the certificate; the thief's entries and successor feed are gone"

# B's roster history tells of the recovery (old key, new key, the last valid seq), and its
# status counts the certificate and lists A's old feed and the thief's successor as closed.
a B --json peer log | python3 -c '
import json, sys
old, new, last = sys.argv[1], sys.argv[2], int(sys.argv[3])
ev = [e for e in json.load(sys.stdin)["events"] if e["kind"] == "recovered"]
sys.exit(0 if [(e["by"], e["key"]) for e in ev] == [(old, new)] and ev[0]["seq"] <= last
         and ev[0]["timestamp"] > 0 else 1)' "$OLD" "$NEW" "$LAST" || fail "B's peer log lacks the recovery"
a B history member "$NEW" | grep -F recovered | grep -qF "$NEW" || fail "B's history of $NEW lacks the recovery"
a B --json status | python3 -c '
import json, sys
st = json.load(sys.stdin)
closed = {c["key"] for c in st["closed"]}
sys.exit(0 if st["certs"] == 1 and {sys.argv[1], sys.argv[2]} <= closed and sys.argv[3] not in closed else 1)' \
	"$OLD" "$THIEF" "$NEW" || fail "B's status does not show the certificate and the closed feeds"
a B status | grep -qx "keys   1 succession certificate held; closed feeds: .*" || fail "B's status has no keys line"
echo "ok: B's peer log, history member and status show the recovery"

until_ok 10 peer_up B "$NEW" || fail "A's new key is not connected to B"
config_has B "$THIEF" && fail "B's config still holds the thief's key"
# From here on B knows neither of the thief's keys: it refuses them at the handshake.
# B names an unknown key once an hour, and named the thief's new key already when
# it first dialed, before B followed the rotation: a refusal from here on is seen
# by its debug line (T dials on, with a backoff) before T's log is read.
tl=$(wc -l <"$WORK/T/agorad.log")
bl=$(wc -l <"$WORK/B/agorad.log")
until_ok 20 eval "tail -n +$((bl + 1)) '$WORK/B/agorad.log' | grep -q 'closed before authentication: unknown key'" ||
	fail "B did not refuse the thief's next dial"
until_ok 5 logged B "an unknown key tried to connect" "$THIEF" || fail "B did not log the thief's key as unknown"
tail -n +"$((tl + 1))" "$WORK/T/agorad.log" | grep -q "B: connected" &&
	fail "the thief connected to B after B took the certificate"
a A practice add --id after --title "Après" --topic housing --summary "de A, nouvelle clé" >/dev/null ||
	fail "A cannot publish under its new key"
until_ok 10 has_record C A practice after || fail "C did not get A's new record under A's name"
echo "ok: A's new key is connected to B and reaches C under A's name; the thief is refused"

# ---- node.key lost: agora key new, then recover --old-key names the lost key ----
node_stop A
rm -f "$WORK/A/node.key" "$WORK/A/node.key.old"
a A key new >"$WORK/out" || fail "agora key new failed"
K3=$(cat "$WORK/out")
node_start A
until_ok 5 a A status || fail "A does not start with its new key"
a A recover --recovery-key "$WORK/A.recovery" --old-key "$NEW" --output "$WORK/A2.cert" >"$WORK/out" ||
	fail "recover --old-key failed: $(cat "$WORK/out")"
[ "$(sed -n 's/^new key: //p' "$WORK/out")" = "$K3" ] || fail "the lost key's successor is not A's new key"
a B cert import "$WORK/A2.cert" >/dev/null || fail "B cannot import the second certificate"
until_ok 10 peer_up B "$K3" || fail "A's key after the loss is not connected to B"
node_ready A
a A practice add --id found --title "Retrouvée" --topic housing --summary "après la perte" >/dev/null ||
	fail "A cannot publish after recovering a lost key"
until_ok 10 has_record C A practice found || fail "C did not get A's record after the loss under A's name"
echo "ok: a lost node.key: agora key new and recover --old-key, and A publishes to C again"

# ---- a fork (a backup restored, --force) resolved by agora recover ----
forked() {
	a "$1" --json status | python3 -c '
import json, sys
sys.exit(0 if any(f["author"] == sys.argv[1] and f["forked"] for f in json.load(sys.stdin)["feeds"]) else 1)' "$2"
}
put() { echo "{\"title\": \"$2\", \"summary\": \"$2\", \"topics\": [\"housing\"]}" | a "$1" put practice "$2" "${@:3}"; }
node_line X Y Z
XOLD=$(cat "$WORK/X.key")
put X p1 >/dev/null || fail "X cannot publish"
node_stop X
cp -a "$WORK/X/data" "$WORK/X.backup"
node_start X
node_ready X
put X p2 >/dev/null && put X p3 >/dev/null || fail "X cannot publish after a restart"
until_ok 10 has_record Z "$XOLD" practice p3 || fail "Z never got p3"
node_stop X
node_stop Y
node_restore X "$WORK/X.backup"
put X p4 --force >/dev/null || fail "X cannot publish with --force"
node_start Y
until_ok 10 forked Y "$XOLD" || fail "Y did not see X's fork"
until_ok 10 forked X "$XOLD" || fail "X did not learn of its own fork"
if put X p5 2>/dev/null; then fail "X published on a forked feed"; fi
echo "ok: a backup restored with --force forked X's feed, and X cannot publish"

a X recover --recovery-key "$WORK/X.recovery" --output "$WORK/X.cert" >"$WORK/out" ||
	fail "agora recover failed: $(cat "$WORK/out")"
XNEW=$(sed -n 's/^new key: //p' "$WORK/out")
t0=$SECONDS
# No import: the certificate goes through X's old key's link to Y, and on to Z.
for n in X Y Z; do
	until_ok 10 logged "$n" "certificate: $XOLD is succeeded by" "$XNEW" ||
		fail "$n does not hold X's certificate"
	until_ok 10 eval "! forked $n $XOLD" || fail "$n still flags X's old feed as forked"
done
until_ok 10 config_has Y "$XNEW" || fail "Y did not move X to its new key"
put X p5 >/dev/null || fail "X cannot publish after its recovery"
until_ok 10 has_record Z X practice p5 || fail "Z did not get X's p5 under X's name"
echo "ok: after agora recover, X publishes again and Y and Z follow its new key ($((SECONDS - t0)) s)"
