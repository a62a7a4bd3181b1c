#!/usr/bin/env bash
# Search over the sample network of contrib/sample, as a city would use it:
# three sample cities load their records into their own nodes, gossip brings
# them to a fourth node that wrote none of them, and there
#  - `search hebergement` finds every record that holds « hébergement »
#    (the French housing practices among them), as python3 computes them from
#    the sample files, folding accents and case as DESIGN.md says; besides,
#    only records that hold another form of the word (a word that shares its
#    stem's letters, or an Arabic word with a clitic before it) or that are
#    tagged with the topic the word names (issue 20), those after the others;
#  - Arabic words match with and without harakat, and across the alef and
#    teh marbuta spellings;
#  - `search TEXT --topic health --city NAME` returns only that city's health records;
#  - `list --type practice --city NAME` counts what the sample files hold.
# And every sample file passes `agora put`, that is, the record schemas.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, SLOW, cleanup on exit, free_port, node_start, fail
export AGORA LANG=C.UTF-8
unset AGORA_DIR

. "$(dirname "$0")/sample.sh" # SAMPLE, py, city, key, link, at, head_of, wait_feeds

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
