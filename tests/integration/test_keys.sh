#!/usr/bin/env bash
# test_keys.sh: a city's keys over the years (DESIGN.md "Trust over the years").
# agora init's recovery key is shown once and never kept in DIR, and the
# feed begins with identity/self naming it; agora key rotate moves a city to
# a new key on a line A - B - C.
. "$(dirname "$0")/lib.sh"

# seen_with AT KEY TYPE ID: AT holds KEY's record TYPE/ID (live).
has_record() { a "$1" --json get "$3" "$4" --city "$2" >/dev/null 2>&1; }

# ---- the recovery key: printed once, never in DIR; identity/self first ----
node_city A
secret=$(grep -v '^#' "$WORK/A.recovery")
[ ${#secret} = 88 ] || fail "init printed no recovery secret: '$secret'"
recovery_pub=$(cat "$WORK/A/recovery.pub")
a A --json log >"$WORK/out"
python3 - "$WORK/out" "$recovery_pub" <<'PY' || fail "A's first entry is not identity/self naming its recovery key"
import json, sys
e = json.load(open(sys.argv[1]))["entries"][0]
assert e["seq"] == 1 and e["type"] == "identity" and e["id"] == "self", e
assert e["body"] == {"recovery": sys.argv[2]}, e["body"]
PY
seed_hex=$(printf '%s' "$secret" | base64 -d | head -c 32 | od -An -tx1 | tr -d ' \n')
# No file of DIR, the store included, holds the secret: base64, or its seed as bytes.
if grep -rqF "$secret" "$WORK/A" || grep -rqF "${secret:0:40}" "$WORK/A"; then
	fail "DIR holds the recovery secret's base64"
fi
python3 - "$WORK/A" "$seed_hex" <<'PY' || fail "DIR holds the recovery secret's seed"
import os, sys
seed = bytes.fromhex(sys.argv[2])
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        if os.path.isfile(p) and seed in open(p, "rb").read():
            sys.exit(p)
PY
echo '{"recovery": "'"$recovery_pub"'"}' >"$WORK/self.json"
if a A put identity self --file "$WORK/self.json" 2>"$WORK/err"; then fail "a user published identity/self"; fi
grep -q "agorad's own" "$WORK/err" || fail "identity refused without saying why: $(cat "$WORK/err")"
echo "ok: init's recovery key is printed once, kept nowhere in DIR, and named by identity/self at seq 1"

# ---- rotation on a line A - B - C ----
node_city B
node_city C
node_link A B
node_link B C
for n in A B C; do node_ready "$n"; done
OLD=$(cat "$WORK/A.key")
a A practice add --id before --title "Avant la rotation" --topic housing --summary "publiée avant" >/dev/null ||
	fail "A cannot publish"
until_ok 10 has_record C A practice before || fail "C never got A's practice before the rotation"

cp "$WORK/A/node.key" "$WORK/A.node.key" # a copy of the old key, for the handshake below
a A key rotate >"$WORK/out" || fail "agora key rotate failed"
NEW=$(sed -n 's/^new key: //p' "$WORK/out")
[ "$(sed -n 's/^old key: *//p' "$WORK/out")" = "$OLD" ] || fail "key rotate did not name the old key"
[[ "$NEW" =~ ^[A-Za-z0-9+/]{43}=$ ]] && [ "$NEW" != "$OLD" ] || fail "key rotate printed no new key"
[ "$(a A id | cut -d' ' -f1)" = "$NEW" ] || fail "A's id is not its new key"
[ -f "$WORK/A/node.key.old" ] || grep -q 'node.key.old removed' "$WORK/A/agorad.log" ||
	fail "the old key was not kept aside"
a A --json log --city "$OLD" >"$WORK/out"
python3 - "$WORK/out" "$NEW" <<'PY' || fail "the old feed does not end with identity/successor naming the new key"
import json, sys
e = json.load(open(sys.argv[1]))["entries"][-1]
assert (e["type"], e["id"], e["body"]) == ("identity", "successor", {"successor": sys.argv[2]}), e
PY
a A --json log >"$WORK/out"
python3 - "$WORK/out" "$OLD" "$recovery_pub" <<'PY' || fail "the new feed does not begin with identity/self naming the old key"
import json, sys
e = json.load(open(sys.argv[1]))["entries"][0]
assert e["seq"] == 1 and (e["type"], e["id"]) == ("identity", "self"), e
assert e["body"] == {"predecessor": sys.argv[2], "recovery": sys.argv[3]}, e["body"]
PY

t0=$SECONDS
a A practice add --id after --title "Après la rotation" --topic housing --summary "publiée après" >/dev/null ||
	fail "A cannot publish after its rotation"
until_ok 10 has_record C A practice after || fail "C did not get A's record under A's name within 10 s"
a C --json get practice after --city A >"$WORK/out"
python3 - "$WORK/out" "$NEW" <<'PY' || fail "C shows A's new record under another key or name"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["author"] == sys.argv[2] and r["name"] == "A", (r["author"], r["name"])
PY
echo "ok: after agora key rotate, A's record reached C under A's name in $((SECONDS - t0)) s"

grep -qF "PublicKey = $NEW" "$WORK/B/agorad.conf" || fail "B's config does not hold A's new key"
grep -qF "$OLD" "$WORK/B/agorad.conf" && fail "B's config still holds A's old key"

# A's old key, in other hands, is refused at B's handshake.
mkdir -m 700 "$WORK/Old"
cp "$WORK/A.node.key" "$WORK/Old/node.key"
printf '[Node]\nName = Old\nListen = 127.0.0.1:%s\n' "$(free_port)" >"$WORK/Old/agorad.conf"
node_peer Old B "$(cat "$WORK/B.key")"
node_start Old
# Old's own log says when B closed its handshake. B's line naming the key may be
# older: A dialed B with this key before B knew it, and B names a key once an hour.
until_ok 10 grep -q 'B: cannot connect: closed by peer' "$WORK/Old/agorad.log" ||
	fail "Old's handshake with B was not refused: $(tail -n 5 "$WORK/Old/agorad.log")"
grep -qE 'B: connected' "$WORK/Old/agorad.log" && fail "A's old key connected to B"
grep "an unknown key tried to connect" "$WORK/B/agorad.log" | grep -qF "$OLD" ||
	fail "B did not log A's old key as unknown"
echo "ok: B's config holds A's new key, and B refuses A's old key at the handshake"

# A peer away during a rotation still gets it: the rotating node dials it with
# its old key (kept in node.key.old until then) and the new one in turn.
until_ok 10 test ! -e "$WORK/A/node.key.old" || fail "A kept its old key after B moved"
node_stop B
a A key rotate >"$WORK/out" || fail "the second rotation failed"
NEW2=$(sed -n 's/^new key: //p' "$WORK/out")
[ -f "$WORK/A/node.key.old" ] || fail "A did not keep its old key while B was away"
a A practice add --id away --title "Pendant l'absence" --topic housing --summary "B absent" >/dev/null ||
	fail "A cannot publish after its second rotation"
node_start B
until_ok 15 grep -qF "PublicKey = $NEW2" "$WORK/B/agorad.conf" || fail "B, away during the rotation, did not follow it"
until_ok 10 has_record C A practice away || fail "C did not get A's record under A's name"
until_ok 10 test ! -e "$WORK/A/node.key.old" || fail "A kept its old key after every peer moved"
echo "ok: B, away during a rotation, follows it when it comes back; A then drops its old key"

# A node.key.next that the feed never named (a rotation cut short before its
# successor entry) is removed at start, and the node keeps its key.
node_stop C
"$BIN/tests/agora-mkinit" "$WORK/spare" spare 127.0.0.1:1 >/dev/null
cp -p "$WORK/spare/node.key" "$WORK/C/node.key.next"
node_start C
until_ok 5 a C status || fail "C does not start with a stray node.key.next"
[ -e "$WORK/C/node.key.next" ] && fail "a node.key.next never named was kept"
[ "$(a C id | cut -d' ' -f1)" = "$(cat "$WORK/C.key")" ] || fail "C changed its key"
echo "ok: a node.key.next that the feed never named is removed at start"
