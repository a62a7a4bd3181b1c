#!/usr/bin/env bash
# Search over the sample network of contrib/sample, as a city would use it:
# three sample cities load their records into their own nodes, gossip brings
# them to a fourth node that wrote none of them, and there
#  - `search hebergement` finds exactly the records that hold « hébergement »
#    (the French housing practices among them), as python3 computes them from
#    the sample files, folding accents and case as DESIGN.md says;
#  - Arabic words match with and without harakat, and across the alef and
#    teh marbuta spellings;
#  - `search TEXT --topic health --city NAME` returns only that city's health records;
#  - `list --type practice --city NAME` counts what the sample files hold.
# And every sample file passes `agora put`, that is, the record schemas.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, SLOW, cleanup on exit, free_port, node_start, fail
SAMPLE=${AGORA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/contrib/sample
export AGORA LANG=C.UTF-8
unset AGORA_DIR

# sample.py SAMPLE KEYS COMMAND ...: what the sample files say, and checks of
# agora's --json answers (on stdin) against it. KEYS maps slugs to node keys.
cat >"$WORK/sample.py" <<'PY'
import glob, json, os, sys, unicodedata as ud

sample, keysfile, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
KEEP = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Mc"}
DROP = {"Mn", "Me", "Cf"}  # accents, harakat, zero-width characters
ARABIC = {"\u0649": "\u064a", "\u0629": "\u0647"}  # alef maqsura, teh marbuta
ARABIC.update({chr(0x660 + i): str(i) for i in range(10)})
ARABIC.update({chr(0x6F0 + i): str(i) for i in range(10)})

def words(text):
    """The folded words of text, as the index cuts them (two letters or more)."""
    out, w = set(), []
    def flush():
        if len(w) >= 2:
            out.add("".join(w))
        w.clear()
    for c in text:
        for d in ud.normalize("NFKD", ud.normalize("NFKD", c).casefold()):
            cat = ud.category(d)
            if d == "\u0640" or cat in DROP:
                continue
            if cat in KEEP:
                w.append(ARABIC.get(d, d))
            else:
                flush()
    flush()
    return out

def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)

def topics(v):
    """The topics a body names in "topic"/"topics" keys, at any depth."""
    found = set()
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "topic" and isinstance(x, str):
                found.add(x)
            elif k == "topics" and isinstance(x, list):
                found.update(x)
            else:
                found |= topics(x)
    elif isinstance(v, list):
        for x in v:
            found |= topics(x)
    return found

def records(slugs):
    for slug in slugs:
        for f in sorted(glob.glob(os.path.join(sample, slug, "*.json"))):
            rtype, rid = os.path.basename(f)[:-5].split(".", 1)
            yield slug, rtype, rid, json.load(open(f, encoding="utf-8"))

def matching(slugs, query):
    q = words(query)
    return {(s, t, i) for s, t, i, b in records(slugs) if q <= set().union(*map(words, strings(b)))}

def answer():
    """agora's --json answer on stdin: (slug, type, id) per record."""
    keys = dict(l.split()[::-1] for l in open(keysfile) if l.strip())
    d = json.load(sys.stdin)
    assert not d["more"], "the answer was cut short"
    return {(keys.get(r["author"], r["author"]), r["type"], r["id"]) for r in d["records"]}

def show(s):
    return ", ".join("/".join(x) for x in sorted(s)) or "nothing"

if cmd == "expect":  # SLUGS QUERY MUST-FIND...: agora found exactly what the files hold
    slugs, query, must = args[0].split(","), args[1], args[2:]
    want, got = matching(slugs, query), answer()
    for m in must:
        assert tuple(m.split("/")) in want, f"the sample lacks {m} for {query!r}: {show(want)}"
    assert got == want, f"{query!r} found {show(got)}\n  the files hold {show(want)}"
    print(f"ok: {query!r} finds {show(got)}")
elif cmd == "lacks":  # SLUGS QUERY RECORD: the sample does not match RECORD on QUERY
    assert tuple(args[2].split("/")) not in matching(args[0].split(","), args[1]), args
elif cmd == "narrowed":  # SLUG TOPIC QUERY: only SLUG's records on TOPIC that hold QUERY
    slug, topic, query = args
    hits = {(s, t, i): b for s, t, i, b in records([slug]) if (s, t, i) in matching([slug], query)}
    # A topic counts wherever the record names it: priority areas and profile sections nest theirs.
    want = {k for k, b in hits.items() if topic in topics(b)}
    got = answer()
    assert want, f"the sample has no {topic} record of {slug} holding {query!r}"
    assert got == want, f"found {show(got)}\n  the files hold {show(want)}"
    print(f"ok: {query!r} on {topic} at {slug} finds {show(got)}")
elif cmd == "count":  # SLUG TYPE: how many such files
    print(sum(1 for r in records([args[0]]) if r[1] == args[1]))
elif cmd == "targets":  # every comment answers a record of another sample city
    slugs = [l.split("\t")[0] for l in open(os.path.join(sample, "cities.tsv")) if not l.startswith("#")]
    recs = list(records(slugs))
    have = {(s, t, i) for s, t, i, _ in recs}
    n = 0
    for s, t, i, b in recs:
        if t != "comment":
            continue
        on = b["on"]
        assert on["author"].startswith("@"), f"{s}/{t}.{i}: on.author is not @SLUG"
        target = (on["author"][1:], on["type"], on["id"])
        assert target in have, f"{s}/{t}.{i} answers {target}, which the sample lacks"
        assert target[0] != s, f"{s}/{t}.{i} answers its own city"
        n += 1
    print(f"ok: the {n} comments answer records of other sample cities")
else:
    sys.exit(f"sample.py: no command {cmd}")
PY
py() { python3 "$WORK/sample.py" "$SAMPLE" "$WORK/keys" "$@"; }

# city SLUG NAME: a running node named NAME in $WORK/SLUG; its key in $WORK/keys.
city() {
	local key i
	key=$("$AGORA" init --dir "$WORK/$1" --name "$2" --listen "127.0.0.1:$(free_port)") ||
		fail "init $1"
	echo "$1 $key" >>"$WORK/keys"
	node_start "$1"
	for ((i = 0; i < 100 * SLOW; i++)); do
		"$AGORA" --dir "$WORK/$1" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "$1 did not start"
}
key() { awk -v s="$1" '$1 == s { print $2 }' "$WORK/keys"; }
link() { # A NAME-OF-A B NAME-OF-B
	"$AGORA" --dir "$WORK/$1" peer add "$(key "$3")" --name "$4" --endpoint "127.0.0.1:$(port_of "$3")" >/dev/null &&
		"$AGORA" --dir "$WORK/$3" peer add "$(key "$1")" --name "$2" --endpoint "127.0.0.1:$(port_of "$1")" >/dev/null ||
		fail "link $1 $3"
}
port_of() { sed -n 's/^Listen *= *127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/$1/agorad.conf"; }
at() { local slug=$1; shift; "$AGORA" --dir "$WORK/$slug" "$@"; }
head_of() { # NODE SLUG: the seq NODE holds of SLUG's feed (0: none)
	at "$1" --json status | python3 -c '
import json, sys
print(next((f["seq"] for f in json.load(sys.stdin)["feeds"] if f["author"] == sys.argv[1]), 0))' "$(key "$2")"
}
# wait_feeds NODE SLUG...: until NODE holds each SLUG's feed up to SLUG's own head.
wait_feeds() {
	local node=$1 slug i
	shift
	for slug in "$@"; do
		for ((i = 0; i < 200 * SLOW; i++)); do
			[ "$(head_of "$node" "$slug")" = "$(head_of "$slug" "$slug")" ] && continue 2
			sleep 0.1
		done
		fail "$node lacks $slug's feed (at $(head_of "$node" "$slug") of $(head_of "$slug" "$slug"))"
	done
}

# ---- every sample file passes agora put (the record schemas) ----
py targets || fail "a comment of the sample answers no sample record"
city check Check
files=0
for f in "$SAMPLE"/*/*.json; do
	base=${f##*/}
	base=${base%.json}
	# A comment names the city it answers as "@slug": any valid key stands for it here.
	sed "s|\"@[a-z-]*\"|\"$(key check)\"|" "$f" | at check put "${base%%.*}" "${base#*.}" >/dev/null 2>"$WORK/err" ||
		fail "${f#"$SAMPLE"/} was refused: $(cat "$WORK/err")"
	files=$((files + 1))
done
[ "$files" -ge 60 ] || fail "only $files sample files"
# So that the above can fail: a record that breaks the schema is refused.
sed 's/"housing"/"hosing"/' "$SAMPLE/valmoreuil/practice.hebergement-urgence.json" |
	at check put practice broken >/dev/null 2>"$WORK/err" && fail "a practice on topic \"hosing\" was published"
grep -q 'hosing' "$WORK/err" || fail "the refusal does not say what is wrong: $(cat "$WORK/err")"
echo "ok: all $files sample files pass agora put; a broken one is refused"

# ---- three sample cities and a node that wrote nothing, in a line ----
# Valmoreuil - Qasr Yasmina - observer - Nakhlat El Bahr: the observer follows
# Valmoreuil's feed because Qasr Yasmina introduces it (two hops).
city valmoreuil Valmoreuil
city qasr-yasmina "Qasr Yasmina"
city observer Observer
city nakhlat-el-bahr "Nakhlat El Bahr"
link valmoreuil Valmoreuil qasr-yasmina "Qasr Yasmina"
link qasr-yasmina "Qasr Yasmina" observer Observer
link observer Observer nakhlat-el-bahr "Nakhlat El Bahr"
CITIES=(valmoreuil qasr-yasmina nakhlat-el-bahr)
for slug in "${CITIES[@]}"; do
	"$SAMPLE/load.sh" --records "$WORK/$slug" "$slug" >/dev/null || fail "load.sh --records $slug"
done
# A comment goes in once the record it answers has reached its author's node.
wait_feeds valmoreuil qasr-yasmina
wait_feeds qasr-yasmina valmoreuil
wait_feeds nakhlat-el-bahr qasr-yasmina
for slug in "${CITIES[@]}"; do
	"$SAMPLE/load.sh" --comments "$WORK/$slug" "$slug" >/dev/null || fail "load.sh --comments $slug"
done
wait_feeds observer "${CITIES[@]}"
echo "ok: the observer holds the three cities' feeds"

ALL=$(IFS=,; echo "${CITIES[*]}")
search() { at observer --json search "$@" --limit 1000 || fail "search $*"; }

# ---- hébergement, accents and case folded ----
py lacks "$ALL" hebergement nakhlat-el-bahr/practice/sakan-lil-ummal || fail "the Arabic housing practice holds hebergement"
for q in hebergement HÉBERGEMENT Hébergement; do
	search "$q" | py expect "$ALL" "$q" valmoreuil/practice/hebergement-urgence \
		qasr-yasmina/practice/hebergement-solidaire || fail "search $q"
done

# ---- Arabic: harakat, alef and teh marbuta ----
# سَكَنٌ and المُرَافِقَاتُ are written with harakat; الخياطة and مدرسة بلا.
search سكن | py expect "$ALL" سكن nakhlat-el-bahr/practice/sakan-lil-ummal || fail "bare query, harakat in the data"
search المرافقات | py expect "$ALL" المرافقات qasr-yasmina/practice/sante-de-proximite || fail "bare query, harakat in the data"
search الخِيَاطَة | py expect "$ALL" الخِيَاطَة nakhlat-el-bahr/practice/warshat-al-khiyata || fail "harakat in the query, bare data"
search الخياطه | py expect "$ALL" الخياطه nakhlat-el-bahr/practice/warshat-al-khiyata || fail "teh marbuta written as heh"
search ايواء | py expect "$ALL" ايواء qasr-yasmina/practice/hebergement-solidaire || fail "alef without its hamza"
search 'الصحة' | py expect "$ALL" 'الصحة' qasr-yasmina/practice/sante-de-proximite || fail "bare query, الصِّحَّة in the data"

# ---- --topic and --city narrow ----
search sante | py expect "$ALL" sante valmoreuil/practice/mediation-sante qasr-yasmina/practice/sante-de-proximite ||
	fail "search sante"
search sante --topic health --city "Qasr Yasmina" | py narrowed qasr-yasmina health sante || fail "--topic health --city"
search sante --topic health --city Valmoreuil | py narrowed valmoreuil health sante || fail "--topic health --city"

# ---- list counts ----
for slug in "${CITIES[@]}"; do
	name=$(awk -F'\t' -v s="$slug" '$1 == s { print $2 }' "$SAMPLE/cities.tsv")
	for type in practice priority profile comment; do
		want=$(py count "$slug" "$type")
		got=$(at observer --json list --type "$type" --city "$name" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert not d["more"]
print(len(d["records"]))') || fail "list --type $type --city $name"
		[ "$got" = "$want" ] || fail "list --type $type --city $name: $got records, the files hold $want"
	done
	echo "ok: list --type TYPE --city $name counts the files ($(py count "$slug" practice) practices)"
done
