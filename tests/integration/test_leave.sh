#!/usr/bin/env bash
# Leaving: on a line A - B - C, C replicates A because B introduces it. When B
# removes A, A leaves the replicated set of B and of C: its records leave
# their lists and search at once, and after LeaveGrace (3 s at C, 30 days at
# B) its entries are gone from C's store, not from B's. Introduced again, A
# comes back, its feed fetched anew.
. "$(dirname "$0")/lib.sh"
put() { echo "{\"title\": \"$2\", \"summary\": \"hebergement $2\", \"topics\": [\"housing\"]}" | a "$1" put practice "$2" >/dev/null; }
holds() { a "$1" list | grep -qE "^practice +$2 "; } # a member ID is a key, which may hold any two letters
finds() { a "$1" search hebergement | grep -qE "^practice +$2 "; }
# lacks / misses NODE ID: the listing or search was served and does not show ID (a
# command that fails shows nothing, which must not pass for the record's absence).
lacks() { local out; out=$(a "$1" list) && ! grep -qE "^practice +$2 " <<<"$out"; }
misses() { local out; out=$(a "$1" search hebergement) && ! grep -qE "^practice +$2 " <<<"$out"; }
entries_of() { a "$1" --json log --city "$2" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["entries"]))'; }

node_make A
node_make B
node_init C > "$WORK/C.key"
printf 'LeaveGrace = 3s\n' >> "$WORK/C/agorad.conf"
node_start C
until_ok 5 a C status || fail "C does not answer"
node_link A B
node_link B C
A_KEY=$(cat "$WORK/A.key")
put A pa
put B pb
until_ok 15 finds C pa || fail "A's record never reached C's search"
holds C pa && holds B pa || fail "A's record is not listed"
sleep 0.01
put A pa2 # the newest record of all: a listing of one would find it first
until_ok 15 holds C pa2 || fail "A's pa2 never reached C"

# B removes A: A leaves B's set and C's at once (as soon as C has B's retraction).
a B peer remove "$A_KEY" >/dev/null
until_ok 10 lacks C pa || fail "A's record stayed in C's list"
misses C pa || fail "A's record stayed in C's search"
lacks B pa || fail "A's record stayed in B's list"
finds C pb || fail "B's record left C's search too"
a C list --limit 1 > "$WORK/out"
grep -qE "^practice +pb " "$WORK/out" || fail "a listing of one, with A's newer record skipped, lacks B's: $(cat "$WORK/out")"
a C --json status | grep -q "$A_KEY" && fail "C's status still shows A's feed"
echo "ok: a key that leaves the set leaves lists and search at once"

# After LeaveGrace (3 s at C) its entries are dropped there; B keeps them (30 days).
until_ok 15 eval '[ "$(entries_of C "$A_KEY")" = 0 ]' || fail "C still holds A's entries"
wait_log C "out of the replicated set for LeaveGrace: its [0-9]+ entries dropped"
[ "$(entries_of B "$A_KEY")" -ge 2 ] || fail "B dropped A's entries before its LeaveGrace"
a C check >/dev/null || fail "C's check after the drop: $(a C check)"
echo "ok: after LeaveGrace its entries are dropped, and only where the grace has run out"

# Introduced again, A comes back to C with its whole feed.
a B peer add "$A_KEY" --name A --endpoint "$(addr A)" >/dev/null
until_ok 15 finds C pa || fail "A did not come back to C"
[ "$(entries_of C "$A_KEY")" = "$(entries_of A "$A_KEY")" ] || fail "C did not fetch A's feed anew"
echo "ok: a key introduced again comes back with its feed"

# The roster's history: who introduced and removed A, and when, at C; peer log
# shows every key's.
a C --json history member "$A_KEY" > "$WORK/h.json"
A_KEY=$A_KEY B_KEY=$(cat "$WORK/B.key") python3 - "$WORK/h.json" <<'PY' || fail "history member: $(cat "$WORK/h.json")"
import json, os, sys
ev = json.load(open(sys.argv[1]))["events"]
mine = [(e["by_name"], e["kind"], e["name"]) for e in ev if e["by"] == os.environ["B_KEY"]]
assert mine == [("B", "introduced", "A"), ("B", "removed", ""), ("B", "introduced", "A")], ev
assert all(e["key"] == os.environ["A_KEY"] for e in ev), ev
assert [e["timestamp"] for e in ev] == sorted(e["timestamp"] for e in ev), ev
assert all(e["role"] == "partner" for e in ev if e["kind"] == "introduced"), ev
PY
a C history member "$A_KEY" > "$WORK/out"
grep -E "B +[0-9]+ +removed +" "$WORK/out" | grep -qF "$A_KEY" || fail "history member, text: $(cat "$WORK/out")"
a C peer log > "$WORK/out"
grep -qE "^[-0-9]+ [0-9:]+ +B +[0-9]+ +introduced C \(partner\)" "$WORK/out" || fail "peer log: $(cat "$WORK/out")"
grep -qE " +B +[0-9]+ +removed " "$WORK/out" || fail "peer log lacks the removal: $(cat "$WORK/out")"
echo "ok: history member and peer log say who introduced and removed whom, and when"
echo "4 passed, 0 failed"
