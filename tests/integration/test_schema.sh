#!/usr/bin/env bash
# Record schemas end to end, with real daemons on loopback:
#   a practice that breaks its schema, written straight into A's feed (as other
#   software could), reaches B as an entry of A's feed but never as a record:
#   B holds A's whole feed, cannot get or find the bad record, finds the valid
#   one after it, and logs the refusal once;
#   agora put refuses bad records with the reason, exit 2, and writes nothing.
. "$(dirname "$0")/lib.sh"
a() { local city=$1; shift; "$AGORA" --dir "$WORK/$city" "$@"; }
until_ok() {
	local end=$((SECONDS + $1 * SLOW)) # SLOW: lib.sh, 10 under valgrind
	shift
	while [ "$SECONDS" -lt "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
feed_seq() { # feed_seq AT KEY: the seq of KEY's feed as AT holds it
	a "$1" --json status | python3 -c '
import json, sys
print(max([f["seq"] for f in json.load(sys.stdin)["feeds"] if f["author"] == sys.argv[1]] or [0]))' "$2"
}
# mp_hex JSON: the canonical msgpack of a small JSON document, in hex, for agora-fill --body.
mp_hex() {
	python3 - "$1" <<'PY'
import json, sys
def enc(v):
    if isinstance(v, dict):
        out = bytes([0x80 | len(v)])
        for k in sorted(v, key=lambda k: k.encode()):
            out += enc(k) + enc(v[k])
        return out
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(enc(x) for x in v)
    if isinstance(v, str):
        b = v.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else bytes([0xd9, len(b)])) + b
    raise SystemExit("mp_hex: only maps, arrays and short strings")
print(enc(json.loads(sys.argv[1])).hex())
PY
}

A=$(node_init A)
B=$(node_init B)
node_peer A B "$B"
node_peer B A "$A"
# seq 1 breaks the practice schema twice over; seq 2 is a valid practice ("practice 2").
BAD='{"titel": "quarantaine", "summary": "quarantaine des arrivants", "topics": ["hosing"]}'
"$BIN/tests/agora-fill" --body "1=$(mp_hex "$BAD")" "$WORK/A" 2 2>"$WORK/fill.err" || fail "agora-fill"
node_start A
node_start B
until_ok 5 a A status || fail "A does not answer"
until_ok 5 a B status || fail "B does not answer"

# B catches up with A's feed: the bad entry is in it, so the chain goes on past it.
synced() { local h; h=$(feed_seq A "$A"); [ "$h" -ge 2 ] && [ "$(feed_seq B "$A")" -eq "$h" ]; }
until_ok 20 synced || fail "B did not get A's feed head ($(feed_seq A "$A")), has $(feed_seq B "$A")"
a B --json log --city A >"$WORK/log.json" || fail "B cannot show A's log"
python3 -c 'import json,sys; ids=[e["id"] for e in json.load(open(sys.argv[1]))["entries"]]; assert ids[:2] == ["fill-1", "fill-2"], ids' \
	"$WORK/log.json" || fail "B's log of A lacks the refused entry or the next one"
echo "ok: B holds A's whole feed, the refused entry included"

set +e
a B get practice fill-1 --city A >/dev/null 2>"$WORK/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "B: get of the refused practice exited $rc, not 1"
a A get practice fill-1 >/dev/null 2>&1 && fail "A: the refused practice is a record of its own"
[ "$(a B --json search quarantaine | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["records"]))')" = 0 ] ||
	fail "B: search finds the refused practice"
[ "$(a B --json list practice --city A | python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(sys.stdin)["records"]))')" = fill-2 ] ||
	fail "B: list of A's practices is not just fill-2"
a B get practice fill-2 --city A | grep -q "practice 2" || fail "B: the valid practice after it is missing"
[ "$(a B --json search practice --city A | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["records"]))')" = 1 ] ||
	fail "B: search does not find the valid practice"
echo "ok: the refused practice is not gettable, listed or found; the valid one after it is"

LINE="refused practice/fill-1 from $A: unknown field \"titel\" (did you mean \"title\"?)"
until_ok 10 grep -qF "$LINE" "$WORK/B/agorad.log" || fail "B: no log line: $LINE"
grep -F "$LINE" "$WORK/B/agorad.log" | grep -qE "^(warn: |<4>)refused" || fail "B: the refusal is not a warning"
echo '{"title": "Après", "summary": "Un de plus", "topics": ["housing"]}' | a A put practice after >/dev/null ||
	fail "A: a valid put failed"
until_ok 15 a B get practice after --city A || fail "B: A's next record did not arrive"
[ "$(grep -cF "$LINE" "$WORK/B/agorad.log")" = 1 ] || fail "B: the refusal was not logged exactly once"
echo "ok: B logs the refusal once, as a warning, and goes on with A's feed"

# ---- agora put refuses bad records: the reason, exit 2, nothing written ----
a A --json log >"$WORK/before"
refused() { # refused WHY TYPE ID JSON
	local out rc
	set +e
	out=$(echo "$4" | a A put "$2" "$3" 2>&1 >/dev/null)
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "put $2 $3 exited $rc, not 2: $out"
	[ "$out" = "agora: put $2 $3: $1" ] || fail "put $2 $3 said: $out; wanted: agora: put $2 $3: $1"
}
refused 'topics[0]: unknown topic "hosing" (did you mean "housing"?)' practice p1 \
	'{"title": "T", "summary": "S", "topics": ["hosing"]}'
refused 'missing field "title"' practice p1 '{"summary": "S", "topics": ["housing"]}'
refused 'summary.xx-: bad language code "xx-" (want fr, ar, en, fr-TN, ...)' practice p1 \
	'{"title": "T", "summary": {"xx-": "S"}, "topics": ["housing"]}'
refused 'year: expected an integer, got a string' practice p1 \
	'{"title": "T", "summary": "S", "topics": ["housing"], "year": "2024"}'
refused "title: 301 bytes, at most 300" practice p1 \
	"{\"title\": \"$(printf 'x%.0s' $(seq 301))\", \"summary\": \"S\", \"topics\": [\"housing\"]}"
refused 'id must be "main" (always "main": one profile per city), not "lyon"' profile lyon \
	'{"city": "Lyon", "country": "France", "region": "europe"}'
refused 'start: bad date "2024-02-30" (want YYYY-MM-DD, a real day, 1900..2100)' pilot p \
	'{"title": "P", "topic": "health", "status": "planned", "start": "2024-02-30"}'
a A --json log >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || fail "a refused put wrote to the store"
echo "ok: agora put refuses bad records with the reason, exit 2, nothing written"

# ---- agora schema: the same tables, for people and scripts; the man page agrees ----
a A schema practice >"$WORK/out" || fail "agora schema practice failed"
grep -qE '^  title\* +text, at most 300 bytes per language$' "$WORK/out" || fail "schema practice: no title line"
grep -qE '^  topics\* +list of 1 to 13 distinct topic keys' "$WORK/out" || fail "schema practice: no topics line"
a A schema priority | grep -qE '^    topics\* ' || fail "schema priority: areas' topics not indented under areas"
[ "$(a A schema topics | grep -cE '^  [a-z-]+ ')" = 13 ] || fail "schema topics does not list 13 topics"
a A schema topics | grep -qE '^  urban-planning +planification urbaine +urban planning$' || fail "schema topics: labels"
a A --json schema stakeholders | python3 -c 'import json,sys; d=json.load(sys.stdin)["stakeholders"]; assert len(d) == 6 and d[0]["key"] == "national-authorities" and d[0]["fr"]' ||
	fail "schema --json stakeholders"
set +e
a A schema practise 2>"$WORK/err" >/dev/null
rc=$?
set -e
[ "$rc" = 2 ] && grep -q 'unknown record type "practise"' "$WORK/err" || fail "schema of an unknown type: exit $rc"
a A --json schema >"$WORK/schema.json" || fail "agora --json schema failed"
python3 - "$WORK/schema.json" "${AGORA_SRC:-$(dirname "$0")/../..}/contrib/man/agora.1" <<'PY' || fail "the man page's SCHEMAS section and agora schema disagree"
import json, re, sys
types = json.load(open(sys.argv[1]))["types"]
assert [t["type"] for t in types] == ["profile", "priority", "practice", "pilot", "toolbox", "meeting", "comment", "member"]
man = open(sys.argv[2]).read()
sec = man[man.index(".Sh SCHEMAS"):man.index(".Sh ENVIRONMENT")]
def names(fields):
    out = []
    for f in fields:
        n = f["name"] + ("*" if f["required"] else "")
        sub = f.get("fields") or (f["item"].get("fields") if "item" in f else None)
        out.append(n + (" (" + names(sub) + ")" if sub else ""))
    return ", ".join(out)
for t in types:
    want = "Fields: " + names(t["fields"]) + "."
    assert ".It Cm " + t["type"] + "\n" in sec and want in sec, (t["type"], want)
PY
echo "ok: agora schema prints each type's fields, the vocabularies, --json; the man page agrees"
