#!/usr/bin/env bash
# Hostile peers with a valid key (DESIGN.md, issue #8). A victim V replicates an
# honest peer H (which dials V: V has no endpoint for it); one evil peer E per
# case attacks V with agora-evil. While E attacks, V must:
#   - keep replicating H: a record published at H is seen at V within a bound;
#   - answer its CLI: `agora status` within STATUS_MS (200 ms, times SLOW) in the
#     median of a case, each within 5 x STATUS_MS; `agora search`;
#   - keep its memory bounded: the peak RSS under attack (VmHWM, reset before
#     each case through /proc/PID/clear_refs) stays under rest + 32 MB, plus
#     what the store's file grew by in the case (valid records of a peer are
#     stored, and LMDB reads them through its map, which RSS counts);
#   - store nothing of E's bad data (a fork: both entries kept as proof, the
#     author flagged, nothing after it);
#   - log the case once, with its reason, not once per frame, entry or connection.
# Figures: hostile.rss_rest_mb, and per case hostile.rss_attack_mb_<case>,
# hostile.delivery_ms_<case> (the slowest of H's records to reach V),
# hostile.status_ms_<case> and hostile.status_median_ms_<case> (`agora status`).
. "$(dirname "$0")/lib.sh"
AGORA=$BIN/agora
EVIL=$BIN/tests/agora-evil
ATTACK_S=${HOSTILE_SECONDS:-8}
RSS_SLACK_MB=32
# Under AddressSanitizer every allocation carries redzones and shadow memory,
# which roughly triples what a burst of allocations (the members case: 50,000
# records decoded) costs in RSS: the bound still catches a runaway there, and
# the normal build, which runs this test too, holds the daemon to 32 MB.
[ "$SANITIZED" = 1 ] && RSS_SLACK_MB=96
# The members case decodes, verifies and stores 50,000 records: its anonymous
# memory grows by 24-31 MB (not held by the queue of entries to verify: with its
# per-peer bound raised from 8 to 48 MiB it grew by 24 MB), more on a loaded
# machine, and VmHWM came within 4-5 MB of rest + 32 MB + the store's growth, once 1 MB
# over. 40 MB keeps twice that spread, and still fails a daemon that holds 200
# bytes more per member record sent (10 MB) than it does now.
MEMBERS_SLACK_MB=$((RSS_SLACK_MB > 40 ? RSS_SLACK_MB : 40))
# Under AddressSanitizer the CLI and the daemon both run 2-3 times slower: a single
# status took 174-182 ms there on a loaded machine. SLOW (3 there) scales the bound.
STATUS_MS=${HOSTILE_STATUS_MS:-$((200 * SLOW))}
# Under AddressSanitizer freed memory waits in a quarantine (256 MB by default),
# which would count as the daemon's: keep it small so the bound still means something.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8
a() { local city=$1; shift; timeout 10 "$AGORA" --dir "$WORK/$city" "$@"; }
key() { cat "$WORK/$1.key"; }
addr() { echo "127.0.0.1:$(node_port "$1")"; }
put() { echo "{\"title\": \"$3\", \"summary\": \"$3\", \"topics\": [\"housing\"]}" | a "$1" put practice "$2" >/dev/null; }
VICTIM=V # the node under attack: V, but a fresh W for the false claim of its feed
vpid() { cat "$WORK/$VICTIM/pid"; }
store_kb() { echo $(($(stat -c %s "$WORK/$VICTIM/data/data.mdb") / 1024)); }
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$(vpid)/status"; }
mb() { echo $(($1 / 1024)); }
# anon_watch PID FILE: samples PID's RssAnon every 5 ms (the kernel keeps no
# high-water mark of it) until FILE.stop appears, then writes the peak to FILE.
anon_watch() {
	python3 - "$1" "$2" <<'PY' &
import os, sys, time
pid, out = sys.argv[1], sys.argv[2]
peak = 0
while not os.path.exists(out + ".stop"):
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    peak = max(peak, int(line.split()[1]))
    except OSError:
        break
    time.sleep(0.005)
with open(out, "w") as f:
    f.write("%d\n" % peak)
PY
}
# Lines of V's log at info level or above (debug lines are per event by design).
vlog() { grep -v '^debug: ' "$WORK/$VICTIM/agorad.log" || true; }
count() { vlog | grep -cE "$1" || true; }

for c in V H; do
	node_init "$c" > "$WORK/$c.key"
	node_start "$c"
done
until_ok 5 a V status || fail "V does not answer"
until_ok 5 a H status || fail "H does not answer"
a V peer add "$(key H)" --name H >/dev/null
a H peer add "$(key V)" --name V --endpoint "$(addr V)" >/dev/null
put H h0 "Accueil des nouveaux arrivants"
until_ok 15 a V get practice h0 --city H || fail "H's first record did not reach V"

# At rest: some traffic has passed, nothing hostile yet.
for i in 1 2 3; do put H "rest$i" "repos $i"; done
until_ok 15 a V get practice rest3 --city H || fail "H's records did not reach V at rest"
sleep 1
rest_kb=$(status_kb VmRSS)
echo "hostile.rss_rest_mb: $(mb "$rest_kb")"

# evil_key NAME: a node directory for an evil peer that V knows by key.
evil_key() {
	node_init "$1" > "$WORK/$1.key"
	a V peer add "$(key "$1")" --name "$1" >/dev/null
}

ms() { echo $(($(date +%s%N) / 1000000)); }

# served CASE N: while E attacks, V still gets H's record CASE-N within 10 s (times
# SLOW: under AddressSanitizer the members case took 5.3 s of the 10), and
# its CLI answers, status within STATUS_MS; the slowest of each so far in
# delivery_ms and status_ms.
delivery_ms=0
status_ms=0
status_all=()
served() {
	local t0 t1
	# A restarted H publishes once it has learned its own feed back from V.
	until_ok 15 put H "$1-$2" "pendant l'attaque $1 $2" || fail "$1: H cannot publish"
	t0=$(ms)
	until_ok 10 a $VICTIM get practice "$1-$2" --city H ||
		fail "$1: H's record $1-$2 did not reach $VICTIM within $((10 * SLOW)) s"
	t1=$(ms)
	[ $((t1 - t0)) -le "$delivery_ms" ] || delivery_ms=$((t1 - t0))
	# Three looks each time: a case served once (forge, replay) still has a median
	# that one CLI run kept waiting for a CPU does not decide.
	for _ in 1 2 3; do
		t0=$(ms)
		a $VICTIM status >/dev/null || fail "$1: $VICTIM's status did not answer"
		t1=$(ms)
		[ $((t1 - t0)) -le $((5 * STATUS_MS)) ] ||
			fail "$1: $VICTIM's status took $((t1 - t0)) ms, over 5 x $STATUS_MS"
		[ $((t1 - t0)) -le "$status_ms" ] || status_ms=$((t1 - t0))
		status_all+=($((t1 - t0)))
	done
	a $VICTIM search "attaque" >/dev/null || fail "$1: $VICTIM's search did not answer"
}

# figures CASE: what served measured for CASE, then reset. The median status
# must be within STATUS_MS, the slowest within 5 x STATUS_MS: on a machine
# shared with other builds a single CLI run can wait for a CPU that long.
figures() {
	local median
	median=$(printf '%s\n' "${status_all[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "hostile.delivery_ms_$1: $delivery_ms"
	echo "hostile.status_ms_$1: $status_ms"
	echo "hostile.status_median_ms_$1: $median"
	[ "$median" -le "$STATUS_MS" ] || fail "$1: $VICTIM's median status took $median ms, over $STATUS_MS"
	delivery_ms=0
	status_ms=0
	status_all=()
}

# attack CASE MODE [EVIL [SECONDS [SLACK_MB]]]: runs agora-evil MODE for SECONDS (ATTACK_S)
# (forge ends when V cuts it off, fork when V has sent its proof) while H publishes; checks
# service and memory, the peak within rest + SLACK_MB (RSS_SLACK_MB) + the store's growth;
# E's output is left in $WORK/CASE.out.
attack() {
	local case=$1 mode=$2 evil=${3:-$1} secs=${4:-$ATTACK_S} slack=${5:-$RSS_SLACK_MB}
	local pid peak grown watcher anon_rest i=0
	grown=$(store_kb)
	echo 5 > "/proc/$(vpid)/clear_refs" # VmHWM := VmRSS
	rm -f "$WORK/$case.anon" "$WORK/$case.anon.stop"
	anon_watch "$(vpid)" "$WORK/$case.anon"
	watcher=$!
	anon_rest=$(status_kb RssAnon)
	"$EVIL" "$WORK/$evil" "$(key $VICTIM)" "$(addr $VICTIM)" "$mode" "$secs" > "$WORK/$case.out" 2>&1 &
	pid=$!
	sleep 1
	if [ "$case" = slowloris ]; then # H must get a handshake slot again
		node_stop H
		node_start H
	fi
	if [ "$case" = claim ]; then # H dials W only once the false claim is in
		ready W false
		a H peer add "$(key W)" --name W --endpoint "$(addr W)" >/dev/null
	fi
	while kill -0 "$pid" 2>/dev/null; do
		served "$case" $((++i))
		sleep 1
	done
	wait "$pid" || { cat "$WORK/$case.out" >&2; fail "$case: agora-evil failed"; }
	served "$case" after
	peak=$(status_kb VmHWM)
	grown=$(($(store_kb) - grown))
	touch "$WORK/$case.anon.stop"
	wait "$watcher"
	figures "$case"
	echo "hostile.rss_attack_mb_$case: $(mb "$peak")"
	echo "hostile.anon_rest_mb_$case: $(mb "$anon_rest")"
	echo "hostile.anon_attack_mb_$case: $(mb "$(cat "$WORK/$case.anon")")"
	echo "hostile.store_grown_mb_$case: $(mb "$grown")"
	[ "$peak" -le $((rest_kb + slack * 1024 + grown)) ] ||
		fail "$case: $VICTIM's peak RSS $(mb "$peak") MB is above rest $(mb "$rest_kb") MB + $slack MB + the store's growth $(mb "$grown") MB"
	sed 's/^/  evil: /' "$WORK/$case.out"
}

# once CASE PATTERN: V's log says it exactly once.
once() {
	local n
	n=$(count "$2")
	[ "$n" -eq 1 ] || { vlog | grep -E "$2" | head -5 >&2 || true; fail "$1: '$2' logged $n times, not once"; }
}

# feed FIELD CITY: a field of CITY's feed in V's status.
feed() {
	a V --json status | python3 -c '
import json, sys
f = [f for f in json.load(sys.stdin)["feeds"] if f["author"] == sys.argv[1]]
print(f[0].get(sys.argv[2], "-") if f else "absent")' "$(key "$2")" "$1"
}

evil_key Forge
attack forge forge Forge
once forge 'Forge: invalid entry.*bad signature'
case $(feed seq Forge) in absent | 0) ;; *) fail "forge: a forged entry was stored (Forge's feed at $(feed seq Forge))" ;; esac
echo "ok: forged signature: cut off, logged once, nothing stored"

evil_key Fork
attack fork fork Fork
once fork 'Fork: fork: author .* signed two entries at seq 1'
grep -q 'proof received, link kept' "$WORK/fork.out" || fail "fork: V sent no proof, or cut the link"
[ "$(feed forked Fork)" = True ] || fail "fork: the author is not flagged"
[ "$(feed forks Fork)" = 2 ] || fail "fork: $(feed forks Fork) entries kept as proof, not 2"
[ "$(feed seq Fork)" = 1 ] || fail "fork: V took entries after the fork (head $(feed seq Fork))"
a V log --city Fork | grep -q after-fork && fail "fork: the entry after the fork was stored"
echo "ok: fork: both entries kept as proof and sent back, link kept, author flagged, nothing after it, logged once"

evil_key Frame
attack framelimit framelimit Frame
grep -q 'frame length: 65535' "$WORK/framelimit.out" || fail "framelimit: frames not at the limit"
once framelimit 'Frame: names more than [0-9]+ feeds we do not replicate'
echo "ok: frames at the 65,535-byte limit without end: V served, memory bounded, logged once"

attack trickle trickle Frame
n=$(count 'Frame: (warn|invalid|malformed|too)')
[ "$n" -le 1 ] || fail "trickle: $n lines about Frame"
# Cut when the frame does not complete in 5 s, long before the 45 s keepalive.
count 'Frame: disconnected: a frame did not complete in 5 s' | grep -qv '^0$' ||
	fail "trickle: V did not cut the trickled frame"
echo "ok: a frame announced at 65,535 bytes and trickled: cut within 5 s, V served, memory bounded"

# Message 1 carries nothing fresh: a replay of it, then garbage, must neither
# cut the peer's live connection nor get the peer refused for a backoff.
evil_key Replay
"$EVIL" "$WORK/Replay" "$(key V)" "$(addr V)" replay > "$WORK/replay.out" 2>&1 ||
	{ cat "$WORK/replay.out" >&2; fail "replay: the live connection was cut or the peer refused"; }
grep -q 'replay: closed by the target' "$WORK/replay.out" || fail "replay: V kept the replayed connection"
once replay 'Replay: a connection in its name closed before it was confirmed'
[ "$(count 'Replay: (disconnected: replaced|refused)')" = 0 ] || fail "replay: V replaced or refused Replay"
served replay 1
figures replay
sed 's/^/  evil: /' "$WORK/replay.out"
echo "ok: replayed message 1 and garbage: the first connection kept, a new one taken at once, logged once"

evil_key Flood
attack flood flood Flood
once flood 'Flood: sends entries of a feed we do not replicate'
outsider=$(awk '/^flood author:/ { print $3 }' "$WORK/flood.out")
[ -n "$outsider" ] || fail "flood: no author"
n=$(a V --json log --city "$outsider" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin); e = d["entries"] if isinstance(d, dict) else d
print(len(e))' 2>/dev/null || echo 0)
[ "$n" = 0 ] || fail "flood: V stored $n entries of an author outside its set"
a V --json status | grep -q "$outsider" && fail "flood: the outside author shows in V's status"
echo "ok: flood of valid entries of an outside author: nothing stored, V served, logged once"

evil_key Garbage
attack garbage garbage Garbage
once garbage 'Garbage: disconnected: transport'
once garbage 'Garbage: connected'
echo "ok: garbage after the handshake: cut off, refused for a backoff, logged once"

# A city that is not (yet) a peer tries to connect: told once, with both
# Ed25519 keys its Noise key may come from, one of them the one to add.
node_init Stranger > "$WORK/Stranger.key"
attack stranger stranger Stranger
grep -q 'closed without a byte' "$WORK/stranger.out" || fail "stranger: V answered an unknown key"
once stranger "127.0.0.1:[0-9]+: an unknown key tried to connect: its public key is .*$(key Stranger | sed 's/[+/]/./g')"
echo "ok: an unknown key completing message 1: closed in silence, logged once with its key and address"

evil_key Loris
attack slowloris slowloris Loris
once slowloris 'too many handshakes in progress .*: the oldest pending one dropped'
# The stranger's message 1s past its budget are refused unread (the warning
# itself is once a minute: garbage's reconnects may have had it already).
grep -qE '127.0.1.250:[0-9]+: closed before authentication: too many handshakes from this address' \
	"$WORK/V/agorad.log" || fail "slowloris: the stranger's message 1s were not rate-limited"
[ "$(count 'more than 4 handshakes a second from this address')" -le 1 ] ||
	fail "slowloris: the rate limit logged more than once"
# Message 1's X25519 work for the stranger: its burst, then 4 a second.
n=$(grep -cE '127.0.1.250:[0-9]+: closed before authentication: unknown key' "$WORK/V/agorad.log" || true)
[ "$n" -le $((8 + 4 * (ATTACK_S + 2))) ] || fail "slowloris: V read $n message 1s of one stranger address"
echo "ok: slowloris from 200 addresses of H's /24: the oldest handshakes gave way, H reconnected, $n stranger message 1s read, logged once"

# ready NODE true|false: NODE's status says whether it may publish.
ready() {
	[ "$(a "$1" --json status | python3 -c 'import json, sys; print(str(json.load(sys.stdin)["ready"]).lower())')" = "$2" ] ||
		fail "$1: ready is not $2"
}

# A fresh node W waits to learn its own feed from its peers before it
# publishes. Claim, a peer of W's, says W's feed is at 2^64-1, and sends
# nothing of it: after 30 s the claim is void, Claim told of once, and W may
# publish; H, meanwhile, reaches W.
node_init W > "$WORK/W.key"
node_init Claim > "$WORK/Claim.key"
printf '\n[Peer]\nName = Claim\nPublicKey = %s\n\n[Peer]\nName = H\nPublicKey = %s\n' \
	"$(key Claim)" "$(key H)" >> "$WORK/W/agorad.conf"
node_start W
until_ok 5 a W status || fail "W does not answer"
VICTIM=W
rest_w=$rest_kb
rest_kb=$(status_kb VmRSS)
attack claim claim Claim 40
grep -q "claimed the target.s feed" "$WORK/claim.out" || fail "claim: the claim was not sent"
once claim 'Claim: claims our own feed at seq 18446744073709551615 but sent no entry of it in 30 s .*: its claim is void'
vlog | grep -q 'own feed learned from peers (seq 0)' || fail "claim: W did not become ready"
ready W true
put W w1 "publié après la fausse annonce" || fail "claim: W cannot publish"
VICTIM=V
rest_kb=$rest_w
echo "ok: a false claim of W's own feed: void after 30 s, W ready and publishing, H served, logged once"

evil_key Members
# 50,000 records take V a while to verify and store: the attack lasts until they are in.
attack members members Members $((ATTACK_S * 4)) "$MEMBERS_SLACK_MB"
grep -q 'member records sent: 50000' "$WORK/members.out" || fail "members: not all 50,000 member records were sent"
once members 'introduces more than 1000 members \(MaxIntroduced\)'
nfeeds=$(a V --json status | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["feeds"]))')
[ "$nfeeds" -le 1020 ] || fail "members: V replicates $nfeeds feeds, more than its peers and 1,000 introduced"
[ "$(feed seq Members)" -ge 1000 ] || fail "members: V did not take Members' records ($(feed seq Members))"
echo "ok: 50,000 member records from one peer: $nfeeds feeds replicated, V served, logged once"
