#!/usr/bin/env bash
# Hints where users stumble: agorad before agora init says to run it; a typo
# of a command or subcommand gets "did you mean"; a member of staff refused by
# the control socket (EACCES) is told which group to join and how (this part
# needs root, to run agora as another user, and is skipped otherwise). A full
# disk is test_disk's.
. "$(dirname "$0")/lib.sh"
export TZ=UTC LANG=C.UTF-8
unset AGORA_DIR

# one_line STATUS PATTERN CMD...: exits STATUS, one line on stderr matching PATTERN.
one_line() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
	[ "$rc" = "$want" ] || fail "$* exited $rc, not $want: $(cat "$WORK/err")"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "$*: not one line on stderr: $(cat "$WORK/err")"
	grep -qE -- "$pattern" "$WORK/err" || fail "$*: stderr: $(cat "$WORK/err")"
}

one_line 1 "^error: no node.key in $WORK/none: run agora init --dir $WORK/none --name NAME first$" "$AGORAD" --dir "$WORK/none"
[ -e "$WORK/none" ] && fail "agorad made DIR before init"
mkdir "$WORK/empty"
one_line 1 "no node.key in $WORK/empty: run agora init" "$AGORAD" --dir "$WORK/empty"
echo "ok: agorad before agora init says to run it"

one_line 2 '^agora: unknown command "stauts"; did you mean "status"\?' "$AGORA" stauts
one_line 2 '^agora: unknown command "chek"; did you mean "check"\?' "$AGORA" chek
one_line 2 '^agora: peer: unknown subcommand "lsit"; did you mean "peer list"\?' "$AGORA" peer lsit
one_line 2 '^agora: unknown command "xyzzy" \(see agora help\)$' "$AGORA" xyzzy
echo "ok: did you mean, for commands and subcommands"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "skip: EACCES hint: needs root and setpriv"
	echo "2 passed, 0 failed"
	exit 0
fi
A=$(node_init Lyon)
node_start Lyon
until_ok 10 a Lyon status || fail "Lyon does not answer"
# The socket's group is daemon, as agora's would be; nobody is not in it.
chmod 0755 "$WORK"
chgrp daemon "$WORK/Lyon" "$WORK/Lyon/agorad.sock"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
one_line 3 "^agora: cannot reach agorad at $WORK/Lyon/agorad.sock: Permission denied: nobody is not in group daemon, whose members may use agorad \(sudo adduser nobody daemon, then log in again\)$" \
	as_nobody "$AGORA" --dir "$WORK/Lyon" status
# In the group: it works.
setpriv --reuid=nobody --regid=nogroup --groups daemon "$AGORA" --dir "$WORK/Lyon" status >/dev/null ||
	fail "a member of the socket's group is refused"
echo "ok: a user not in the socket's group is told which group and how to join"
echo "3 passed, 0 failed"
