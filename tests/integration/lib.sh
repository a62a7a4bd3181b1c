# lib.sh: helpers for integration tests: real agorad processes on loopback,
# each in its own temporary directory, all stopped and removed on exit.
set -euo pipefail
BIN=${AGORA_BIN:?AGORA_BIN must name the build directory}
AGORAD=$BIN/agorad
WORK=$(mktemp -d "${TMPDIR:-/tmp}/agora-it-XXXXXX")
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$WORK"/*/agorad.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
	exit 1
}

# A free TCP port on 127.0.0.1, as the kernel hands them out.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
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

node_stop() { kill -TERM "$(cat "$WORK/$1/pid")"; wait "$(cat "$WORK/$1/pid")" 2>/dev/null || true; }

# wait_log NAME PATTERN [SECONDS]: until NAME's log has a line matching PATTERN.
wait_log() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		grep -qE "$2" "$WORK/$1/agorad.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1: no log line matching '$2'"
}
