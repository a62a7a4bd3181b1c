#!/usr/bin/env bash
# A peer's text cannot drive the reader's terminal. A peer E (agora-evil, with a
# key V knows) publishes records whose text holds ESC [ 2 J (clear the screen),
# U+009B (CSI), BEL, CR and U+202E (right-to-left override): a member record
# naming a new key with U+009B and U+202E, a practice with it in its title and U+202E in its id,
# a record of an unknown type with it in a field's name and value (the
# summary holds only CR and U+202E, which its schema allows). Then every
# command that prints them for people (list, list --all, get, show, search, status, peer
# list, peer log, news, history, log, fork list, check, and an error quoting
# the id) prints none of those raw, and shows them as visible escapes where the
# text is shown; --json gives the text exact; export is exact to a pipe and
# cleaned on a terminal.
. "$(dirname "$0")/lib.sh" # BIN, AGORA, WORK, node_*, fail, cleanup on exit
export LANG=C.UTF-8 XDG_STATE_HOME=$WORK/state COLUMNS=100
unset AGORA_DIR
EVIL=$BIN/tests/agora-evil
ID=$'piege\u202etxt'
SHOWN='\x1b[2J\u009b\x07\x0d\u202e' # what people see of the text, as written here

node_make V
node_init E >"$WORK/E.key"
ok a V peer add "$(cat "$WORK/E.key")" --name E
"$EVIL" "$WORK/E" "$(cat "$WORK/V.key")" "$(addr V)" terminal 10 >"$WORK/evil.out" 2>&1 ||
	{ cat "$WORK/evil.out" >&2; fail "agora-evil terminal failed"; }
# A function, so that each look asks V again (the arguments of until_ok are expanded once).
e_stored() { [ "$(feed_seq V "$(cat "$WORK/E.key")")" = 3 ]; }
until_ok 10 e_stored || fail "V did not store E's three records (it holds $(feed_seq V "$(cat "$WORK/E.key")"))"

# raw NAME: fails if $WORK/out or $WORK/err holds a byte or character that drives a terminal.
raw() {
	python3 - "$WORK/out" "$WORK/err" "$1" <<'PY' || fail "$1 printed text raw"
import sys
bad = {b"\x1b": "ESC", b"\x07": "BEL", b"\r": "CR", b"\x08": "BS", b"\xc2\x9b": "U+009B",
       b"\xe2\x80\xae": "U+202E"}
for path in sys.argv[1:3]:
    data = open(path, "rb").read()
    for b, what in bad.items():
        if b in data:
            sys.exit("%s: %s raw in %s" % (sys.argv[3], what, path))
PY
}
# run CMD...: the command's stdout and stderr in $WORK/out and $WORK/err, then raw.
run() {
	a V "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || true
	raw "$*"
}
shown() { grep -qF -- "$1" "$WORK/out" || fail "$2: '$1' is not shown"; }

run list
shown "Titre $SHOWN" "list"
shown "piege\\u202etxt" "list (the id)"
run list --all
shown 'Ville \u009b\u202eFausse' "list --all (a member record's name)"
run list --city E practice
shown "Titre $SHOWN" "list --city E"
run get practice "$ID" --city E
shown '\u009b' "get" # the body as JSON, which escapes C0 itself
shown '\u202e' "get"
run show practice "$ID" --city E
shown '\u009b' "show (the title, raw as JSON: its schema refuses controls)"
shown '\u202e' "show (the title)"
shown 'Ligne\x0ddeux \u202e fin' "show (the summary, laid out)"
grep -q '^ *Ligne un$' "$WORK/out" || fail "show: the summary's CR LF is not a line break"
run show survey s1 --city E
shown "Q$SHOWN" "show (an unknown type's field name)"
run get survey s1 --city E
run search "Titre"
shown "Titre $SHOWN" "search (the hit)"
run search "deux"
shown 'deux \u202e fin' "search (the snippet)"
run status
run peer list
run peer log
shown 'Ville \u009b\u202eFausse' "peer log (the name a member record gives)"
run news
shown "Titre $SHOWN" "news"
run history practice "$ID" --city E
run log --city E
shown "piege\\u202etxt" "log (the id)"
run fork list
run check
run get practice "$ID"$'\e[2J' --city E
grep -qF "piege\\u202etxt\\x1b[2J" "$WORK/err" || fail "the error does not quote the id, escaped"
echo "ok: list, get, show, search, status, peer list, peer log, news, history, log, fork list, check and errors print nothing raw"

# export: exact to a pipe, as a spreadsheet reads it; cleaned to a terminal (script's pty,
# which ends its lines with CR LF itself: CR is not looked for there).
a V export --format csv --city E >"$WORK/out"
grep -q $'\e\[2J' "$WORK/out" || fail "export --format csv to a pipe is not exact"
for fmt in csv md; do
	script -qec "$AGORA --dir $WORK/V export --format $fmt --city E" /dev/null >"$WORK/out" </dev/null ||
		fail "export --format $fmt on a terminal failed"
	tr -d '\r' <"$WORK/out" >"$WORK/out.lf" && mv "$WORK/out.lf" "$WORK/out"
	: >"$WORK/err"
	raw "export --format $fmt on a terminal"
	shown '\u009b' "export --format $fmt on a terminal"
done
echo "ok: export is exact to a pipe, cleaned on a terminal"

# --json is exact: the title as E wrote it.
a V --json get practice "$ID" --city E >"$WORK/out"
python3 - "$WORK/out" <<'PY' || fail "--json does not give the title exact"
import json, sys
title = json.load(open(sys.argv[1]))["body"]["title"]
assert title == "Titre \x1b[2J\x9b\a\r\u202epiège", repr(title)
PY
echo "ok: --json gives the text exact"
