#!/usr/bin/env bash
# Roles and names that cannot be spoofed. A line of introductions:
#   Lyon - Tunis - Evil, and Sfax - Tunis (Tunis peers with the three others),
# Sfax following three hops so that it reads the member records of the keys
# Tunis introduces. The name Sfax shows for a key comes from its config, else
# from those who introduce it, never from the key's own records: Evil naming
# itself "Lyon" changes nothing; two introducers that disagree are both shown;
# a name given to two keys is ambiguous (exit 2). Roles come from peer add
# --role, are kept in the config and carried by member records.
. "$(dirname "$0")/lib.sh"
put() { echo "{\"title\": \"$3\", \"summary\": \"$3\", \"topics\": [\"housing\"]}" | a "$1" put practice "$2" >/dev/null; }
member() { # member NODE KEY NAME: NODE publishes a member record naming KEY
	echo "{\"key\": \"$2\", \"name\": \"$3\", \"role\": \"partner\"}" | a "$1" put member "$2" >/dev/null
}
authors() { a "$1" --json list "${@:2}" | python3 -c 'import json, sys; print(" ".join(sorted({r["author"] for r in json.load(sys.stdin)["records"]})))'; }

node_make Lyon
node_make Tunis
node_make Evil
node_init Sfax > "$WORK/Sfax.key"
printf 'Hops = 3\n' >> "$WORK/Sfax/agorad.conf"
node_start Sfax
until_ok 5 a Sfax status || fail "Sfax does not answer"
L=$(cat "$WORK/Lyon.key") E=$(cat "$WORK/Evil.key") S=$(cat "$WORK/Sfax.key")
node_link Tunis Lyon
node_link Tunis Evil
a Tunis peer add "$S" --name Sfax --endpoint "$(addr Sfax)" --role associate >/dev/null ||
	fail "peer add --role associate refused"
a Sfax peer add "$(cat "$WORK/Tunis.key")" --name Tunis --endpoint "$(addr Tunis)" >/dev/null

# Roles: in the config, peer list and status, and carried by Tunis's member record.
grep -q '^Role = associate$' "$WORK/Tunis/agorad.conf" || fail "no Role in Tunis's config"
a Tunis peer list | grep -E '^Sfax +associate ' >/dev/null || fail "peer list: $(a Tunis peer list)"
a Tunis --json status | python3 -c '
import json, sys
p = {x["name"]: x["role"] for x in json.load(sys.stdin)["peers"]}
assert p == {"Lyon": "partner", "Evil": "partner", "Sfax": "associate"}, p' || fail "status roles"
st=0; a Tunis peer add "$(cat "$WORK/Evil.key")" --name X --role boss 2>"$WORK/err" || st=$?
[ "$st" = 2 ] && grep -q 'partner or associate' "$WORK/err" || fail "--role boss: exit $st, $(cat "$WORK/err")"
until_ok 15 eval "a Lyon --json status | grep -q '\"role\": \"associate\"'" ||
	fail "Lyon never learned Sfax's role from Tunis: $(a Lyon status)"
echo "ok: --role is kept in the config, shown in peer list and status, and carried to other nodes"

put Lyon p-lyon "from Lyon"
put Evil p-evil "from Evil"
until_ok 15 a Sfax get practice p-lyon --city Lyon || fail "Lyon's record did not reach Sfax"
until_ok 15 a Sfax get practice p-evil --city "$E" || fail "Evil's record did not reach Sfax"
[ "$(authors Sfax --city Lyon)" = "$L" ] || fail "--city Lyon before: $(authors Sfax --city Lyon)"

# Evil names itself Lyon: Sfax reads the record, and --city Lyon still answers Lyon.
member Evil "$E" Lyon
until_ok 15 a Sfax get member "$E" --city "$E" || fail "Evil's member record did not reach Sfax"
[ "$(authors Sfax --city Lyon)" = "$L" ] || fail "--city Lyon after Evil named itself Lyon: $(authors Sfax --city Lyon)"
a Sfax get practice p-lyon --city Lyon >/dev/null || fail "get --city Lyon"
gone Sfax get practice p-evil --city Lyon || fail "--city Lyon reached Evil's record"
a Sfax --json status | E=$E python3 -c '
import json, os, sys
f = {x["author"]: x["name"] for x in json.load(sys.stdin)["feeds"]}
assert f[os.environ["E"]] == "Evil", f' || fail "Sfax calls Evil by its own record's name"
echo "ok: a replicated author naming itself Lyon changes neither --city Lyon nor its own name"

# Lyon disagrees with Tunis about Evil's name: both are shown.
member Lyon "$E" Malevolent
until_ok 15 eval "a Sfax --json status | grep -q '\"name\": \"Evil / Malevolent\"'" ||
	fail "a disagreement is not shown: $(a Sfax status)"
echo "ok: two introducers that disagree on a name are both shown"

# Evil gives the name Lyon to another key: the name is ambiguous at Sfax, not at Tunis.
X=$("$BIN/tests/agora-mkinit" "$WORK/X" X 127.0.0.1:1)
member Evil "$X" Lyon
ambiguous() { ! a Sfax list --city Lyon >/dev/null 2>"$WORK/err" && grep -q ambiguous "$WORK/err"; }
until_ok 15 ambiguous || fail "Lyon never became ambiguous at Sfax: $(cat "$WORK/err")"
st=0; a Sfax list --city Lyon 2>"$WORK/err" || st=$?
[ "$st" = 2 ] || fail "an ambiguous --city: exit $st, not 2"
grep -q "the name Lyon is ambiguous: member records give it to .*$X\|the name Lyon is ambiguous: member records give it to $L" "$WORK/err" ||
	fail "ambiguous: $(cat "$WORK/err")"
[ "$(authors Tunis --city Lyon)" = "$L" ] || fail "Tunis, whose config names Lyon, is not sure of Lyon"
a Sfax list --city "$L" >/dev/null || fail "a key is never ambiguous"
echo "ok: a name given to two keys is ambiguous (exit 2); the config settles it"
echo "4 passed, 0 failed"
