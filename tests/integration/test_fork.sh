#!/usr/bin/env bash
# Forks: a node restored from an old backup that publishes with --force forks
# its own feed. agora fork list shows the feed, on both nodes, with both
# headers kept as proof; the forked node says so, and how to recover, in
# agora status, agora check and at every refused publish.
. "$(dirname "$0")/lib.sh"
put() { echo "{\"title\": \"$2\", \"summary\": \"$2\", \"topics\": [\"housing\"]}" | a "$1" put practice "$2" "${@:3}"; }

node_make A
node_make B
node_link A B
put A r1 >/dev/null
a A backup "$WORK/backup" >/dev/null || fail "agora backup failed"
put A r2 >/dev/null
until_ok 10 a B get practice r2 --city A || fail "r2 did not reach B"
a A fork list > "$WORK/out" || fail "fork list failed"
grep -q '^no forked feed$' "$WORK/out" || fail "fork list without a fork: $(cat "$WORK/out")"

# A's disk dies, the old backup comes back while B is away, and A is forced.
node_stop A
node_stop B
node_restore A "$WORK/backup/data"
put A r2-other --force >/dev/null || fail "a forced put was refused"
node_start B
until_ok 15 eval "a A --json fork list | grep -q '\"own\": true'" || fail "A never saw its own fork"
until_ok 15 eval "a B --json fork list | grep -q '\"author\": \"$(cat "$WORK/A.key")\"'" ||
	fail "B never saw A's fork"

# Both proofs, whole: two headers at one seq, with their hashes and the signed bytes.
a A --json fork list > "$WORK/forks.json"
A_KEY=$(cat "$WORK/A.key") python3 - "$WORK/forks.json" <<'PY' || fail "fork list --json: $(cat "$WORK/forks.json")"
import base64, json, os, sys
forks = json.load(open(sys.argv[1]))["forks"]
assert len(forks) == 1, forks
f = forks[0]
assert f["author"] == os.environ["A_KEY"] and f["own"] is True and f["name"] == "A", f
at = [p for p in f["proofs"] if p["seq"] == f["seq"]]
assert len(at) == 2 and at[0]["hash"] != at[1]["hash"], f["proofs"]
assert sorted(p["id"] for p in at) == ["r2", "r2-other"], at
for p in f["proofs"]:
    raw = base64.b64decode(p["raw"])
    assert 0 < len(raw) <= 512 and p["id"].encode() in raw, p
PY
a A fork list > "$WORK/out"
grep -q "^A $(cat "$WORK/A.key"): two entries signed at seq" "$WORK/out" || fail "fork list: $(cat "$WORK/out")"
grep -q 'r2-other' "$WORK/out" && grep -q 'agora recover --recovery-key FILE' "$WORK/out" ||
	fail "fork list does not show both proofs and the way out: $(cat "$WORK/out")"
a B fork list | grep -q 'agora recover' && fail "B says its own feed forked"
echo "ok: fork list shows the forked feed with both proofs, on the forked node and its peer"

# The forked node says so, and how to recover: status, check, every refused publish.
a A status > "$WORK/out"
grep -q "^FORKED this node's own feed forked.*agora recover --recovery-key FILE" "$WORK/out" ||
	fail "status: $(cat "$WORK/out")"
a A check > "$WORK/out" && fail "check passed a forked node"
grep -q "own feed forked.*agora recover --recovery-key FILE" "$WORK/out" || fail "check: $(cat "$WORK/out")"
st=0
put A r3 2>"$WORK/err" >/dev/null || st=$?
[ "$st" = 2 ] || fail "a publish on a forked feed: exit $st, not 2"
grep -q "not published: this node's own feed forked.*agora recover --recovery-key FILE" "$WORK/err" ||
	fail "refused publish: $(cat "$WORK/err")"
st=0
put A r3 --force 2>"$WORK/err" >/dev/null || st=$?
[ "$st" = 2 ] && grep -q 'agora recover' "$WORK/err" || fail "a forced publish on a forked feed: exit $st, $(cat "$WORK/err")"
echo "ok: the forked node says so and how to recover, in status, check and each refused publish"
echo "2 passed, 0 failed"
