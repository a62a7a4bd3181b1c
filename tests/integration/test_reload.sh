#!/usr/bin/env bash
# SIGHUP applies every valid change of agorad.conf, or none with the reason in
# one log line: a peer's new Endpoint is dialed at once, a peer's new Name is
# shown, a new Listen address is listened on (the old one closed); a file
# with an error, or a changed Network, changes nothing and says why. peer
# add and peer remove are logged.
. "$(dirname "$0")/lib.sh"
export TZ=UTC LANG=C.UTF-8
unset AGORA_DIR

hup() { kill -HUP "$(cat "$WORK/$1/pid")"; }
# count NAME PATTERN: lines of NAME's log that match.
count() { grep -cE "$2" "$WORK/$1/agorad.log" || true; }
# mark NAME: the log's length now; after NAME PATTERN: until a line past the mark matches.
mark() { wc -l <"$WORK/$1/agorad.log" > "$WORK/$1.mark"; }
after() {
	local from=$(($(cat "$WORK/$1.mark") + 1))
	until_ok 15 sh -c "tail -n +$from '$WORK/$1/agorad.log' | grep -qE '$2'" || fail "$1: no new line matching '$2'"
}
listening() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)' "$1" 2>/dev/null; }

A=$(node_init Lyon)
B=$(node_init Tunis)
dead=$(free_port)
# Lyon has Tunis at a wrong endpoint; Tunis waits to be called.
printf '\n[Peer]\nName = Tunis\nPublicKey = %s\nEndpoint = 127.0.0.1:%s\n' "$B" "$dead" >> "$WORK/Lyon/agorad.conf"
printf '\n[Peer]\nName = Lyon\nPublicKey = %s\n' "$A" >> "$WORK/Tunis/agorad.conf"
node_start Lyon
node_start Tunis
wait_log Lyon 'running in'
wait_log Tunis 'running in'
wait_log Lyon 'Tunis: cannot connect'
sed -i "s/^Endpoint = 127.0.0.1:$dead\$/Endpoint = 127.0.0.1:$(node_port Tunis)/" "$WORK/Lyon/agorad.conf"
hup Lyon
wait_log Lyon 'config reloaded: 1 peers \(0 added, 0 removed, 1 changed\)'
wait_log Lyon 'Tunis: connected' 10
a Lyon --json peer list | grep -q "\"endpoint\": \"127.0.0.1:$(node_port Tunis)\"" || fail "peer list shows the old endpoint"
echo "ok: a peer's new Endpoint is dialed at once"

# A new name for the peer, and a new Listen address for the node.
new=$(free_port)
old=$(node_port Lyon)
sed -i -e 's/^Name = Tunis$/Name = Tunis-Carthage/' -e "s/^Listen = 127.0.0.1:$old\$/Listen = 127.0.0.1:$new/" "$WORK/Lyon/agorad.conf"
mark Lyon
hup Lyon
after Lyon 'config reloaded: 1 peers \(0 added, 0 removed, 1 changed\); Listen changed'
a Lyon peer list | grep -q 'Tunis-Carthage' || fail "peer list does not show the new name: $(a Lyon peer list)"
a Lyon status | grep -q 'Tunis-Carthage.*yes' || fail "the renamed peer is not connected: $(a Lyon status)"
until_ok 5 listening "$new" || fail "Lyon does not listen on its new address"
listening "$old" && fail "Lyon still listens on its old address"
echo "ok: a peer's new Name shown, the node's new Listen listened on, the old one closed"

# An invalid file changes nothing, and says why in one line.
cp "$WORK/Lyon/agorad.conf" "$WORK/good.conf"
sed -i 's/^Name = Tunis-Carthage$/Name = Tunis2/' "$WORK/Lyon/agorad.conf"
sed -i '/^\[Node\]/a Hops = 9' "$WORK/Lyon/agorad.conf"
mark Lyon
errs=$(count Lyon '^error:')
hup Lyon
after Lyon 'config not reloaded'
grep -q "^error: config not reloaded, nothing changed: $WORK/Lyon/agorad.conf:[0-9]*: bad Hops '9': must be a number from 1 to 4$" "$WORK/Lyon/agorad.log" ||
	fail "the reason: $(grep 'not reloaded' "$WORK/Lyon/agorad.log" | tail -1)"
[ "$(count Lyon '^error:')" = $((errs + 1)) ] || fail "more than one line for a refused reload"
a Lyon peer list | grep -q 'Tunis-Carthage' || fail "a refused reload renamed the peer"
# A changed Network: refused, with why.
cp "$WORK/good.conf" "$WORK/Lyon/agorad.conf"
sed -i '/^\[Node\]/a Network = AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=' "$WORK/Lyon/agorad.conf"
mark Lyon
hup Lyon
after Lyon 'config not reloaded, nothing changed: Network cannot change while agorad runs'
a Lyon status | grep -q 'Tunis-Carthage.*yes' || fail "a refused reload dropped the peer"
echo "ok: an invalid file, or a new Network, changes nothing and says why in one line"

# peer add and peer remove are logged.
cp "$WORK/good.conf" "$WORK/Lyon/agorad.conf"
S=$("$BIN/tests/agora-mkinit" "$WORK/Sfax" Sfax 127.0.0.1:1)
a Lyon peer add "$S" --name Sfax --endpoint sfax.example.org:7447 >/dev/null
wait_log Lyon "peer Sfax added \($(sed 's/[+/]/./g' <<<"$S")\) at sfax.example.org:7447, by agora peer add"
a Lyon peer remove Sfax >/dev/null
wait_log Lyon "peer Sfax removed \($(sed 's/[+/]/./g' <<<"$S")\), by agora peer remove"
echo "ok: peer add and peer remove are logged"
echo "4 passed, 0 failed"
