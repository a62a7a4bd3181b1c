#!/usr/bin/env bash
# test_recover.sh: a stolen key recovered (DESIGN.md "Trust over the years"). On a
# line A - B - C, a copy of A's node.key publishes and rotates from a thief's node;
# A's agora recover makes a certificate with its recovery key, B imports it, and
# within 10 s every node holds it, the thief's entries and successor feed are gone
# everywhere, the thief is refused, and A's new key is connected to B.
. "$(dirname "$0")/lib.sh"

# city NAME: agora init, its key in $WORK/NAME.key, its recovery key saved outside DIR.
city() {
	local port
	port=$(free_port)
	mkdir -p "$WORK/ports"
	echo "$port" >"$WORK/ports/$1"
	"$AGORA" init --dir "$WORK/$1" --name "$1" --listen "127.0.0.1:$port" >"$WORK/$1.init" ||
		fail "init $1"
	head -n 1 "$WORK/$1.init" >"$WORK/$1.key"
	sed -n '/^-----$/,/^-----$/p' "$WORK/$1.init" | sed '1d;$d' >"$WORK/$1.recovery"
	node_start "$1"
	until_ok 5 a "$1" status || fail "$1 does not answer"
}

has_record() { a "$1" --json get "$3" "$4" --city "$2" >/dev/null 2>&1; }
lacks_record() { ! has_record "$@"; }
config_has() { grep -qF "PublicKey = $2" "$WORK/$1/agorad.conf"; }
logged() { grep -F "$2" "$WORK/$1/agorad.log" | grep -qF "$3"; }
peer_up() {
	a "$1" --json peer list | python3 -c '
import json, sys
sys.exit(0 if any(p["key"] == sys.argv[1] and p["connected"] for p in json.load(sys.stdin)["peers"]) else 1)' "$2"
}

city A
city B
city C
node_link A B
node_link B C
for n in A B C; do node_ready "$n"; done
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

until_ok 10 peer_up B "$NEW" || fail "A's new key is not connected to B"
config_has B "$THIEF" && fail "B's config still holds the thief's key"
until_ok 20 logged B "an unknown key tried to connect" "$THIEF" || fail "B did not refuse the thief's key"
grep -q "B: connected" <(sed -n '/key rotated/,$p' "$WORK/T/agorad.log") &&
	fail "the thief connected to B after its rotation"
a A practice add --id after --title "Après" --topic housing --summary "de A, nouvelle clé" >/dev/null ||
	fail "A cannot publish under its new key"
until_ok 10 has_record C A practice after || fail "C did not get A's new record under A's name"
echo "ok: A's new key is connected to B and reaches C under A's name; the thief is refused"
