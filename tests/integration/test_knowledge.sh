#!/usr/bin/env bash
# The friendly record commands, show and export, against two real agorads on
# loopback: each command writes the record a user expects (read back with
# agora get --json), bad arguments exit 2 with one line and write nothing,
# show prints labels and Arabic text wrapped by display width, and export's
# CSV and Markdown read back as a spreadsheet and a Markdown renderer would.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, node_*, fail, cleanup on exit
export TZ=UTC LANG=C.UTF-8
unset AGORA_DIR COLUMNS
# The Markdown renderer: Debian's python3-markdown, which a python3 earlier in PATH may not see.
PYMD=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import markdown' 2>/dev/null && { PYMD=$p; break; }
done
[ -n "$PYMD" ] || { echo "python3-markdown is missing (contrib/install-deps.sh)" >&2; exit 77; }

# bad STATUS PATTERN CMD...: exit STATUS, nothing on stdout, one line "agora: ..." matching
# PATTERN, and this node's feed not one entry longer.
bad() {
	local want=$1 pattern=$2 rc=0 before
	shift 2
	before=$(head_seq)
	"$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
	[ "$rc" = "$want" ] || fail "$* exited $rc, not $want"
	[ -s "$WORK/out" ] && fail "$* wrote to stdout"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "$*: not one line on stderr"
	grep -qE -- "^agora: .*$pattern" "$WORK/err" || fail "$*: stderr does not match '$pattern'"
	[ "$(head_seq)" = "$before" ] || fail "$*: refused, yet the store changed"
}

# py EXPRESSION: a python check over d, the JSON document on stdout.
py() {
	python3 - "$WORK/out" "$1" <<'PY' || fail "check failed: $1"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert eval(sys.argv[2]), sys.argv[2]
PY
}

has() { grep -qF -- "$1" "$WORK/out" || fail "stdout lacks '$1'"; }


LYON=$(node_init lyon)
TUNIS=$(node_init tunis)
node_peer lyon tunis "$TUNIS"
node_peer tunis lyon "$LYON"
node_start lyon
node_start tunis
L="$AGORA --dir $WORK/lyon"
T="$AGORA --dir $WORK/tunis"
until_ok 10 $L status || fail "lyon did not start"
until_ok 10 $T status || fail "tunis did not start"
node_ready lyon
node_ready tunis

# Lyon's own feed head, as status reports it (0 before the first entry).
head_seq() {
	$L --json status | python3 -c 'import json,sys; d=json.load(sys.stdin); print(max([f["seq"] for f in d["feeds"] if f["author"] == d["key"]] or [0]))'
}

# ---- practice add ----
ok $L practice add --title "Guichet unique pour l'hébergement d'urgence" --topic housing \
	--topic inclusion --summary "Un guichet commun oriente les nouveaux arrivants." \
	--stakeholder city-administration --stakeholder civil-society --year 2024 \
	--link https://example.org/guichet --contact "Service social" --lang fr
grep -qE '^published practice guichet-unique-pour-l-hebergement-d-urgence: seq [0-9]+, hash [0-9a-f]{64}$' "$WORK/out" ||
	fail "practice add did not print id, seq and hash"
ok $L --json get practice guichet-unique-pour-l-hebergement-d-urgence
py 'd["body"] == {"title": {"fr": "Guichet unique pour l'"'"'hébergement d'"'"'urgence"}, "topics": ["housing", "inclusion"], "summary": {"fr": "Un guichet commun oriente les nouveaux arrivants."}, "stakeholders": ["city-administration", "civil-society"], "year": 2024, "links": ["https://example.org/guichet"], "contact": "Service social"}'
ok $L --json practice add --id sante --title "Santé pour tous" --topic health --summary "Des permanences de santé."
py 'd["id"] == "sante" and d["type"] == "practice" and len(d["hash"]) == 64'
ok $L --json get practice sante
py 'd["body"] == {"title": "Santé pour tous", "topics": ["health"], "summary": "Des permanences de santé."}'

bad 2 'exists already.*--replace' $L practice add --id sante --title x --topic health --summary y
ok $L practice add --id sante --title "Santé pour tous" --topic health --summary "Mis à jour." --replace
ok $L --json get practice sante
py 'd["body"]["summary"] == "Mis à jour."'
bad 2 'missing --title' $L practice add --topic housing --summary s
bad 2 'missing --topic' $L practice add --title t --summary s
bad 2 'unknown topic "hosing"' $L practice add --title t --topic hosing --summary s
bad 2 'year: "abc" is not a whole number' $L practice add --title t --topic housing --summary s --year abc
bad 2 'year' $L practice add --title t --topic housing --summary s --year 1492
bad 2 'links' $L practice add --title t --topic housing --summary s --link ftp://x
bad 2 'no id can be made from the title.*--id' $L practice add --title "شباك موحد" --topic housing --summary s
bad 2 'language' $L practice add --title t --topic housing --summary s --lang FR
bad 2 'unknown option --bogus' $L practice add --title t --topic housing --summary s --bogus
ok $L practice add --id guichet-ar --title "شباك موحد للسكن" --topic housing --summary "ملخص" --lang ar
ok $L --json get practice guichet-ar
py 'd["body"]["title"] == {"ar": "شباك موحد للسكن"}'
echo "ok: practice add builds the record, refuses bad input and overwrites only with --replace"

# ---- profile set ----
bad 2 'city' $L profile set summary "Lyon"
ok $L profile set city Lyon country France region europe population.value 520000 population.year 2021 \
	summary.fr "Lyon accueille." summary.ar "تستقبل ليون المهاجرين."
ok $L --json get profile main
py 'd["body"] == {"city": "Lyon", "country": "France", "region": "europe", "population": {"value": 520000, "year": 2021}, "summary": {"fr": "Lyon accueille.", "ar": "تستقبل ليون المهاجرين."}}'
ok $L profile set sections.1.topic housing sections.1.text "Le logement d'urgence est saturé." population.value 521000
ok $L --json get profile main
py 'd["body"]["sections"] == [{"topic": "housing", "text": "Le logement d'"'"'urgence est saturé."}] and d["body"]["population"]["value"] == 521000 and d["body"]["city"] == "Lyon"'
bad 2 'population.value: "many" is not a whole number' $L profile set population.value many
bad 2 'no field "citty"' $L profile set citty Lyon
bad 2 'region' $L profile set region asia
bad 2 'sections.5.*1 to 2' $L profile set sections.5.topic health
bad 2 'missing VALUE' $L profile set city
bad 2 'country has no value' $L profile set city Lyon country
echo "ok: profile set reads, types and writes fields by path"

# ---- pilot ----
echo '{"title": "Pilote hébergement", "topic": "housing", "status": "planned"}' | $L put pilot p1 >/dev/null
ok $L pilot milestone p1 --date 2025-01-15 "Lancement"
ok $L pilot milestone p1 --date 2025-06-30 --lang ar "تقييم المرحلة"
ok $L pilot milestone p1 --done 1
ok $L pilot status p1 running
ok $L --json get pilot p1
py 'd["body"]["status"] == "running" and d["body"]["milestones"] == [{"date": "2025-01-15", "text": "Lancement", "done": True}, {"date": "2025-06-30", "text": {"ar": "تقييم المرحلة"}, "done": False}]'
bad 2 'has 2 milestones.*1 to 2' $L pilot milestone p1 --done 3
bad 2 'date' $L pilot milestone p1 --date 2025-02-30 "Jamais"
bad 2 'missing --date' $L pilot milestone p1 "Sans date"
bad 2 'status.*planned' $L pilot status p1 paused
bad 1 'no pilot nope' $L pilot milestone nope --date 2025-01-01 x
echo "ok: pilot milestone and status"

# ---- comment, from another city ----
until_ok 20 $T get practice sante --city lyon || fail "tunis did not receive lyon's practice"
ok $T comment practice sante --city lyon "Très utile, merci ! نفس المشكلة عندنا"
CID=$(sed -nE 's/^published comment ([^:]+): seq.*/\1/p' "$WORK/out")
[ -n "$CID" ] || fail "comment did not print its id"
ok $T --json get comment "$CID"
py 'd["body"] == {"on": {"author": "'"$LYON"'", "type": "practice", "id": "sante"}, "text": "Très utile, merci ! نفس المشكلة عندنا"}'
tunis_entries() { $T --json log | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))'; }
before=$(tunis_entries)
rc=0
$T comment practice nope --city lyon "x" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" = 1 ] || fail "a comment on a missing record exited $rc, not 1"
grep -q '^agora: comment: no practice nope' "$WORK/err" || fail "the refused comment does not say why"
[ "$(tunis_entries)" = "$before" ] || fail "the refused comment was published"
echo "ok: comment answers another city's record; none on a missing one"

# ---- show ----
LONG_AR="تعمل المدينة مع المجتمع المدني على توفير السكن اللائق للوافدين الجدد وتسهيل وصولهم إلى الخدمات الصحية والتعليمية في جميع الأحياء"
python3 - "$LONG_AR" >"$WORK/doc.json" <<'PY'
import json, sys
print(json.dumps({"title": {"fr": "Guichet unique", "en": "One-stop desk", "ar": "شباك موحد"},
                  "summary": {"fr": "Un guichet commun oriente les nouveaux arrivants vers un hébergement d'urgence.", "ar": sys.argv[1]},
                  "topics": ["housing", "health"], "stakeholders": ["civil-society"], "year": 2025}, ensure_ascii=False))
PY
ok $L put practice guichet --file "$WORK/doc.json"
COLUMNS=50 ok $L show practice guichet
has "One-stop desk"
has "[ar] شباك موحد"
has "[fr] Guichet unique"
has "housing: hébergement / housing / السكن"
has "health: santé / health / الصحة"
has "civil-society: société civile / civil society /"
has "                المجتمع المدني"
has "Year: 2025"
has "City: lyon"
python3 - "$WORK/out" <<'PY' || fail "show's lines are not wrapped to 50 columns"
import sys, unicodedata
text = open(sys.argv[1], encoding="utf-8").read()
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = [l for l in text.splitlines() if not l.startswith(("Record: ", "City: "))]  # not text
assert all(width(l) <= 50 for l in lines), [l for l in lines if width(l) > 50]
arabic = [l for l in lines if ("السكن" in l or "الخدمات" in l) and not l.startswith("  housing: ")]
assert len(arabic) == 2, arabic  # the long Arabic summary wraps over several lines
assert sum(1 for l in lines if any("\u0600" <= c <= "\u06ff" for c in l)) >= 4
PY
ok $L show pilot p1
has "1. [x] 2025-01-15  Lancement"
has "2. [ ] 2025-06-30"
has "[ar] تقييم المرحلة"
ok $L --json show practice guichet
py 'd["body"]["title"]["ar"] == "شباك موحد" and d["type"] == "practice"'
ok $T show practice sante --city lyon
has "Santé pour tous"
bad 1 'no practice nope' $L show practice nope
bad 2 'unknown record type' $L show practise guichet
echo "ok: show lays out labels, languages, topics and milestones, wrapped by width"

# ---- export ----
python3 >"$WORK/tricky.json" <<'PY'
import json
print(json.dumps({"title": 'Say "bonjour", welcome | a *b* <i>c</i>', "summary": 'Une ligne;\ndeux, "trois"',
                  "topics": ["exchange"], "year": 2023}, ensure_ascii=False))
PY
ok $L put practice tricky --file "$WORK/tricky.json"
until_ok 20 $T get practice tricky --city lyon || fail "tunis did not receive the tricky practice"
ok $T export --format json
COUNT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["count"])' "$WORK/out")
ok $T export --format csv --output "$WORK/all.csv"
[ -s "$WORK/all.csv" ] && [ ! -e "$WORK/all.csv.part" ] || fail "export --output did not write the file whole"
# FILE.part is made anew, never followed: a symbolic link planted there is refused, its target untouched.
echo "not yours" > "$WORK/victim"
ln -s "$WORK/victim" "$WORK/planted.csv.part"
bad 2 'planted.csv.part: it exists' $T export --format csv --output "$WORK/planted.csv"
ln -s "$WORK/victim" "$WORK/planted.html.part"
bad 2 'planted.html.part: it exists' $T report --output "$WORK/planted.html"
[ "$(cat "$WORK/victim")" = "not yours" ] && [ ! -e "$WORK/planted.csv" ] && [ ! -e "$WORK/planted.html" ] ||
	fail "export or report --output followed a symbolic link planted at FILE.part"
python3 - "$WORK/all.csv" "$LYON" "$TUNIS" "$COUNT" <<'PY' || { cat "$WORK/all.csv" >&2; fail "the CSV export does not read back"; }
import csv, sys
def cell(s):  # a key starting with "+" is guarded as any formula-like cell is
    return "'" + s if s[:1] in "=+-@" else s
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\r\n") >= 8 and b"\r\n" == raw[-2:], "CRLF line ends"
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
assert rows[0] == ["city", "type", "id", "title", "topics", "summary", "date", "updated", "author"], rows[0]
assert all(len(r) == 9 for r in rows), [r for r in rows if len(r) != 9]
by = {(r[0], r[1], r[2]): r for r in rows[1:]}
t = by[("lyon", "practice", "tricky")]
assert t[3] == 'Say "bonjour", welcome | a *b* <i>c</i>', t[3]
assert t[4] == "exchange" and t[5] == 'Une ligne;\ndeux, "trois"' and t[6] == "2023" and t[8] == cell(sys.argv[2]), t
g = by[("lyon", "practice", "guichet")]
assert g[3] == "fr: Guichet unique; ar: شباك موحد; en: One-stop desk", g[3]
assert g[4] == "housing; health", g[4]
p = by[("lyon", "pilot", "p1")]
assert p[3] == "Pilote hébergement" and p[4] == "housing"
assert ("lyon", "profile", "main") in by and by[("lyon", "profile", "main")][4] == "housing"
c = [r for r in rows[1:] if r[0] == "tunis" and r[1] == "comment"]
keys = [(r[0], r[1], r[2]) for r in rows[1:]]
assert len(c) == 1 and c[0][5].startswith("Très utile") and c[0][8] == cell(sys.argv[3]), (c, keys)
assert keys.index(("lyon", "profile", "main")) < keys.index(("lyon", "practice", "guichet")) < keys.index(("lyon", "pilot", "p1"))
assert len(rows) - 1 == int(sys.argv[4]), (len(rows), sys.argv[4])
PY
echo "ok: CSV export reads back with python's csv module"

ok $T export --format md --output "$WORK/all.md"
"$PYMD" - "$WORK/all.md" <<'PY' || fail "the Markdown export does not render as expected"
import sys, markdown
from html.parser import HTMLParser
html = markdown.markdown(open(sys.argv[1], encoding="utf-8").read(), extensions=["tables"])
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.items = []
    def handle_starttag(self, tag, attrs):
        self.stack.append(tag); self.items.append([tag, ""])
    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag: pass
    def handle_data(self, data):
        for it in reversed(self.items):
            if it[0] in self.stack: it[1] += data; break
p = P(); p.feed(html)
def texts(tag): return [t.strip() for k, t in p.items if k == tag]
assert "script" not in html and "<i>" not in html, "raw HTML passed through"
assert texts("h2") == ["lyon", "tunis"], texts("h2")
h3 = texts("h3")
assert h3.index("profile") < h3.index("practice") < h3.index("pilot") < h3.index("comment"), h3
h4 = texts("h4")
assert 'Say "bonjour", welcome | a *b* <i>c</i>' in h4, h4
assert 'Une ligne;\ndeux, "trois"' in texts("p"), texts("p")
assert "Pilote hébergement" in h4, h4
td = texts("td"); th = texts("th")
assert th[:4] == ["#", "Date", "Text", "Done"], th
i = td.index("2025-01-15")
assert td[i - 1:i + 3] == ["1", "2025-01-15", "Lancement", "yes"], td
assert td[i + 3:i + 7] == ["2", "2025-06-30", "تقييم المرحلة", "no"], td
li = " ".join(texts("li"))
assert "hébergement / housing / السكن" in li and "santé / health / الصحة" in li, li
PY
echo "ok: Markdown export renders with headings per city and type, tables, escaped text"

ok $T export --format json
py 'd["count"] == len(d["records"]) and all(set(r) >= {"city", "author", "type", "id", "seq", "time", "body"} for r in d["records"])'
py '[r["body"]["summary"] for r in d["records"] if r["id"] == "tricky"] == ["Une ligne;\ndeux, \"trois\""]'
ok $T export --format json --city lyon --type pilot
py '[(r["city"], r["type"], r["id"]) for r in d["records"]] == [("lyon", "pilot", "p1")]'
bad 2 'unknown --format "xls"' $L export --format xls --output "$WORK/x.xls"
[ -e "$WORK/x.xls" ] && fail "a refused export wrote its file"
bad 2 'missing --format' $L export
bad 2 'unknown record type' $L export --format csv --type practise
bad 1 'nowhere' $L export --format csv --city nowhere
echo "ok: JSON export, filters, and refusals"

# ---- help ----
for c in "practice add" "profile set" "profile show" "pilot milestone" "pilot status" comment show export; do
	# shellcheck disable=SC2086
	ok $L $c --help
	grep -q "^usage: agora .*$c" "$WORK/out" || fail "$c --help has no usage line"
done
ok $L help pilot
has "pilot milestone"
echo "ok: --help on every new command"
