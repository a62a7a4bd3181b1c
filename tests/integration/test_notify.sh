#!/usr/bin/env bash
# agorad under systemd's notification protocol, with a unix datagram socket of
# our own as NOTIFY_SOCKET: READY=1 once it listens, a STATUS= line that follows
# a peer connecting, WATCHDOG=1 pings when WATCHDOG_USEC asks for them (and none
# when it does not, or when WATCHDOG_PID names another process), STOPPING=1 on
# SIGTERM.
. "$(dirname "$0")/lib.sh"
passed=0

# listen NAME: a datagram socket $WORK/NAME.sock whose messages go, a line each
# (a message of several lines as several), to $WORK/NAME.msgs.
listen() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[3], "w").close()
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()' "$WORK/$1.sock" "$WORK/$1.msgs" "$WORK/$1.bound" &
	PIDS+=($!)
	until_ok 5 test -e "$WORK/$1.bound" || fail "the notify socket $1 is not bound"
}

# start_notified NAME SOCK [VAR=VALUE...]: NAME's agorad with NOTIFY_SOCKET=SOCK and the
# variables given; WATCHDOG_PID=self becomes agorad's own pid, as systemd sets it.
start_notified() {
	local name=$1 sock=$2
	shift 2
	(
		for v in "$@"; do
			[ "$v" = WATCHDOG_PID=self ] && v=WATCHDOG_PID=$BASHPID
			export "${v?}"
		done
		export NOTIFY_SOCKET=$WORK/$sock.sock
		exec "$AGORAD" --dir "$WORK/$name" -v >>"$WORK/$name/agorad.log" 2>&1
	) &
	PIDS+=($!)
	echo $! >"$WORK/$name/pid"
}

# msgs SOCK PATTERN: how many messages on SOCK match PATTERN.
msgs() { grep -cE "$2" "$WORK/$1.msgs" || true; }

A=$(node_init Lyon)
B=$(node_init Tunis)
node_peer Lyon Tunis "$B"
node_peer Tunis Lyon "$A"

# Lyon alone first: ready, 0 of its 1 peer connected; no watchdog was asked for.
listen lyon
start_notified Lyon lyon
until_ok 10 grep -qx READY=1 "$WORK/lyon.msgs" || fail "no READY=1"
until_ok 5 a Lyon status || fail "Lyon does not answer after READY=1"
grep -qxE 'STATUS=0/1 peers connected, [0-9,]+ feeds, [0-9,]+ records' "$WORK/lyon.msgs" ||
	fail "no STATUS= line for 0/1 peers: $(cat "$WORK/lyon.msgs")"
echo "ok: READY=1, with STATUS=$(sed -n 's/^STATUS=//p' "$WORK/lyon.msgs" | head -n 1)"
passed=$((passed + 1))

# Tunis comes up: within a refresh or two the line says so.
node_start Tunis
until_ok 15 grep -qxE 'STATUS=1/1 peers connected, [0-9,]+ feeds, [0-9,]+ records' \
	"$WORK/lyon.msgs" || fail "STATUS= never said 1/1 peers: $(cat "$WORK/lyon.msgs")"
echo "ok: STATUS=$(sed -n 's/^STATUS=//p' "$WORK/lyon.msgs" | tail -n 1)"
passed=$((passed + 1))
[ "$(msgs lyon '^WATCHDOG=')" = 0 ] || fail "WATCHDOG=1 though no watchdog was asked for"

node_stop Lyon
grep -qx STOPPING=1 "$WORK/lyon.msgs" || fail "no STOPPING=1 on SIGTERM"
echo "ok: no watchdog ping unasked; STOPPING=1 on SIGTERM"
passed=$((passed + 1))

# WatchdogSec=1s: a ping every 500 ms, from agorad's own loop.
listen dog
start_notified Lyon dog WATCHDOG_USEC=1000000 WATCHDOG_PID=self
until_ok 10 grep -qx READY=1 "$WORK/dog.msgs" || fail "no READY=1 with a watchdog"
sleep $((2 * SLOW))
n=$(msgs dog '^WATCHDOG=1$')
[ "$n" -ge 3 ] || fail "$n WATCHDOG=1 in $((2 * SLOW)) s with WATCHDOG_USEC=1000000"
echo "ok: $n WATCHDOG=1 in $((2 * SLOW)) s for a 1 s watchdog"
passed=$((passed + 1))
node_stop Lyon

# A watchdog meant for another process (WATCHDOG_PID) is not ours to ping.
listen other
start_notified Lyon other WATCHDOG_USEC=1000000 WATCHDOG_PID=1
until_ok 10 grep -qx READY=1 "$WORK/other.msgs" || fail "no READY=1"
sleep 1
[ "$(msgs other '^WATCHDOG=')" = 0 ] || fail "pinged a watchdog that WATCHDOG_PID gives to pid 1"
echo "ok: no ping for another process's watchdog"
passed=$((passed + 1))
node_stop Lyon

echo "$passed passed, 0 failed"
