#!/usr/bin/env bash
# agora check: exit 0 and "healthy" when all is well, else exit 1 and one
# line per problem (not ready, no peer, a silent peer, a forked feed; the
# disk's problem is test_disk's), with --json the same as a list of kinds;
# agora status says when the node is not ready, and still exits 0.
. "$(dirname "$0")/lib.sh"
export TZ=UTC LANG=C.UTF-8
unset AGORA_DIR

# check NAME: runs agora check on NAME; its exit status in $rc, output in $WORK/out.
check() {
	rc=0
	a "$1" check >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ -s "$WORK/err" ] && fail "check wrote to stderr"
	return 0
}
kinds() { a "$1" --json check | python3 -c 'import json,sys; print(" ".join(sorted(p["kind"] for p in json.load(sys.stdin)["problems"])))' || true; }
put() { echo "{\"title\": \"$2\", \"summary\": \"$2\", \"topics\": [\"housing\"]}" | a "$1" put practice "$2" "${@:3}"; }

A=$(node_init Lyon)
B=$(node_init Tunis)
sed -i '/^\[Node\]/a SilentAfter = 2s' "$WORK/Lyon/agorad.conf"
"$AGORAD" --dir "$WORK/Lyon" --check | grep -qx 'SilentAfter = 2s' || fail "--check does not keep SilentAfter"

# Alone, no peer: one problem.
node_start Lyon
until_ok 5 a Lyon status || fail "Lyon does not answer"
check Lyon
[ "$rc" = 1 ] || fail "check exited $rc with no peer"
[ "$(wc -l <"$WORK/out")" = 1 ] && grep -q '^no peer configured' "$WORK/out" || fail "no peer: $(cat "$WORK/out")"
[ "$(kinds Lyon)" = no-peer ] || fail "--json kinds: $(kinds Lyon)"
echo "ok: no peer configured: exit 1, one line"

# A peer that is down: not ready, none connected, and after SilentAfter, silent.
node_stop Lyon
node_peer Lyon Tunis "$B"
node_peer Tunis Lyon "$A"
node_start Lyon
until_ok 5 a Lyon status || fail "Lyon does not answer"
ok a Lyon status
grep -q 'not ready' "$WORK/out" || fail "status does not say it is not ready: $(cat "$WORK/out")"
sleep 2.5
check Lyon
[ "$rc" = 1 ] || fail "check exited $rc"
grep -q '^not ready: waiting to learn its own feed from a peer.*, since its store holds none of its own feed' "$WORK/out" ||
	fail "not ready, and why: $(cat "$WORK/out")"
grep -q '^no peer connected (1 configured)' "$WORK/out" || fail "none connected: $(cat "$WORK/out")"
grep -q '^peer Tunis not heard from since agorad started, [0-9]* s ago' "$WORK/out" || fail "silent: $(cat "$WORK/out")"
[ "$(wc -l <"$WORK/out")" = 3 ] || fail "three problems expected: $(cat "$WORK/out")"
[ "$(kinds Lyon)" = "no-peer not-ready silent" ] || fail "--json kinds: $(kinds Lyon)"
echo "ok: not ready, no peer connected, a silent peer: one line each"

# The peer comes: healthy, exit 0 (unless this machine's disk is nearly full).
node_start Tunis
node_ready Lyon 15
check Lyon
if [ "$(kinds Lyon)" = disk ]; then echo "skip: healthy: the disk of $WORK is nearly full"; else
	[ "$rc" = 0 ] && [ "$(cat "$WORK/out")" = healthy ] || fail "healthy node: exit $rc: $(cat "$WORK/out")"
	a Lyon --json check >"$WORK/out" && python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == {"problems": []}' "$WORK/out" ||
		fail "--json of a healthy node: $(cat "$WORK/out")"
	echo "ok: healthy: exit 0"
fi

# Silent after a contact: Tunis goes away for longer than SilentAfter.
node_stop Tunis
sleep 2.5
check Lyon
grep -q '^peer Tunis silent for [0-9]* s (SilentAfter is 2 s)' "$WORK/out" || fail "silent after contact: $(cat "$WORK/out")"
grep -q 'not ready' "$WORK/out" && fail "ready lost when a peer went away"
echo "ok: a peer silent since its last contact"

# A fork: Lyon's old copy, restored and made to publish with --force, forks its feed.
put Lyon r1 >/dev/null
node_stop Lyon
cp -a "$WORK/Lyon/data" "$WORK/old-data"
node_start Lyon
node_start Tunis
until_ok 10 a Tunis get practice r1 --city Lyon || fail "r1 did not reach Tunis"
put Lyon r2 >/dev/null
until_ok 10 a Tunis get practice r2 --city Lyon || fail "r2 did not reach Tunis"
node_stop Tunis
node_stop Lyon
node_restore Lyon "$WORK/old-data"
put Lyon r2-again --force >/dev/null || fail "forced put refused"
hellos=$(grep -c 'Tunis: hello' "$WORK/Lyon/agorad.log")
node_start Tunis
until_ok 15 sh -c "[ \$(grep -c 'Tunis: hello' '$WORK/Lyon/agorad.log') -gt $hellos ]" || fail "Tunis did not connect"
# Tunis sees the fork from the heads they exchange, or else from Lyon's next entry
# (whose prev is the forced r2-again); Lyon may refuse it, once it knows of the fork.
put Lyon r3 >/dev/null 2>&1 || true
until_ok 15 sh -c "'$AGORA' --dir '$WORK/Tunis' check | grep -q '^feed of Lyon .* is forked'" || fail "Tunis does not report the fork: $(a Tunis check)"
[ "$(kinds Tunis | tr ' ' '\n' | grep -c fork)" = 1 ] || fail "--json kinds: $(kinds Tunis)"
echo "ok: a forked feed"

# Unreachable: exit 3, not 0 or 1.
node_stop Lyon
rc=0
a Lyon check >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "check of a stopped node exited $rc"
echo "ok: check of a stopped node exits 3"
echo "6 passed, 0 failed"
