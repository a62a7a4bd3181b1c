#!/usr/bin/env bash
# agora retract --purge, on a line A - B - C (issue 15):
#  - a practice whose text holds a unique marker, published at A, reaches C;
#  - A retracts and purges it: within 10 s no command on any node (get,
#    history, log, search, export) prints the marker, and its versions show
#    as purged;
#  - after agora compact on each node, the marker's bytes are in no file under
#    any node's directory;
#  - a node D that joins afterwards gets A's whole feed, the purged bodies
#    absent, the chain verified (agora check), and never asks for them;
#  - A's status says, for its purge, that B has reached it and X (a peer
#    never started) has not.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, node_*, fail, cleanup on exit
export LANG=C.UTF-8
unset AGORA_DIR

A=$(node_init a)
B=$(node_init b)
C=$(node_init c)
X=$(node_init x) # a peer of A that never runs: it never reaches A's purge
node_peer a b "$B"
node_peer a x "$X"
node_peer b a "$A"
node_peer b c "$C"
node_peer c b "$B"
for n in a b c; do node_start $n; done
for n in a b c; do until_ok 10 a $n status || fail "$n did not start"; done
for n in a b c; do node_ready $n; done

MARK="zqx$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')q"
OTHER="kept$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')k"
ok a a practice add --id p1 --title "Accueil $MARK" --topic health --summary "Un centre ${MARK}a."
ok a a practice add --id p1 --title "Accueil $MARK" --topic health --summary "Deux ${MARK}b." --replace
ok a a practice add --id p2 --title "Cours $OTHER" --topic education --summary "Le soir."
at_c() { [ "$(feed_seq c "$A")" = "$(feed_seq a "$A")" ]; }
until_ok 15 at_c || fail "C did not get A's practice"
ok a c get practice p1 --city "$A"
grep -q "$MARK" "$WORK/out" || fail "C does not show the marker before the purge"
echo "ok: A's practice with the marker reached C"

ok a a retract practice p1 --purge
grep -q '^purged practice p1' "$WORK/out" || fail "retract --purge did not say it purged"
ok a a --json log
python3 -c '
import json, sys
es = json.load(open(sys.argv[1]))["entries"]
ps = [e for e in es if e["type"] == "purge"]
assert len(ps) == 1 and sorted(ps[0]["body"]["seqs"]) == [e["seq"] for e in es if e["id"] == "p1" and e["state"] == "purged"], es
assert len(ps[0]["body"]["seqs"]) == 2, ps' "$WORK/out" || fail "A's log: the purge and the purged versions"

# leaks NODE: does any command on NODE print the marker?
leaks() {
	local n=$1 out
	out=$({
		a "$n" get practice p1 --city "$A" 2>&1 || true
		a "$n" --json get practice p1 --city "$A" 2>&1 || true
		a "$n" history practice p1 --city "$A" 2>&1 || true
		a "$n" --json history practice p1 --city "$A" 2>&1
		a "$n" --json log --city "$A" 2>&1
		a "$n" search "$MARK" 2>&1 || true
		a "$n" --json search accueil 2>&1 || true
		a "$n" export --format json 2>&1
		a "$n" export --format csv 2>&1
	})
	# a base64 body_raw would hide the marker: decode every one
	grep -q "$MARK" <<<"$out" && return 0
	a "$n" --json log --city "$A" | python3 -c '
import base64, json, sys
m = sys.argv[1].encode()
sys.exit(0 if any(e["body_raw"] and m in base64.b64decode(e["body_raw"]) for e in json.load(sys.stdin)["entries"]) else 1)' "$MARK"
}
all_clean() { for n in a b c; do ! leaks $n || return 1; done; }
until_ok 10 all_clean || fail "a node still prints the marker 10 s after the purge"
for n in a b c; do
	ok a $n --json history practice p1 --city "$A"
	python3 -c '
import json, sys
st = [v["state"] for v in json.load(open(sys.argv[1]))["versions"]]
assert st == ["purged", "purged", "retracted"], st' "$WORK/out" || fail "$n: history of p1 is not purged, purged, retracted"
	ok a $n search "$OTHER"
	grep -qE "^practice +p2 " "$WORK/out" || fail "$n: p2, not purged, is no longer found"
	grep -q "info: purge: $A's entry [0-9]* purges 2 bodies" "$WORK/$n/agorad.log" ||
		fail "$n: the purge is not logged with its author and the bodies it took"
done
echo "ok: within 10 s no command on A, B or C prints the marker; p2 is still there; each logs the purge"

purge_told() {
	a a --json status >"$WORK/status.json" && python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
ps = s["purges"]
assert len(ps) == 1 and ps[0]["seq"] == [f for f in s["feeds"] if f["author"] == sys.argv[2]][0]["seq"], ps
peers = {p["name"]: p for p in ps[0]["peers"]}
assert peers["b"]["reached"] and peers["b"]["connected"] and peers["b"]["known"] >= ps[0]["seq"], peers
assert not peers["x"]["reached"] and not peers["x"]["connected"] and peers["x"]["known"] == 0, peers' "$WORK/status.json" "$A"
}
until_ok 10 purge_told || { purge_told; fail "A's status --json: its purge reached by b, not by x"; }
ok a a status
grep -qE "^PURGE +SEQ +PUBLISHED +REACHED +NOT YET" "$WORK/out" && grep -qE " b +x \(offline\)$" "$WORK/out" ||
	fail "A's status table does not say who reached its purge"
echo "ok: A's status says B has reached its purge and X, offline, has not"

for n in a b c; do ok a $n compact; done
for n in a b c; do
	if grep -rqa "$MARK" "$WORK/$n"; then
		grep -rla "$MARK" "$WORK/$n" >&2
		fail "$n: the marker's bytes are still in its files after agora compact"
	fi
done
for n in a b c; do ok a $n search "$OTHER"; grep -qE "^practice +p2 " "$WORK/out" || fail "$n: p2 lost by compaction"; done
echo "ok: after agora compact the marker is in no file under A's, B's or C's directory"

D=$(node_init d)
node_peer d b "$B"
ok a b peer add "$D" --name d --endpoint "$(addr d)"
node_start d
until_ok 10 a d status || fail "d did not start"
at_d() { [ "$(feed_seq d "$A")" = "$(feed_seq a "$A")" ]; }
until_ok 15 at_d || fail "D did not get A's whole feed"
! leaks d || fail "D prints the marker"
ok a d --json history practice p1 --city "$A"
python3 -c '
import json, sys
st = [v["state"] for v in json.load(open(sys.argv[1]))["versions"]]
assert st == ["purged", "purged", "retracted"], st' "$WORK/out" || fail "D: history of p1"
grep -rqa "$MARK" "$WORK/d" && fail "D: the marker is in its files"
ok a d --json log --city "$A"
python3 -c '
import base64, hashlib, json, sys
es = json.load(open(sys.argv[1]))["entries"]
prev = None
for i, e in enumerate(es):
    assert e["seq"] == i + 1, e
    h = hashlib.blake2b(base64.b64decode(e["raw"]), digest_size=32).hexdigest()
    assert h == e["hash"], (e, h)
    assert e.get("prev") == prev, (e, prev)
    prev = h
assert [e["state"] for e in es if e["id"] == "p1"] == ["purged", "purged", "retracted"], es' "$WORK/out" ||
	fail "D: A's feed is not a whole chain with p1 purged"
echo "ok: D, joining afterwards, holds A's whole feed, verified, with the purged bodies absent"
