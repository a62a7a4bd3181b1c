#!/usr/bin/env bash
# agorad as a service: a config typo and a readable key are refused at start
# with one clear line; --check prints the config normalised; SIGHUP applies a
# valid config and keeps the old peers for an invalid one; SIGTERM stops cleanly.
. "$(dirname "$0")/lib.sh"

A=$(node_init Lyon)
B=$(node_init Tunis)

# A typo: refused with file:line and a hint; nothing else made in DIR.
cp "$WORK/Lyon/agorad.conf" "$WORK/good.conf"
printf 'Nmae = Lyon2\n' >> "$WORK/Lyon/agorad.conf"
if "$AGORAD" --dir "$WORK/Lyon" 2>"$WORK/err"; then fail "started with a typo"; fi
grep -q "agorad.conf:4: .*Nmae.*did you mean 'Name'" "$WORK/err" || fail "typo message: $(cat "$WORK/err")"
[ ! -e "$WORK/Lyon/data" ] && [ ! -e "$WORK/Lyon/agorad.sock" ] || fail "a refused start left files"
"$AGORAD" --dir "$WORK/Lyon" --check >/dev/null 2>&1 && fail "--check passed a typo"
cp "$WORK/good.conf" "$WORK/Lyon/agorad.conf"
"$AGORAD" --dir "$WORK/Lyon" --check > "$WORK/out" || fail "--check refused a good config"
grep -q '^Name = Lyon$' "$WORK/out" || fail "--check output: $(cat "$WORK/out")"
echo "ok: typo refused with file:line and a hint; --check"

# A key that others can read: refused, saying how to fix it.
chmod 0644 "$WORK/Lyon/node.key"
if "$AGORAD" --dir "$WORK/Lyon" 2>"$WORK/err"; then fail "started with a readable key"; fi
grep -q "chmod 600" "$WORK/err" || fail "key mode message: $(cat "$WORK/err")"
chmod 0600 "$WORK/Lyon/node.key"
echo "ok: readable key refused"

# SIGHUP: peers written by hand are applied; an invalid config changes nothing.
node_start Lyon
node_start Tunis
wait_log Lyon 'running in'
wait_log Tunis 'running in' # signal handlers are in place once this is logged
node_peer Lyon Tunis "$B"
node_peer Tunis Lyon "$A"
kill -HUP "$(cat "$WORK/Lyon/pid")"
kill -HUP "$(cat "$WORK/Tunis/pid")"
wait_log Lyon 'config reloaded: 1 peers'
wait_log Lyon 'Tunis: hello: Tunis' 15
# From here on Lyon must not drop Tunis. Tunis may still close one of the two
# connections both ends dialed (closed or reset by peer), which is no doing of Lyon's.
from=$(($(wc -l <"$WORK/Lyon/agorad.log") + 1))
printf 'Listen = nowhere\n' >> "$WORK/Lyon/agorad.conf"
kill -HUP "$(cat "$WORK/Lyon/pid")"
wait_log Lyon 'config not reloaded'
ok a Lyon peer list # answered a loop turn after the reload: a connection it closed is logged
grep -qE '^Tunis ' "$WORK/out" || fail "an invalid reload removed Tunis: $(cat "$WORK/out")"
tail -n +"$from" "$WORK/Lyon/agorad.log" | grep 'Tunis: disconnected: ' | grep -vE ': (closed by peer|connection reset by peer)( \(.*\))?$' &&
    fail "an invalid reload dropped a peer"
echo "ok: SIGHUP applies a valid config, keeps the peers on an invalid one"

# SIGTERM: exit 0, socket gone.
kill -TERM "$(cat "$WORK/Lyon/pid")"
wait "$(cat "$WORK/Lyon/pid")" || fail "exit status $? after SIGTERM"
[ ! -e "$WORK/Lyon/agorad.sock" ] || fail "socket left behind"
grep -q 'stopped' "$WORK/Lyon/agorad.log" || fail "no clean stop"
echo "ok: SIGTERM stops cleanly"
echo "4 passed, 0 failed"
