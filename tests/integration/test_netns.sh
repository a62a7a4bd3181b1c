#!/usr/bin/env bash
# Five cities, each in its own network namespace, on a bridge in a sixth; every
# namespace drops 10% of the packets it receives (nftables: this kernel has no
# netem) and sends through a tbf rate limit. Peers form a ring with one chord.
#   restart: Lyon starts with a large feed (agora-fill); Tunis, its neighbour, is
#     killed with SIGKILL in the middle of the sync and restarted; all converge,
#     and every feed on every node holds seqs 1..head exactly once;
#   converge: records published on all five reach all five;
#   heal: Napoli is cut off (nftables drops all), records are published on both
#     sides, the cut is healed, and all converge again.
# Prints netns.sync_ms (the whole large sync, with the kill),
# netns.restart_converge_ms, netns.converge_ms and netns.heal_ms.
# NETNS_ENTRIES, NETNS_RATE, NETNS_LOSS and NETNS_BUDGET (seconds) change the
# feed's size, the rate, the loss (0 to compare) and the time allowed.
# Needs root (network namespaces); without it, or without ip, nft or tc, it is
# skipped (exit 77), never passed.
skip() {
	echo "SKIP: $*" >&2
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "not root: making network namespaces needs CAP_SYS_ADMIN"
for tool in ip nft tc python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (contrib/install-deps.sh installs it)"
done

. "$(dirname "$0")/lib.sh"

BIG=${NETNS_ENTRIES:-20000}  # entries of Lyon's large feed
RATE=${NETNS_RATE:-20mbit}   # each namespace's outgoing rate
LOSS=${NETNS_LOSS:-10}       # percent of incoming packets each namespace drops
DEADLINE=$((SECONDS + ${NETNS_BUDGET:-170} * SLOW)) # the whole test's time
CITIES=(Lyon Tunis Napoli Sfax Valencia)
EDGES=("Lyon Tunis" "Tunis Napoli" "Napoli Sfax" "Sfax Valencia" "Valencia Lyon" "Tunis Sfax")

# Names unique to this run, so two runs can share the machine; the pid in them
# lets a later run remove what a killed run (SIGKILL skips traps) left behind.
RUN=agnt-$$-$(printf '%04x' $((RANDOM)))
NET=10.$((RANDOM % 200 + 20)).$((RANDOM % 256)) # a /24 of its own, for the reader's peace
HUB=$RUN-hub
ns_of() { echo "$RUN-$1"; }
ip_of() { # the city's address: its index in CITIES, from .1
	local i
	for i in "${!CITIES[@]}"; do [ "${CITIES[$i]}" = "$1" ] && echo "$NET.$((i + 1))"; done
}

alive() { # how many of our daemons still run (a zombie has exited: not counted)
	local pid n=0
	for pid in $(pids_ours); do
		grep -qE '^State:\s+[^Z]' "/proc/$pid/status" 2>/dev/null && n=$((n + 1))
	done
	echo $n
}

# Daemons first (a namespace lives while a process is in it): SIGTERM, so they
# close cleanly (and valgrind can report), SIGKILL for any still there after 5 s.
# Then the namespaces, then lib.sh's cleanup (work dir, valgrind check), with
# the status we exit with.
netns_cleanup() {
	local status=$? pid ns i ours
	ours=$(pids_ours) # lib.sh: never a pid given since to another test's process
	for pid in $ours; do kill -TERM "$pid" 2>/dev/null || true; done
	for ((i = 0; i < 50 * SLOW && $(alive) > 0; i++)); do sleep 0.1; done
	for pid in $ours; do kill -KILL "$pid" 2>/dev/null || true; done
	for pid in $ours; do wait "$pid" 2>/dev/null || true; done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$RUN-"); do
		ip netns delete "$ns" 2>/dev/null || echo "could not delete namespace $ns" >&2
	done
	(exit $status)
	cleanup
	exit $status
}
trap netns_cleanup EXIT
trap 'exit 130' INT TERM HUP

# Namespaces of runs whose shell is gone, with what still runs in them.
remove_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^agnt-[0-9]+-'); do
		pid=${ns#agnt-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null && continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
		ip netns delete "$ns" 2>/dev/null || true
	done
}

# make_net: the hub with its bridge, and a namespace per city on it.
make_net() {
	local c ns i=0
	ip netns add "$HUB" 2>"$WORK/netns.err" || skip "cannot make a network namespace: $(cat "$WORK/netns.err")"
	ip -n "$HUB" link set lo up
	ip -n "$HUB" link add br0 type bridge
	ip -n "$HUB" link set br0 up
	for c in "${CITIES[@]}"; do
		ns=$(ns_of "$c")
		i=$((i + 1))
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip -n "$HUB" link add "v$i" type veth peer name eth0 netns "$ns"
		ip -n "$HUB" link set "v$i" master br0 up
		ip -n "$ns" addr add "$(ip_of "$c")/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$RATE" burst 64kbit latency 200ms
		ip netns exec "$ns" nft -f - <<-EOF
			table inet loss {
				chain in {
					type filter hook input priority 0; policy accept;
					iifname "eth0" numgen random mod 100 < $LOSS drop
				}
			}
		EOF
	done
}

a() {
	local city=$1
	shift
	"$AGORA" --dir "$WORK/$city" "$@"
}
key() { cat "$WORK/$1.key"; }

# ns_start CITY: agorad in the city's namespace ("ip netns exec" execs it, so $! is its pid).
ns_start() {
	ip netns exec "$(ns_of "$1")" "$AGORAD" --dir "$WORK/$1" -v >>"$WORK/$1/agorad.log" 2>&1 &
	PIDS+=($!)
	echo $! >"$WORK/$1/pid"
}

# until_ok SECONDS CMD...: until CMD succeeds, within SECONDS and the test's deadline.
until_ok() {
	local end=$((SECONDS + $1 * SLOW))
	shift
	[ "$end" -gt "$DEADLINE" ] && end=$DEADLINE
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

now_ms() { date +%s%3N; }

# report: every city's status in $WORK/status/CITY.json (a city that does not
# answer has none), then one line per feed a city lacks, nothing when all agree.
# A feed's head is what its author says of it, and at least MIN_<city> if set.
report() {
	local c
	rm -rf "$WORK/status"
	mkdir -p "$WORK/status"
	for c in "${CITIES[@]}"; do
		a "$c" --json status >"$WORK/status/$c.json" 2>/dev/null || rm -f "$WORK/status/$c.json"
	done
	python3 - "$WORK" "${CITIES[@]}" <<-'EOF'
		import json, os, sys
		work, cities = sys.argv[1], sys.argv[2:]
		keys = {c: open(f"{work}/{c}.key").read().strip() for c in cities}
		status = {}
		for c in cities:
		    try:
		        status[c] = {f["author"]: f["seq"] for f in json.load(open(f"{work}/status/{c}.json"))["feeds"]}
		    except (OSError, ValueError, KeyError):
		        print(f"{c} does not answer")
		for author in cities:
		    head = status.get(author, {}).get(keys[author], 0)
		    want = int(os.environ.get("MIN_" + author, "0"))
		    if head < want:
		        print(f"{author} holds its own feed at {head}, published {want}")
		    for c in status:
		        got = status[c].get(keys[author], 0)
		        if got != head:
		            print(f"{c} holds {author}'s feed at {got} of {head}")
	EOF
}
converged() { [ -z "$(report)" ]; }

# wait_converged WHAT SECONDS: fails, naming who lacks what, if not converged in time.
wait_converged() {
	until_ok "$2" converged || fail "$1: not converged in $2 s: $(report | head -n 10 | paste -sd ';')"
}

# feed_seq AT OF: the seq of OF's feed as AT holds it (0 if AT does not answer).
feed_seq() {
	a "$1" --json status 2>/dev/null | python3 -c '
import json, sys
want = sys.argv[1]
print(max([f["seq"] for f in json.load(sys.stdin)["feeds"] if f["author"] == want] or [0]))' "$(key "$2")" 2>/dev/null ||
		echo 0
}

# put CITY ID TITLE: publishes a practice, and remembers its seq as the least head of CITY's feed.
put() {
	local seq
	seq=$(echo "{\"title\": \"$3\", \"summary\": \"$3\", \"topics\": [\"housing\"]}" | a "$1" --json put practice "$2" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["seq"])' 2>/dev/null) || fail "$1: put $2 failed"
	export "MIN_$1=$seq"
}

# check_feeds: every city holds every feed as seqs 1..head, each once. A feed
# checked before is read again only from the head it had then (CHECKED_<city>):
# a 20,000-entry feed read five times is slow under the sanitizers.
check_feeds() {
	local c author head from var
	for author in "${CITIES[@]}"; do
		head=$(feed_seq "$author" "$author")
		var=CHECKED_$author
		from=${!var:-1}
		for c in "${CITIES[@]}"; do
			a "$c" log --city "$(key "$author")" --since "$from" --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
entries = doc["entries"] if isinstance(doc, dict) else doc
seqs = [e["seq"] for e in entries]
first, n = int(sys.argv[1]), int(sys.argv[2])
if seqs != list(range(first, n + 1)):
    dup = len(seqs) - len(set(seqs))
    sys.exit(f"{len(seqs)} entries ({dup} duplicated), not {first}..{n} once each")' "$from" "$head" ||
				fail "$c: $author's feed: entries lost or duplicated"
		done
		printf -v "$var" '%s' "$head"
	done
}

remove_stale
make_net

for c in "${CITIES[@]}"; do
	"$BIN/tests/agora-mkinit" "$WORK/$c" "$c" "$(ip_of "$c"):7447" >"$WORK/$c.key" || fail "$c: mkinit"
done
# peer A B: A's config names B, at B's address in its namespace.
peer() {
	printf '\n[Peer]\nName = %s\nPublicKey = %s\nEndpoint = %s:7447\n' "$2" "$(key "$2")" "$(ip_of "$2")" \
		>>"$WORK/$1/agorad.conf"
}
for e in "${EDGES[@]}"; do
	read -r x y <<<"$e"
	peer "$x" "$y"
	peer "$y" "$x"
done
"$BIN/tests/agora-fill" "$WORK/Lyon" "$BIG" || fail "agora-fill"
echo "net: $NET.0/24, namespaces $RUN-*, loss $LOSS% in, rate $RATE out; Lyon holds $BIG entries"

# --- restart: SIGKILL in the middle of a large sync ---
t0=$(now_ms)
for c in "${CITIES[@]}"; do ns_start "$c"; done
for c in "${CITIES[@]}"; do until_ok 10 a "$c" status || fail "$c does not answer"; done
head=$(feed_seq Lyon Lyon)
[ "$head" -ge "$BIG" ] || fail "Lyon holds its feed at $head, filled $BIG"
got=0
end=$((SECONDS + 60 * SLOW))
while [ "$SECONDS" -lt "$end" ]; do
	got=$(feed_seq Tunis Lyon)
	[ "$got" -gt $((head / 20)) ] && break
	sleep 0.1
done
kill -KILL "$(cat "$WORK/Tunis/pid")"
wait "$(cat "$WORK/Tunis/pid")" 2>/dev/null || true
{ [ "$got" -gt 0 ] && [ "$got" -lt "$head" ]; } || fail "Tunis was not killed in the middle of the sync ($got of $head)"
t1=$(now_ms)
ns_start Tunis
until_ok 10 a Tunis status || fail "Tunis does not answer after its restart"
wait_converged "after Tunis's restart" 100
t2=$(now_ms)
check_feeds
echo "ok: Tunis killed at $got of $head entries of Lyon's feed, restarted; all converged, nothing lost or duplicated"
echo "netns.sync_ms: $((t2 - t0))"
echo "netns.restart_converge_ms: $((t2 - t1))"

# --- converge: records published on all five ---
t0=$(now_ms)
for c in "${CITIES[@]}"; do put "$c" "conv-$c" "publié à $c"; done
wait_converged "records published on all five" 30
t1=$(now_ms)
for c in "${CITIES[@]}"; do
	a Valencia get practice "conv-$c" --city "$c" | grep -q "publié à $c" || fail "Valencia: conv-$c altered"
done
echo "ok: records published on all five converged"
echo "netns.converge_ms: $((t1 - t0))"

# --- heal: Napoli cut off, both sides publish, the cut is healed ---
ip netns exec "$(ns_of Napoli)" nft -f - <<-'EOF'
	table inet cut {
		chain in { type filter hook input priority -10; policy accept; iifname "eth0" drop; }
		chain out { type filter hook output priority -10; policy accept; oifname "eth0" drop; }
	}
EOF
put Napoli cut-Napoli "pendant la coupure, à Napoli"
put Lyon cut-Lyon "pendant la coupure, à Lyon"
put Sfax cut-Sfax "pendant la coupure, à Sfax"
until_ok 10 a Valencia get practice cut-Sfax --city Sfax || fail "cut-Sfax did not reach Valencia during the cut"
until_ok 10 a Tunis get practice cut-Lyon --city Lyon || fail "cut-Lyon did not reach Tunis during the cut"
gone Napoli get practice cut-Lyon --city Lyon || fail "cut-Lyon crossed the cut to Napoli"
gone Sfax get practice cut-Napoli --city Napoli || fail "cut-Napoli crossed the cut to Sfax"
sleep 3 # a cut long enough for retransmissions and dials to back off
t0=$(now_ms)
ip netns exec "$(ns_of Napoli)" nft delete table inet cut
wait_converged "after the cut was healed" 60
t1=$(now_ms)
echo "ok: Napoli cut off and healed; all converged"
echo "netns.heal_ms: $((t1 - t0))"

check_feeds
echo "ok: every feed on every node is 1..head, once each"
echo "3 passed, 0 failed"
