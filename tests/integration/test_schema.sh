#!/usr/bin/env bash
# Record schemas end to end, with real daemons on loopback:
#   a peer (running other software, here agora-evil) sends a validly signed
#   practice that breaks its schema: B stores nothing of it or of what chains
#   on it, cuts the peer off, logs why once, and keeps serving its honest
#   peer A (DESIGN.md: the receiver checks the schema before it stores);
#   agora put refuses bad records with the reason, exit 2, and writes nothing.
. "$(dirname "$0")/lib.sh"

A=$(node_init A)
B=$(node_init B)
E=$(node_init Evil)
node_peer A B "$B"
node_peer B A "$A"
node_peer B Evil "$E"
node_start A
node_start B
until_ok 5 a A status || fail "A does not answer"
until_ok 5 a B status || fail "B does not answer"
node_ready A
node_ready B

# Seq 1 valid, seq 2 breaks the practice schema, seq 3 valid and chained on seq 2.
"$BIN/tests/agora-evil" "$WORK/Evil" "$B" "$(addr B)" schema >"$WORK/evil.out" ||
	fail "B did not cut off the peer that sent a record breaking its schema: $(cat "$WORK/evil.out")"
LINE="invalid entry (author $E, seq 2): practice/quarantaine breaks its schema: unknown field \"titel\" (did you mean \"title\"?)"
until_ok 10 grep -qF "$LINE" "$WORK/B/agorad.log" || fail "B: no log line: $LINE"
[ "$(feed_seq B "$E")" = 1 ] || fail "B holds Evil's feed at $(feed_seq B "$E"), not 1"
set +e
a B get practice quarantaine --city Evil >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "B: get of the refused practice exited $rc, not 1"
[ "$(a B --json search quarantaine | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["records"]))')" = 0 ] ||
	fail "B: search finds the refused practice or what chains on it"
[ "$(a B --json list practice --city Evil | python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(sys.stdin)["records"]))')" = before ] ||
	fail "B: Evil's practices are not just the valid one before the bad one"
echo "ok: a record that breaks its schema is not stored, nor what chains on it; the peer is cut off"

echo '{"title": "Après", "summary": "Un de plus", "topics": ["housing"]}' | a A put practice after >/dev/null ||
	fail "A: a valid put failed"
until_ok 15 a B get practice after --city A || fail "B: A's next record did not arrive"
[ "$(grep -cF "$LINE" "$WORK/B/agorad.log")" = 1 ] || fail "B: the refusal was not logged exactly once"
a A --json log >/dev/null || fail "A stopped answering"
echo "ok: B logs the refusal once and goes on with its honest peer"

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
# Two tables of the 13 topics: French and English, then Spanish, Italian and Arabic.
[ "$(a A schema topics | grep -cE '^  [a-z-]+ ')" = 26 ] || fail "schema topics does not list 13 topics twice"
a A schema topics | grep -qE '^  urban-planning +planification urbaine +urban planning$' || fail "schema topics: labels"
a A schema topics | grep -qE '^  urban-planning +planificación urbana +pianificazione urbana +التخطيط العمراني$' ||
	fail "schema topics: Spanish, Italian and Arabic labels"
a A --json schema stakeholders | python3 -c 'import json,sys; d=json.load(sys.stdin)["stakeholders"]; assert len(d) == 6 and d[0]["key"] == "national-authorities" and d[0]["fr"] and d[0]["ar"] == "السلطات الوطنية" and d[0]["es"] and d[0]["it"]' ||
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
assert [t["type"] for t in types] == ["profile", "priority", "practice", "pilot", "toolbox", "meeting", "comment", "member", "purge"]
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
