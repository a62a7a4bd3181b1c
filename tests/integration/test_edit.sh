#!/usr/bin/env bash
# agora edit with a scripted EDITOR, as a city officer uses it:
#  - a new record opens as a template of its schema (required fields to fill,
#    optional ones commented out), and a file saved unchanged publishes nothing;
#  - a save the schema refuses reopens the file with the reason on top, the
#    user's text kept under it; the fixed save publishes it;
#  - a refused file left as it is gives up: exit 2, nothing published;
#  - an existing record opens as it is; a changed field publishes a new
#    version, an unchanged record nothing;
#  - every record type with a schema can be written this way.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, node_*, fail, cleanup on exit
export LANG=C.UTF-8
unset AGORA_DIR
SAMPLE=${AGORA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/contrib/sample

LYON=$(node_init lyon)
TUNIS=$(node_init tunis)
node_peer lyon tunis "$TUNIS"
node_peer tunis lyon "$LYON"
node_start lyon
node_start tunis
until_ok 10 a lyon status || fail "lyon did not start"
node_ready lyon
head_seq() { feed_seq lyon "$LYON"; }

# The editor: each run saves what it was shown as $WORK/shown.N, then does
# $WORK/do.N: "keep" leaves the file, a path replaces the file with that one,
# "sed EXPR" edits it in place.
mkdir -p "$WORK/ed"
cat >"$WORK/editor" <<'SH'
#!/bin/sh
dir=$(dirname "$0")/ed
n=$(($(cat "$dir/n" 2>/dev/null || echo 0) + 1))
echo $n >"$dir/n"
cp "$1" "$dir/shown.$n"
act=$(cat "$dir/do.$n" 2>/dev/null || echo keep)
case $act in
keep) ;;
sed\ *) sed -i "${act#sed }" "$1" ;;
*) cp "$act" "$1" ;;
esac
SH
chmod +x "$WORK/editor"
export EDITOR="$WORK/editor"
# script ACTION...: the editor's next runs.
script() {
	local i=0
	rm -f "$WORK/ed/"*
	for act in "$@"; do
		i=$((i + 1))
		echo "$act" >"$WORK/ed/do.$i"
	done
}
runs() { cat "$WORK/ed/n" 2>/dev/null || echo 0; }

# ---- a new record: the template, unchanged ----
script keep
before=$(head_seq)
ok a lyon edit practice guichet
grep -q "no change: nothing published" "$WORK/out" || fail "an unchanged template said otherwise"
[ "$(head_seq)" = "$before" ] || fail "an unchanged template published"
grep -q '^  "title": {"fr":""},$' "$WORK/ed/shown.1" || fail "the template lacks the required title"
grep -q '^//  "year": ' "$WORK/ed/shown.1" || fail "the template does not offer the optional year"
grep -q '^//   topics\* (topics): the topics it covers$' "$WORK/ed/shown.1" || fail "the template does not describe topics"
echo "ok: a new record opens as its schema's template; unchanged, nothing is published"

# ---- refused, reopened with the reason, fixed, published ----
cat >"$WORK/bad.json" <<'JSON'
// my practice
{
  "title": {"fr": "Guichet unique", "ar": "شباك موحد"},
  "summary": "Un guichet pour tous les nouveaux arrivants.",
  "topics": ["hosing"],
}
JSON
script "$WORK/bad.json" 'sed s/"hosing"/"housing"/'
a lyon edit practice guichet >"$WORK/out" 2>"$WORK/err" || fail "the fixed record was not published"
[ "$(runs)" = 2 ] || fail "the editor ran $(runs) times, not 2"
head -n 1 "$WORK/ed/shown.2" | grep -qF '// agora: refused: topics[0]: unknown topic "hosing" (did you mean "housing"?)' ||
	fail "the reopened file does not say why: $(head -n 2 "$WORK/ed/shown.2")"
grep -q '^// my practice$' "$WORK/ed/shown.2" || fail "the user's text was not kept"
grep -q 'refused: topics\[0\]' "$WORK/err" || fail "the refusal was not told on stderr"
grep -qE '^published practice guichet: seq [0-9]+' "$WORK/out" || fail "the fixed record was not published"
ok a lyon --json get practice guichet
python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["body"]
assert b == {"title": {"fr": "Guichet unique", "ar": "شباك موحد"}, "summary": "Un guichet pour tous les nouveaux arrivants.", "topics": ["housing"]}, b' "$WORK/out" ||
	fail "the published record is not what was written"
echo "ok: a refused save reopens with the reason on top; the fixed one publishes"

# ---- refused and left so: exit 2, nothing published ----
script 'sed s/"housing"/"hosing"/' keep
before=$(head_seq)
rc=0
a lyon edit practice guichet >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" = 2 ] || fail "a refused file left as it was exited $rc"
grep -q "nothing published" "$WORK/err" || fail "giving up does not say so"
[ "$(head_seq)" = "$before" ] || fail "a refused record was published"
echo "ok: a refused file left unchanged gives up, exit 2, nothing published"

# ---- an existing record: unchanged, then changed ----
script keep
ok a lyon edit practice guichet
grep -q '"Guichet unique"' "$WORK/ed/shown.1" || fail "the record did not open as it is"
grep -q "no change" "$WORK/out" || fail "an unchanged record said otherwise"
[ "$(head_seq)" = "$before" ] || fail "an unchanged record was published"
script 'sed s/Guichet unique/Guichet commun/'
ok a lyon edit practice guichet
[ "$(head_seq)" = $((before + 1)) ] || fail "the changed record was not published once"
ok a lyon --json get practice guichet
grep -q "Guichet commun" "$WORK/out" || fail "the new version is not the record"
echo "ok: an existing record opens as it is and a change publishes a new version"

# ---- every type ----
python3 - "$SAMPLE" "$LYON" "$WORK" <<'PY'
import json, os, sys
sample, key, work = sys.argv[1:]
for t, path in [("profile", "valmoreuil/profile.main.json"), ("priority", "valmoreuil/priority.plan-2025.json"),
                ("pilot", "valmoreuil/pilot.maison-des-droits.json"), ("toolbox", "castelbrina/toolbox.urban-planning-guide.json"),
                ("meeting", "marsa-lamoun/meeting.peer-meeting-2025-05.json")]:
    body = json.load(open(os.path.join(sample, path), encoding="utf-8"))
    open(os.path.join(work, t + ".json"), "w").write("// from the sample\n" + json.dumps(body, ensure_ascii=False, indent=1))
json.dump({"on": {"author": key, "type": "practice", "id": "guichet"}, "text": {"fr": "Merci !"}}, open(os.path.join(work, "comment.json"), "w"))
json.dump({"key": key, "name": "Lyon", "role": "partner"}, open(os.path.join(work, "member.json"), "w"))
PY
for t in profile priority pilot toolbox meeting comment member; do
	id=x
	[ "$t" = profile ] && id=main
	[ "$t" = member ] && id=$LYON
	script "$WORK/$t.json"
	ok a lyon edit "$t" "$id"
	grep -q "^published $t " "$WORK/out" || fail "edit $t did not publish"
	grep -q "^// agora edit $t " "$WORK/ed/shown.1" || fail "edit $t: no header"
done
echo "ok: every record type is written with agora edit"
