#!/usr/bin/env bash
# agora news, as a city officer reads it day after day:
#  - the first look lists everything, by city; asked again, nothing is new;
#  - a practice published at Tunis shows at Lyon as new, once;
#  - a new version, a retraction and a member introduced show as such;
#  - --since DATE lists by the authors' clocks and leaves what was seen alone;
#  - what was seen is kept per user under $XDG_STATE_HOME/agora/.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, node_*, fail, cleanup on exit
export LANG=C.UTF-8 XDG_STATE_HOME=$WORK/state
unset AGORA_DIR

LYON=$(node_init lyon)
TUNIS=$(node_init tunis)
node_peer lyon tunis "$TUNIS"
node_peer tunis lyon "$LYON"
node_start lyon
node_start tunis
until_ok 10 a lyon status || fail "lyon did not start"
until_ok 10 a tunis status || fail "tunis did not start"
node_ready lyon
node_ready tunis
synced() { [ "$(feed_seq lyon "$TUNIS")" = "$(feed_seq tunis "$TUNIS")" ]; }
has() { grep -qE -- "$1" "$WORK/out" || fail "news lacks '$1'"; }

day=$(date -u +%Y-%m-%d) # before anything is published: --since $day holds it all, even past midnight
ok a tunis practice add --id p1 --title "Santé de proximité" --topic health --summary "Un centre."
ok a tunis practice add --id p2 --title "Cours de langue" --topic education --summary "Le soir."
until_ok 10 synced || fail "lyon did not get tunis's feed"

ok a lyon news
has '^tunis$'
has '^  new .* practice p1: Santé de proximité$'
has '^  new .* practice p2: Cours de langue$'
[ -f "$XDG_STATE_HOME/agora/news.json" ] || fail "what was seen is not kept under XDG_STATE_HOME"
ok a lyon news
has '^nothing new since you last looked$'
echo "ok: the first look lists everything; the second nothing"

ok a tunis practice add --id p3 --title "Emploi" --topic employment --summary "Un forum."
until_ok 10 synced || fail "lyon did not get p3"
ok a lyon --json news
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [(c["city"], c["new_city"], [(i["kind"], i["type"], i["id"]) for i in c["items"]]) for c in d["cities"]] == \
    [("tunis", False, [("new", "practice", "p3")])], d' "$WORK/out" || fail "news --json after one practice"
ok a lyon news
has '^nothing new'
echo "ok: a new practice shows once"

ok a tunis practice add --id p1 --title "Santé de quartier" --topic health --summary "Un centre." --replace
ok a tunis retract practice p2
SFAX=$(node_init sfax) # a key only: Sfax never runs
ok a tunis peer add "$SFAX" --name Sfax
until_ok 10 synced || fail "lyon did not get the changes"
ok a lyon news
has '^  version .* practice p1: Santé de quartier$'
has '^  retracted .* practice p2'
has '^  member .*: Sfax$'
echo "ok: a new version, a retraction and a member show as such"

ok a lyon news --since "$day"
has '^  new .* practice p3'
ok a lyon news
has '^nothing new'
rc=0
a lyon news --since yesterday >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" = 2 ] || fail "news --since yesterday exited $rc"
echo "ok: --since DATE lists by date and leaves what was seen alone"
