#!/usr/bin/env bash
# agora report over the whole sample network of contrib/sample (ten nodes, as
# contrib/demo.sh links them), opened in headless Chromium as a city officer
# would open the file:
#  - the page runs its script with no error and no breach of its policy
#    (report.js sets data-ready="ok" on <html> when it ran clean; an error or
#    a blocked load takes it away and says why in data-error);
#  - it fetches nothing: its Content-Security-Policy says default-src 'none',
#    and no src or href in the file names an http(s) address;
#  - it holds every sample record, each an <article> with data-type, data-id
#    and data-city;
#  - #q=hebergement shows exactly the records whose words hold « hébergement »
#    in any case or accent form, as python3 computes them from the sample
#    files (sample.py, the same check as test_sample.sh's search), and hides
#    the others with the hidden attribute; Arabic queries with and without
#    harakat show exactly the Arabic records that hold them;
#  - a record written to break the page (tags, quotes, a script) shows as text.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, SLOW, cleanup on exit, free_port, node_start, fail
export AGORA LANG=C.UTF-8
unset AGORA_DIR
. "$(dirname "$0")/sample.sh" # SAMPLE, py, city, key, link, at, head_of, wait_feeds
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "chromium is not installed (contrib/install-deps.sh installs it)" >&2; exit 77; }

# ---- the ten sample cities, linked as the demo links them ----
slugs=() names=()
while IFS=$'\t' read -r slug name _country _region; do
	[[ $slug == \#* ]] && continue
	slugs+=("$slug")
	names+=("$name")
	city "$slug" "$name"
done <"$SAMPLE/cities.tsv"
for i in 0 1 2 3 4; do # the Petersen graph: any two cities at most two hops apart
	link "${slugs[i]}" "${names[i]}" "${slugs[(i + 1) % 5]}" "${names[(i + 1) % 5]}"
	link "${slugs[5 + i]}" "${names[5 + i]}" "${slugs[5 + (i + 2) % 5]}" "${names[5 + (i + 2) % 5]}"
	link "${slugs[i]}" "${names[i]}" "${slugs[5 + i]}" "${names[5 + i]}"
done
for slug in "${slugs[@]}"; do
	"$SAMPLE/load.sh" --records "$WORK/$slug" "$slug" >/dev/null || fail "load.sh --records $slug"
done
for slug in "${slugs[@]}"; do wait_feeds "$slug" "${slugs[@]}"; done
for slug in "${slugs[@]}"; do
	"$SAMPLE/load.sh" --comments "$WORK/$slug" "$slug" >/dev/null || fail "load.sh --comments $slug"
done
HERE=kostrava
wait_feeds "$HERE" "${slugs[@]}"
echo "ok: $HERE holds the ten sample cities' feeds"

# A record written to break out of the page, as a hostile city could write one.
cat >"$WORK/evil.json" <<'JSON'
{"title": "</article><script>document.title='pwned'</script><img src=x onerror=alert(1)>",
 "summary": {"fr": "\"><svg onload=alert(2)> ' & <b>bold</b>", "x-evil\" onmouseover=\"alert(3)": "q"},
 "topics": ["housing"], "links": ["https://evil.example/track.png"]}
JSON
at "$HERE" put practice '"><script>alert(4)</script>' --file "$WORK/evil.json" >/dev/null && fail "a bad language code was published"
python3 - "$WORK/evil.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["summary"]["x-evil\" onmouseover=\"alert(3)"]
json.dump(d, open(sys.argv[1], "w"))
PY
at "$HERE" put practice '"><script>alert(4)</script>' --file "$WORK/evil.json" >/dev/null || fail "put the hostile record"

# ---- the report ----
ok at "$HERE" report --output "$WORK/report.html"
grep -q "^wrote $WORK/report.html: " "$WORK/out" || fail "report does not say where it wrote"
[ ! -e "$WORK/report.html.part" ] || fail "the .part file was left behind"

# render FRAGMENT OUT: the DOM of the page opened at #FRAGMENT, after its script ran.
render() {
	local profile
	profile=$(mktemp -d "$WORK/chromium-XXXXXX")
	timeout $((60 * SLOW)) "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update --disable-sync \
		--host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir="$profile" \
		--virtual-time-budget=10000 --dump-dom "file://$WORK/report.html$1" >"$2" 2>"$WORK/chromium.log" ||
		fail "chromium could not open the report at $1: $(tail -n 5 "$WORK/chromium.log")"
}

# check.py FILE DOM MODE [QUERY]: the page as the test above says.
cat >"$WORK/check.py" <<'PY'
import html.parser, os, re, sys
sys.path.insert(0, os.environ["TESTS"])
import sample

page, dom, mode, query = sys.argv[1], sys.argv[2], sys.argv[3], (sys.argv[4:] or [""])[0]
slug_of = {l.split("\t")[1]: l.split("\t")[0] for l in open(os.path.join(sample.sample, "cities.tsv"), encoding="utf-8")
           if not l.startswith("#")}
slugs = list(slug_of.values())

class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.root, self.articles, self.scripts, self.tags = {}, [], 0, set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "html":
            self.root = a
        elif tag == "article":
            self.articles.append(a)
        elif tag == "script":
            self.scripts += 1

p = Page()
p.feed(open(dom, encoding="utf-8").read())
assert p.root.get("data-ready") == "ok", f"the script did not run clean: {p.root}"
assert "data-error" not in p.root, p.root["data-error"]
assert p.scripts == 2, f"{p.scripts} scripts in the page, 2 expected (the fold table, report.js)"
assert not p.tags & {"img", "iframe", "object", "embed", "link", "base", "form"}, p.tags
for a in p.articles:
    assert {"data-type", "data-id", "data-city"} <= set(a), a
got = {(slug_of.get(a["data-city"], a["data-city"]), a["data-type"], a["data-id"]) for a in p.articles}
shown = {(slug_of.get(a["data-city"], a["data-city"]), a["data-type"], a["data-id"]) for a in p.articles if "hidden" not in a}
every = {(s, t, i) for s, t, i, _ in sample.records(slugs)}

if mode == "all":
    text = open(page, encoding="utf-8").read()
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    assert csp and "default-src 'none'" in csp.group(1), "no policy that forbids fetches"
    assert "unsafe-eval" not in csp.group(1) and "http" not in csp.group(1), csp.group(1)
    bad = re.findall(r'''\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*''', text, re.I)
    assert not bad, f"the file names addresses to load: {bad[:5]}"
    assert every <= got, f"the report lacks {sorted(every - got)[:5]}"
    assert shown == got, "records hidden with no filter"
    evil = [a for a in p.articles if a["data-type"] == "practice" and "<script>" in a["data-id"]]
    assert len(evil) == 1 and evil[0]["data-city"] == "Kostrava", "the hostile record is not shown as text"
    assert "pwned" not in open(dom, encoding="utf-8").read().split("<title>")[1].split("</title>")[0]
    print(f"ok: the report holds the {len(every)} sample records and shows them all")
else:
    want = sample.matching(slugs, query)
    assert want, f"the sample holds nothing for {query!r}"
    extra = {(s, t, i) for s, t, i in shown if s not in slug_of.values()}
    assert shown - extra == want and not extra - {("Kostrava", "practice", '"><script>alert(4)</script>')}, \
        f"#q={query} shows {sorted(shown)}\n  the files hold {sorted(want)}"
    assert got - shown, "nothing was hidden"
    print(f"ok: #q={query} shows exactly {sample.show(want)}")
PY
check() { TESTS=$(dirname "$0") python3 "$WORK/check.py" "$WORK/report.html" "$@"; }
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

render "" "$WORK/dom.html"
check "$WORK/dom.html" all || fail "the report as opened"

py lacks "$(IFS=,; echo "${slugs[*]}")" hebergement nakhlat-el-bahr/practice/sakan-lil-ummal ||
	fail "the Arabic housing practice holds hebergement"
for q in hebergement HÉBERGEMENT سكن الخِيَاطَة الخياطه 'الصحة'; do
	render "#q=$(urlq "$q")" "$WORK/dom.html"
	check "$WORK/dom.html" query "$q" || fail "the filter #q=$q"
done
