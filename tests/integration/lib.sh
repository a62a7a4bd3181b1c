# lib.sh: helpers for integration tests: real agorad processes on loopback,
# each in its own temporary directory, all stopped and removed on exit.
set -euo pipefail
BIN=${AGORA_BIN:?AGORA_BIN must name the build directory}
AGORAD=$BIN/agorad
WORK=$(mktemp -d "${TMPDIR:-/tmp}/agora-it-XXXXXX")
AGORA=$BIN/agora
PIDS=()
VG_SUPP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/valgrind.supp
SLOW=1 # tests multiply their waits by this; valgrind runs programs 20-50 times slower
# An AddressSanitizer build (CMakeCache.txt says so) runs programs 2-3 times slower, and
# CI runs it with every test at once on a loaded machine: its waits are tripled too.
SANITIZED=0
grep -q '^AGORA_SANITIZE:BOOL=ON' "$BIN/CMakeCache.txt" 2>/dev/null && SANITIZED=1 SLOW=3

# With AGORA_VALGRIND=1 every agorad, and with AGORA_VALGRIND_CLI=1 every agora too,
# runs under memcheck through a wrapper that execs valgrind, so $! is still the
# program's pid. Each process logs to $WORK/valgrind/NAME.PID.log. AGORA_VALGRIND_OPTS
# adds options (--show-leak-kinds=all, --suppressions=FILE).
vg_wrap() { # vg_wrap NAME: prints the wrapper's path
	mkdir -p "$WORK/valgrind"
	printf '#!/bin/sh\nexec valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no --num-callers=30 --suppressions=%s %s --log-file=%s/valgrind/%s.%%p.log %s "$@"\n' \
		"$VG_SUPP" "${AGORA_VALGRIND_OPTS:-}" "$WORK" "$1" "$BIN/$1" > "$WORK/valgrind/$1"
	chmod +x "$WORK/valgrind/$1"
	echo "$WORK/valgrind/$1"
}
if [ "${AGORA_VALGRIND:-0}" = 1 ]; then
	command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 77; }
	AGORAD=$(vg_wrap agorad)
	[ "${AGORA_VALGRIND_CLI:-0}" = 1 ] && AGORA=$(vg_wrap agora)
	SLOW=10
fi

# vg_check [PID]: fails, printing the log, if the valgrind log of PID (default: of
# every process) reports a memory error, or a definite or indirect leak. A process
# killed by a signal cannot report its leaks truthfully (SIGKILL: not at all), so
# only the errors it reported until then count.
vg_check() {
	local f bad=0 pid=${1:-*}
	for f in "$WORK"/valgrind/*.$pid.log; do
		[ -f "$f" ] || continue
		if grep -qE '^==[0-9]+== (Invalid |Mismatched |Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Argument .* fishy|Jump to the invalid|Process terminating with default action of signal (4|6|7|8|11) )' "$f" ||
			{ grep -qE 'ERROR SUMMARY: [1-9]' "$f" && ! grep -q 'Process terminating with default action' "$f"; }; then
			echo "valgrind: errors in $f:" >&2
			head -n 200 "$f" >&2
			mv "$f" "$f.reported" # told once, not again at exit
			bad=1
		fi
	done
	return $bad
}

# pids_ours: the pids of PIDS that are still this shell's children. A daemon the
# test stopped or killed has given its pid back, and with ctest -j and pid_max
# 32768 the kernel may hand it to another program before the test ends: another
# test's agorad, which a kill at cleanup would stop (test_sample's Valmoreuil
# was, once, "Terminated" in the middle of its run).
pids_ours() {
	local pid stat ppid
	for pid in "${PIDS[@]}"; do
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		read -r _ ppid _ <<<"${stat##*") "}"
		[ "$ppid" = $$ ] && echo "$pid"
	done
	return 0
}

cleanup() {
	local pid status=$? ours
	ours=$(pids_ours)
	for pid in $ours; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in $ours; do wait "$pid" 2>/dev/null || true; done
	vg_check || status=1
	free_ports_release
	if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work kept in $WORK" >&2; else rm -rf "$WORK"; fi
	exit $status
}
trap cleanup EXIT

# fail WHY: says why, with the last command's output ($WORK/out, $WORK/err, where a
# test keeps them) and the tail of every log, and ends the test.
fail() {
	echo "FAIL: $*" >&2
	[ -f "$WORK/out" ] && { echo "--- stdout" >&2; head -c 3000 "$WORK/out" >&2; }
	[ -f "$WORK/err" ] && { echo "--- stderr" >&2; cat "$WORK/err" >&2; }
	for f in "$WORK"/*.log "$WORK"/*/agorad.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
	exit 1
}

# a NAME ARGS...: the CLI against NAME's node.
a() { local name=$1; shift; "$AGORA" --dir "$WORK/$name" "$@"; }

# until_ok SECONDS CMD...: until CMD succeeds (quietly), or 1 after SECONDS (times SLOW).
until_ok() {
	local end=$((SECONDS + $1 * SLOW))
	shift
	while [ "$SECONDS" -lt "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

# gone NAME ARGS...: agora ARGS (a get) on NAME exits 1, no such record; not 3, agorad
# unreachable, or any other failure, which must not pass for the record's absence.
gone() {
	local rc=0
	a "$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 1 ]
}

# ok CMD...: exit 0, nothing on stderr; stdout in $WORK/out.
ok() {
	local rc=0
	"$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
	[ "$rc" = 0 ] || fail "$* exited $rc"
	[ -s "$WORK/err" ] && fail "$* wrote to stderr"
	return 0
}

# addr NAME: NAME's listening address.
addr() { echo "127.0.0.1:$(node_port "$1")"; }

# feed_seq AT KEY: the seq of KEY's feed as AT holds it (0 if none).
feed_seq() {
	a "$1" --json status | python3 -c '
import json, sys
print(max([f["seq"] for f in json.load(sys.stdin)["feeds"] if f["author"] == sys.argv[1]] or [0]))' "$2"
}

# free_port: a TCP port on 127.0.0.1 that this test alone may bind until it exits.
# A port the kernel hands out (bind to port 0) is free only until agorad binds
# it, which may be seconds later or after a restart, and any process's bind to
# port 0 or connect may take it meanwhile (another test of the same ctest -j, or
# of another run on the machine). So it is drawn outside the kernel's ephemeral
# range, which neither of those uses, and reserved as $PORTS/PORT, a directory
# naming the test's pid: a reservation whose test is gone is taken over.
PORTS=${TMPDIR:-/tmp}/agora-ports
free_port() {
	python3 - "$PORTS" "$$" <<'PY' | tee -a "$WORK/ports-reserved"
import os, random, shutil, socket, sys, time
root, owner = sys.argv[1], sys.argv[2]
os.makedirs(root, exist_ok=True)
lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
ranges = [r for r in ((10000, lo - 1), (hi + 1, 65000)) if r[1] - r[0] >= 1000] or [(1024, 65000)]
def alive(pid):
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True
def held(d):  # by a live test, or made under a minute ago (its pid being written)
    try:
        return alive(open(os.path.join(d, "pid")).read()) or time.time() - os.stat(d).st_mtime < 60
    except OSError:
        return os.path.isdir(d)
for _ in range(1000):
    port = random.randint(*random.choice(ranges))
    d = os.path.join(root, str(port))
    try:
        os.mkdir(d)
    except FileExistsError:
        if held(d):
            continue
        try:
            os.rename(d, d + ".%s.stale" % owner)  # atomic: one test takes it over
            shutil.rmtree(d + ".%s.stale" % owner)
        except OSError:
            pass
        continue
    with open(os.path.join(d, "pid"), "w") as f:
        f.write(owner)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as libuv binds
    try:
        s.bind(("127.0.0.1", port))
    except OSError:  # some other program's: leave it to it
        shutil.rmtree(d)
        continue
    s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port")
PY
}
# free_ports_release: the reservations of this test's ports go (cleanup does it).
free_ports_release() {
	local port
	[ -f "$WORK/ports-reserved" ] || return 0
	while read -r port; do
		[ "$(cat "$PORTS/$port/pid" 2>/dev/null)" = $$ ] && rm -rf "${PORTS:?}/$port"
	done <"$WORK/ports-reserved"
	return 0
}

# node_init NAME: a node directory $WORK/NAME with a fresh key; prints its key.
node_init() {
	local name=$1 port
	port=$(free_port)
	mkdir -p "$WORK/ports"
	echo "$port" > "$WORK/ports/$name"
	"$BIN/tests/agora-mkinit" "$WORK/$name" "$name" "127.0.0.1:$port"
}

node_port() { cat "$WORK/ports/$1"; }

# node_peer A B KEY_OF_B: A's config names B as a peer.
node_peer() {
	printf '\n[Peer]\nName = %s\nPublicKey = %s\nEndpoint = 127.0.0.1:%s\n' "$2" "$3" "$(node_port "$2")" \
		>> "$WORK/$1/agorad.conf"
}

# node_start NAME: runs agorad for NAME in the background; its pid in $WORK/NAME/pid.
node_start() {
	"$AGORAD" --dir "$WORK/$1" -v >> "$WORK/$1/agorad.log" 2>&1 &
	PIDS+=($!)
	echo $! > "$WORK/$1/pid"
}

node_stop() {
	local pid
	pid=$(cat "$WORK/$1/pid")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	vg_check "$pid" || fail "$1: valgrind reported errors"
}

# wait_log NAME PATTERN [SECONDS]: until NAME's log has a line matching PATTERN.
wait_log() {
	local i
	for ((i = 0; i < ${3:-10} * 10 * SLOW; i++)); do
		grep -qE "$2" "$WORK/$1/agorad.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1: no log line matching '$2'"
}

# node_link A B: each adds the other as a peer, by the keys in $WORK/A.key and $WORK/B.key.
node_link() {
	a "$1" peer add "$(cat "$WORK/$2.key")" --name "$2" --endpoint "$(addr "$2")" >/dev/null
	a "$2" peer add "$(cat "$WORK/$1.key")" --name "$1" --endpoint "$(addr "$1")" >/dev/null
}

# node_make NAME: node_init (its key in $WORK/NAME.key), node_start, until it answers.
node_make() {
	node_init "$1" > "$WORK/$1.key"
	node_start "$1"
	until_ok 5 a "$1" status || fail "$1 does not answer"
}

# node_restore NAME DATA: NAME's store replaced by a copy of DATA (an old one), started, answering.
node_restore() {
	rm -rf "$WORK/$1/data"
	cp -a "$2" "$WORK/$1/data"
	node_start "$1"
	until_ok 5 a "$1" status || fail "restored $1 does not answer"
}

# node_city NAME: a node made by agora init itself (agora-mkinit makes no recovery key),
# running; its key in $WORK/NAME.key, the recovery key's saved text in
# $WORK/NAME.recovery (outside DIR, as a city keeps it), init's output in $WORK/NAME.init.
node_city() {
	local port
	port=$(free_port)
	mkdir -p "$WORK/ports"
	echo "$port" >"$WORK/ports/$1"
	"$AGORA" init --dir "$WORK/$1" --name "$1" --listen "127.0.0.1:$port" >"$WORK/$1.init" ||
		fail "init $1"
	head -n 1 "$WORK/$1.init" >"$WORK/$1.key"
	sed -n '/^-----$/,/^-----$/p' "$WORK/$1.init" | sed '1d;$d' >"$WORK/$1.recovery"
	node_start "$1"
	until_ok 5 a "$1" status || fail "$1 does not answer"
}

# node_line A B C: three node_city nodes linked A - B - C, each ready to publish.
node_line() {
	local n
	for n in "$@"; do node_city "$n"; done
	node_link "$1" "$2"
	node_link "$2" "$3"
	for n in "$@"; do node_ready "$n"; done
}

# node_ready NAME [SECONDS]: until NAME's agorad may publish. A node with peers
# first learns its own feed's head from one of them (a restored backup must
# not fork its feed), so a put right after start can be told to wait.
node_ready() {
	local i
	for ((i = 0; i < ${2:-10} * 10 * SLOW; i++)); do
		"$AGORA" --dir "$WORK/$1" --json status 2>/dev/null | grep -qE '"ready": *true' && return 0
		sleep 0.1
	done
	fail "$1: not ready to publish (no peer told it its own feed's head)"
}
