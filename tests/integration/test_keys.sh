#!/usr/bin/env bash
# test_keys.sh: a city's keys over the years (DESIGN.md "Trust over the years").
# agora init's recovery key is shown once and never kept in DIR, and the
# feed begins with identity/self naming it; agora key rotate moves a city to
# a new key on a line A - B - C.
. "$(dirname "$0")/lib.sh"

# city NAME: agora init (not agora-mkinit: it makes the recovery key), its public key
# in $WORK/NAME.key and the recovery key's saved text in $WORK/NAME.recovery, outside DIR.
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

# seen_with AT KEY TYPE ID: AT holds KEY's record TYPE/ID (live).
has_record() { a "$1" --json get "$3" "$4" --city "$2" >/dev/null 2>&1; }

# ---- the recovery key: printed once, never in DIR; identity/self first ----
city A
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
