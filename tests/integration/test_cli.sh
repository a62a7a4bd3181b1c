#!/usr/bin/env bash
# The real agora against real agorads on loopback: every command, human and
# --json output, and bad input as a new user would give it. Each refusal must
# be one line on stderr starting "agora: ", a non-zero exit, nothing on stdout,
# and nothing written to the store or the config.
. "$(dirname "$0")/lib.sh" # BIN, AGORAD, AGORA, WORK, PIDS, cleanup on exit, free_port
export TZ=UTC LANG=C.UTF-8
unset AGORA_DIR

# ok_in INPUT CMD...: as ok, with INPUT on stdin.
ok_in() {
	local input=$1 rc=0
	shift
	"$@" >"$WORK/out" 2>"$WORK/err" <<<"$input" || rc=$?
	[ "$rc" = 0 ] || fail "$* exited $rc"
	[ -s "$WORK/err" ] && fail "$* wrote to stderr"
	return 0
}

# bad STATUS PATTERN CMD...: exit STATUS, stdout empty, stderr one line "agora: ..." matching PATTERN.
bad() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
	check_bad "$want" "$pattern" "$rc" "$*"
}

bad_in() {
	local input=$1 want=$2 pattern=$3 rc=0
	shift 3
	"$@" >"$WORK/out" 2>"$WORK/err" <<<"$input" || rc=$?
	check_bad "$want" "$pattern" "$rc" "$*"
}

check_bad() {
	[ "$3" = "$1" ] || fail "$4 exited $3, not $1"
	[ -s "$WORK/out" ] && fail "$4 wrote to stdout"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "$4: not one line on stderr"
	grep -q '^agora: ' "$WORK/err" || fail "$4: stderr does not start with agora:"
	grep -qE -- "$2" "$WORK/err" || fail "$4: stderr does not match '$2'"
	return 0
}

# jq-like checks in python: json_check 'EXPRESSION over d' on $WORK/out, one document.
json_check() {
	python3 - "$WORK/out" "$1" <<'PY' || fail "JSON check failed: $1"
import base64, hashlib, json, sys
text = open(sys.argv[1], encoding="utf-8").read()
d = json.loads(text)  # exactly one document, or this raises
assert eval(sys.argv[2]), sys.argv[2]
PY
}

# A fixed string as an extended regex: keys hold '+' and '/'.
re() { sed 's/[][\/.^$*+?(){}|]/\\&/g' <<<"$1"; }

has() { grep -qE -- "$1" "$WORK/out" || fail "stdout lacks '$1'"; }


start() { # NAME
	"$AGORAD" --dir "$WORK/$1" -v >>"$WORK/$1.log" 2>&1 &
	PIDS+=($!)
	echo $! >"$WORK/$1.pid"
	until_ok 10 "$AGORA" --dir "$WORK/$1" status || fail "$1 did not start"
}

stop() { # NAME [SIGNAL]
	{
		kill "-${2:-TERM}" "$(cat "$WORK/$1.pid")"
		wait "$(cat "$WORK/$1.pid")"
	} 2>/dev/null || true
}

L="$AGORA --dir $WORK/lyon"
T="$AGORA --dir $WORK/tunis"

# ---- init, and what works without a daemon ----
LP=$(free_port)
TP=$(free_port)
ok $AGORA init --dir "$WORK/lyon" --name Lyon --listen "127.0.0.1:$LP"
LYON=$(head -n 1 "$WORK/out")
[[ "$LYON" =~ ^[A-Za-z0-9+/]{43}=$ ]] || fail "init printed '$LYON', not a key"
grep -q 'RECOVERY KEY' "$WORK/out" || fail "init did not print the recovery key"
LYON_RE=$(re "$LYON")
ok $AGORA --json init --dir "$WORK/tunis" --name "تونس" --listen "127.0.0.1:$TP"
json_check 'd["name"] == "تونس" and len(d["key"]) == 44'
TUNIS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$WORK/out")
TUNIS_RE=$(re "$TUNIS")
[ "$(stat -c %a "$WORK/lyon/node.key")" = 600 ] || fail "node.key is not 0600"
cp "$WORK/lyon/agorad.conf" "$WORK/lyon.conf.before"
bad 2 'init: .*' $AGORA init --dir "$WORK/lyon" --name Lyon
cmp -s "$WORK/lyon/agorad.conf" "$WORK/lyon.conf.before" || fail "a refused init changed the config"
bad 2 'init: missing --name' $AGORA init --dir "$WORK/other"
[ -e "$WORK/other" ] && fail "a refused init created its directory"
echo "ok: init, human and --json; a second init refused"

ok $L id
has "^$LYON_RE  Lyon$"
bad 3 "^agora: cannot reach agorad at $WORK/lyon/agorad.sock: " $L status
bad 3 "^agora: cannot reach agorad at $WORK/lyon/agorad.sock: " $L list
bad_in '{"title": "x", "summary": "s", "topics": ["housing"]}' 3 "cannot reach agorad" $L put practice p1
echo "ok: id offline; every other command says agorad cannot be reached, exit 3"

# ---- the daemons ----
start lyon
start tunis
[ "$(stat -c %a "$WORK/lyon/agorad.sock")" = 660 ] || fail "the socket is not 0660"
rc=0
timeout 10 "$AGORAD" --dir "$WORK/lyon" >"$WORK/second.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "a second agorad on the same directory did not refuse ($rc)"
ok $L status
echo "ok: a second agorad refuses; the first still answers"

# A daemon killed outright leaves its socket; the next start replaces it.
stop lyon KILL
[ -S "$WORK/lyon/agorad.sock" ] || fail "expected a stale socket after SIGKILL"
bad 3 "cannot reach agorad at $WORK/lyon/agorad.sock: Connection refused" $L status
start lyon
grep -q 'replaced a stale socket' "$WORK/lyon.log" || fail "the stale socket was not reported"
echo "ok: a stale socket is replaced"

# ---- id, status, peers ----
ok $L id
has "^$LYON_RE  Lyon$"
ok $L --json id
json_check 'd["key"] == "'"$LYON"'" and d["name"] == "Lyon" and len(d["network"]) == 44'
ok $L peer add "$TUNIS" --name Tunis --endpoint "127.0.0.1:$TP"
has "^added peer Tunis $TUNIS_RE"
ok $T --json peer add "$LYON" --name Lyon --endpoint "127.0.0.1:$LP"
json_check 'd == {"key": "'"$LYON"'", "name": "Lyon"}'
grep -q "$TUNIS" "$WORK/lyon/agorad.conf" || fail "peer add did not persist"
ok $L peer list
has "^Tunis +partner +$TUNIS_RE +127\.0\.0\.1:$TP +(yes|no)"
ok $L --json peer list
json_check 'len(d["peers"]) == 1 and d["peers"][0]["name"] == "Tunis"'
connected() { $L --json status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["peers"][0]["connected"]'; }
until_ok 20 connected || fail "Lyon and Tunis did not connect"
ok $L status
has "^node +Lyon +$LYON_RE"
has "^Tunis +partner +[A-Za-z0-9+/]{10}… +127\.0\.0\.1:$TP +yes"
has "^FEED +KEY +SEQ"
ok $L --json status
json_check 'd["name"] == "Lyon" and d["peers"][0]["connected"] is True and any(f["author"] == "'"$TUNIS"'" for f in d["feeds"])'
echo "ok: id, peer add and list, status, human and --json"

# ---- records ----
PRACTICE='{"title": {"fr": "Guichet unique pour l'\''hébergement d'\''urgence", "en": "One-stop desk for emergency housing", "ar": "شباك موحد للسكن"},
 "summary": "Un guichet commun oriente les nouveaux arrivants.", "topics": ["housing", "inclusion"], "year": 2025}'
ok_in "$PRACTICE" $L put practice guichet
has '^published practice guichet: seq [0-9]+, hash [0-9a-f]{64}$'
echo '{"title": "Santé pour tous", "summary": "Soins sans condition", "topics": ["health"]}' >"$WORK/sante.json"
ok $L --json put practice sante --file "$WORK/sante.json"
json_check 'd["type"] == "practice" and d["id"] == "sante" and d["seq"] >= 2 and len(d["hash"]) == 64 and d["author"] == "'"$LYON"'"'
ok $L get practice guichet
has '^practice guichet$'
has "^city +Lyon +$LYON_RE"
has '"en": "One-stop desk for emergency housing"'
ok $L --json get practice guichet
json_check 'd["body"]["title"]["ar"] == "شباك موحد للسكن" and d["type"] == "practice" and d["name"] == "Lyon" and d["body"]["year"] == 2025'
ok $L list
has '^TYPE +ID +CITY +SEQ +UPDATED +TITLE$'
has '^practice +guichet +Lyon +[0-9]+ +[0-9-]+ [0-9:]+ +One-stop desk'
grep -qE '^(identity|member) ' "$WORK/out" && fail "list showed the roster and feed records"
ok $L list --all
has '^identity +self +Lyon '
has '^member +'
ok $L list identity
has '^identity +self +Lyon '
ok $L list practice --topic health
has '^practice +sante '
grep -q guichet "$WORK/out" && fail "--topic health listed the housing practice"
ok $L --json list --limit 1
json_check 'len(d["records"]) == 1 and d["more"] is True'
ok $L list --limit 1
has '^\(more records match'
ok $L search hebergement
has '^practice +guichet +Lyon'
ok $L --json search "HÉBERGEMENT urgence" --type practice --city Lyon
json_check 'len(d["records"]) == 1 and d["records"][0]["id"] == "guichet"'
ok $L search nothingatall
has '^no records$'
echo "ok: put (stdin and --file), get, list, search, human and --json"

# Tunis receives Lyon's records and finds them by Lyon's name.
arrived() { $T get practice guichet --city Lyon; }
until_ok 20 arrived || fail "the practice did not reach Tunis"
ok $T --json get practice guichet --city "$LYON"
json_check 'd["author"] == "'"$LYON"'" and d["name"] == "Lyon"'
ok $T search hebergement
has '^practice +guichet +Lyon'
echo "ok: a record published at Lyon is read at Tunis, by name and by key"

# ---- history, log, retract ----
ok_in '{"title": "Guichet unique, version 2", "summary": "Un guichet", "topics": ["housing"]}' $L put practice guichet
ok $L history practice guichet
has '^SEQ +TIME +STATE +HASH$'
[ "$(grep -cE ' live +[0-9a-f]{64}$' "$WORK/out")" = 2 ] || fail "history does not show two live versions"
ok $L --json history practice guichet
json_check 'len(d["versions"]) == 2 and d["versions"][0]["seq"] < d["versions"][1]["seq"] and d["versions"][1]["body"]["title"] == "Guichet unique, version 2"'
ok $L log
has '^SEQ +TIME +TYPE +ID +STATE +HASH$'
has '^1 +.* identity +self +'
has '^2 +.* member +'
ok $L --json log
json_check 'all(len(base64.b64decode(e["raw"])) > 100 for e in d["entries"]) and [e["seq"] for e in d["entries"]] == list(range(1, len(d["entries"]) + 1)) and d["entries"][0]["prev"] is None'
# Format 2: raw is the header alone (at most 512 bytes, 11 elements: 0x9b, format 2); body_raw
# the body, whose BLAKE2b-256 the header names; state live for a version whose body is held.
json_check 'all(len(base64.b64decode(e["raw"])) <= 512 and base64.b64decode(e["raw"])[:2] == b"\x9b\x02" and e["state"] == "live" and e["body"] is not None and hashlib.blake2b(base64.b64decode(e["body_raw"]), digest_size=32).digest() in base64.b64decode(e["raw"]) for e in d["entries"])'
ok $L --json log --since 2 --limit 2
json_check '[e["seq"] for e in d["entries"]] == [2, 3]'
ok $T --json log --city Lyon
json_check 'any(e["id"] == "guichet" for e in d["entries"])'
ok $L retract practice sante
has '^retracted practice sante: seq [0-9]+, hash [0-9a-f]{64}$'
bad 1 'get: practice sante was retracted' $L get practice sante
bad 1 'retract: this node has no practice sante' $L retract practice sante
ok $L --json history practice sante
json_check 'd["versions"][-1]["body"] is None and d["versions"][-1]["state"] == "retracted" and d["versions"][0]["state"] == "live"'
ok $L --json log
json_check '[(e["state"], e["body_raw"]) for e in d["entries"] if e["id"] == "sante"][-1] == ("retracted", None)'
ok_in '{"title": "x", "summary": "s", "topics": ["housing"]}' $L put practice tmp
ok $L --json retract practice tmp
json_check 'd["type"] == "practice" and d["id"] == "tmp"'
echo "ok: history, log (raw entries, --since, --limit, --city), retract, human and --json"

# ---- bad input, as a new user gives it: one line, non-zero, nothing written ----
snapshot() { $L --json log >"$WORK/snap.$1"; cp "$WORK/lyon/agorad.conf" "$WORK/conf.$1"; }
snapshot before
bad 2 'unknown command "frobnicate"' $L frobnicate
bad 2 'unknown option --colour' $L list --colour
bad 2 'peer add: bad key "not-a-key"' $L peer add not-a-key --name Oran
bad 2 'peer add: missing --name' $L peer add "$TUNIS"
bad 2 'peer add: .*' $L peer add "$LYON" --name Myself
bad 2 'peer add: .*' $L peer add "$TUNIS" --name Tunis
bad_in '{"title": "x",' 2 '^agora: stdin:2:0: string or .}. expected' $L put practice broken
bad_in '{"title": "x"} trailing' 2 '^agora: stdin:1:' $L put practice broken
echo '{"title": ' >"$WORK/broken.json"
bad 2 "^agora: $WORK/broken.json:2:0: " $L put practice broken --file "$WORK/broken.json"
bad_in '["a list"]' 2 'a record is a JSON object' $L put practice broken
bad_in '{}' 2 'unknown record type "practise"' $L put practise broken
bad 2 "cannot read $WORK/missing.json: No such file or directory" $L put practice x --file "$WORK/missing.json"
bad 2 'unknown topic "weather"' $L list --topic weather
bad 2 'bad --limit "many"' $L list --limit many
bad 1 'no city known as Atlantis' $L list --city Atlantis
bad 1 'no practice nothing' $L get practice nothing
bad 1 'no practice nothing' $L history practice nothing
bad 2 'nothing to search for' $L search "a"
bad 1 'peer remove: no such peer' $L peer remove "$LYON"
snapshot after
cmp -s "$WORK/snap.before" "$WORK/snap.after" || fail "a refused command wrote to the store"
cmp -s "$WORK/conf.before" "$WORK/conf.after" || fail "a refused command changed the config"
echo "ok: bad input refused in one line each, nothing written"

# ---- the control socket itself: versions, garbage, many clients at once ----
python3 - "$WORK/lyon/agorad.sock" <<'PY' || fail "raw control clients"
import socket, struct, sys, time
path = sys.argv[1]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    return s

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += c
    return b

def response(s):
    ver, typ, rid, n = struct.unpack(">HHII", recv_exact(s, 12))
    return ver, typ, rid, recv_exact(s, n)

# Another version: answered with status 4, naming both versions, then closed.
s = conn()
s.sendall(struct.pack(">HHII", 2, 1, 77, 1) + b"\x80")
ver, typ, rid, body = response(s)
assert (ver, typ, rid) == (1, 0xffff, 77), (ver, typ, rid)
assert b"versions differ" in body and b"\xa6status\x04" in body, body
assert s.recv(10) == b""

# A length over 1 MiB: refused (status 2) and closed, nothing allocated.
s = conn()
s.sendall(struct.pack(">HHII", 1, 1, 5, 0xFFFFFFFF))
ver, typ, rid, body = response(s)
assert typ == 0xffff and b"over the limit" in body, body

# An unknown type and a malformed body: answered, and the connection goes on.
s = conn()
s.sendall(struct.pack(">HHII", 1, 999, 1, 1) + b"\x80")
assert response(s)[1] == 0xffff
s.sendall(struct.pack(">HHII", 1, 1, 2, 3) + b"\xde\x00\x00")
ver, typ, rid, body = response(s)
assert typ == 0xffff and rid == 2 and b"non-canonical" in body, body
s.sendall(struct.pack(">HHII", 1, 1, 3, 1) + b"\x80")
ver, typ, rid, body = response(s)
assert typ == 0x8001 and rid == 3 and b"network" in body, (typ, body)

# A request in pieces, a byte at a time, with two requests in one write after it.
s = conn()
msg = struct.pack(">HHII", 1, 1, 9, 1) + b"\x80"
for b in msg:
    s.send(bytes([b]))
    time.sleep(0.005)
assert response(s)[2] == 9
s.sendall(struct.pack(">HHII", 1, 1, 10, 1) + b"\x80" + struct.pack(">HHII", 1, 2, 11, 1) + b"\x80")
assert response(s)[2] == 10 and response(s)[2] == 11

# Idle and half-sent clients do not hold up others.
idle = [conn() for _ in range(20)]
for c in idle[:10]:
    c.sendall(struct.pack(">HHII", 1, 1, 1, 100))  # promises a body it never sends
t = time.time()
s = conn()
s.sendall(struct.pack(">HHII", 1, 1, 1, 1) + b"\x80")
assert response(s)[1] == 0x8001 and time.time() - t < 2
for c in idle:
    c.close()
PY
pids=()
for i in $(seq 1 20); do
	$L --json status >"$WORK/many.$i" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "one of 20 clients at once failed"; done
ok $L status
echo "ok: version mismatch answered, garbage refused, 20 clients at once, the daemon still serves"

# A member record newer than every other: list's --limit counts only what it shows.
ok_in '{"title": "Bilan", "summary": "Ce qui a marché", "topics": ["governance"]}' $L put practice bilan
ORAN=$("$BIN/tests/agora-mkinit" "$WORK/oran" Oran 127.0.0.1:1)
ok $L peer add "$ORAN" --name Oran
ok $L --json list --all --limit 1
json_check 'd["records"][0]["type"] == "member" and d["records"][0]["id"] == "'"$ORAN"'"'
ok $L --json list --limit 2
json_check '[(r["type"], r["id"]) for r in d["records"]] == [("practice", "bilan"), ("practice", "guichet")]'
ok $L peer remove "$ORAN"
echo "ok: list shows the network's knowledge; --all and TYPE the roster and feed records too"

# ---- peer remove, then a daemon that is gone ----
ok $L peer remove Tunis
has "^removed peer $TUNIS_RE"
ok $L --json peer list
json_check 'd["peers"] == []'
grep -q "$TUNIS" "$WORK/lyon/agorad.conf" && fail "peer remove did not persist"
stop lyon
[ -e "$WORK/lyon/agorad.sock" ] && fail "agorad left its socket behind"
bad 3 "^agora: cannot reach agorad at $WORK/lyon/agorad.sock: " $L --json status
bad 3 "cannot reach agorad" $L get practice guichet
echo "ok: peer remove persisted; a stopped daemon leaves no socket and agora says so"

# Under the sanitizers, a daemon's report goes to its log: none may be there.
stop tunis
grep -l 'Sanitizer' "$WORK"/*.log && fail "a sanitizer reported in a daemon's log"
echo "ok: no sanitizer report from the daemons"
