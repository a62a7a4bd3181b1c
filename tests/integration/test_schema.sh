#!/usr/bin/env bash
# Record schemas end to end, with real daemons on loopback:
#   a simulated next release (agora-evil newer) sends a HELLO feature and a
#   message type this release lacks, a record of an unknown type and one with
#   an unknown field, topic and kind: B and A (two hops away) store it all,
#   cut nobody off, show it (raw and marked where the schema does not know
#   it), find its words, and go on replicating (DESIGN.md "Versions live side
#   by side");
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

# ---- a simulated next release on a line Evil - B - A ----
# HELLO with a feature this release lacks, an unknown message type, then seq 1
# a practice, seq 2 a record of an unknown type, seq 3 a practice with an
# unknown field, an unknown topic and a year that is a string.
"$BIN/tests/agora-evil" "$WORK/Evil" "$B" "$(addr B)" newer >"$WORK/evil.out" ||
	fail "B did not serve a next release to the end: $(cat "$WORK/evil.out")"
grep -E 'invalid|malformed|protocol version' "$WORK/B/agorad.log" && fail "B found fault with the next release"
# Cut off, it would be refused for a backoff: it is taken again at once.
"$BIN/tests/agora-evil" "$WORK/Evil" "$B" "$(addr B)" newer >"$WORK/evil.out" ||
	fail "B did not take the next release again at once: $(cat "$WORK/evil.out")"
holds_evil() { [ "$(feed_seq "$1" "$E")" = 3 ]; } # asked again at each look of until_ok
for n in B A; do
	until_ok 15 holds_evil $n || fail "$n holds Evil's feed at $(feed_seq $n "$E"), not 3"
done
echo "ok: a next release's entries are stored whole, on B and on A two hops away; nobody is cut off"

# Who runs what: each peer's software and protocol, from its HELLO, kept once it is gone.
a B status | grep -E '^Evil ' | grep -qF 'agora 9.9.9-next (protocol 2)' ||
	fail "B: status does not show what Evil runs: $(a B status)"
V=$("$AGORA" --version)
[ "$V" = "$("$AGORAD" --version | sed 's/^agorad/agora/')" ] || fail "agora --version and agorad --version differ"
a A peer list | grep -E '^B ' | grep -qF "agorad ${V#agora } (protocol 2)" || fail "A: peer list does not show what B runs"
a A --json status | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["peers"] if p["name"] == "B"][0]
assert p["software"] == "agorad " + sys.argv[1] and p["protocol"] == 2, p' "${V#agora }" ||
	fail "A: status --json does not give B's software and protocol"
echo "ok: status and peer list show each peer's software and protocol; agora and agorad are $V"

# A shows what it knows laid out, the rest raw and marked.
a A show practice future --city Evil >"$WORK/show.out" || fail "A: show of the newer practice failed"
grep -qF 'Pratique future' "$WORK/show.out" || fail "A: show does not lay out the title"
grep -qF 'Budget (from a newer version of agora): {"note":"financement tramontane"}' "$WORK/show.out" ||
	fail "A: show does not give the unknown field raw and marked: $(cat "$WORK/show.out")"
grep -qF 'Year (from a newer version of agora): "soon"' "$WORK/show.out" ||
	fail "A: show does not give the year of another kind raw and marked"
grep -qF 'climate (from a newer version of agora)' "$WORK/show.out" || fail "A: show does not mark the unknown topic"
grep -qF 'housing: hébergement' "$WORK/show.out" || fail "A: show does not label the known topic"
a A show survey s1 --city Evil >"$WORK/show2.out" || fail "A: show of the unknown type failed"
grep -qF 'Type survey (from a newer version of agora)' "$WORK/show2.out" || fail "A: show does not mark the unknown type"
grep -qF 'Question (from a newer version of agora): "zephyrine sirocco"' "$WORK/show2.out" ||
	fail "A: show does not give the unknown type's field raw: $(cat "$WORK/show2.out")"
a A get practice future --city Evil | grep -qF 'newer  budget, topics, year (from a newer version of agora)' ||
	fail "A: get does not name the fields from a newer version"
a A export --city Evil --format md >"$WORK/export.md" || fail "A: export failed"
grep -qF -- '- **Budget** (from a newer version of agora): `{"note":"financement tramontane"}`' "$WORK/export.md" ||
	fail "A: export does not give the unknown field raw and marked"
grep -qF -- '- **Question** (from a newer version of agora): `"zephyrine sirocco"`' "$WORK/export.md" ||
	fail "A: export does not give the unknown type's field raw and marked"
echo "ok: show, get and export lay out what the schema knows and mark the rest as from a newer version"

for word in tramontane sirocco; do
	[ "$(a A --json search "$word" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["records"]))')" = 1 ] ||
		fail "A: search $word does not find the newer record"
done
echo "ok: search finds words of an unknown field and of an unknown record type"

echo '{"title": "Après", "summary": "Un de plus", "topics": ["housing"]}' | a A put practice after >/dev/null ||
	fail "A: a valid put failed"
until_ok 15 a B get practice after --city A || fail "B: A's next record did not arrive"
echo '{"title": "Retour", "summary": "Et un autre", "topics": ["health"]}' | a B put practice back >/dev/null ||
	fail "B: a valid put failed"
until_ok 15 a A get practice back --city B || fail "A: B's next record did not arrive"
echo "ok: A and B go on replicating each other's feeds"

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
assert [t["type"] for t in types] == ["profile", "priority", "practice", "pilot", "toolbox", "meeting", "comment", "member", "purge", "identity"]
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
