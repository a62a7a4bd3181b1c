#!/usr/bin/env bash
# agora metrics: Prometheus's text format, read back by a strict parser
# (prom.py) and by prometheus_client's when it is installed: HELP and TYPE
# before each family, the agora_ prefix, peer and key labels (a quote and a
# backslash in a name escaped), counts that follow what happened; and the
# timer example's command writes the file whole, by a rename.
. "$(dirname "$0")/lib.sh"
export TZ=UTC LANG=C.UTF-8
unset AGORA_DIR
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${AGORA_SRC:-$HERE/../..}
put() { echo "{\"title\": \"$2\", \"summary\": \"$2\", \"topics\": [\"housing\"]}" | a "$1" put practice "$2" >/dev/null; }

A=$(node_init Lyon)
B=$(node_init Tunis)
S=$(node_init Sfax) # a key for a peer that never comes, its name with a quote and a backslash
node_peer Lyon Tunis "$B"
node_peer Tunis Lyon "$A"
printf '\n[Peer]\nName = Sfax "Sud" \\ 2\nPublicKey = %s\n' "$S" >> "$WORK/Lyon/agorad.conf"
node_start Lyon
node_start Tunis
node_ready Lyon 15
for i in 1 2 3; do put Lyon "r$i"; done
until_ok 10 a Tunis get practice r3 --city Lyon || fail "r3 did not reach Tunis"
put Tunis t1
until_ok 10 a Lyon get practice t1 --city Tunis || fail "t1 did not reach Lyon"

ok a Lyon metrics
cp "$WORK/out" "$WORK/metrics.prom"
python3 "$HERE/prom.py" "$WORK/metrics.prom" >"$WORK/samples.json" || fail "not Prometheus text: $(python3 "$HERE/prom.py" "$WORK/metrics.prom" 2>&1)"
grep -vE '^(# (HELP|TYPE) )?agora_' "$WORK/metrics.prom" && fail "a line without the agora_ prefix"
python3 - "$WORK/samples.json" "$B" "$S" <<'PY' || fail "metrics do not say what happened: $(cat "$WORK/metrics.prom")"
import json, sys
m = json.load(open(sys.argv[1]))
tunis = '{key=%s,peer=Tunis}' % sys.argv[2]
sfax = '{key=%s,peer=Sfax "Sud" \\ 2}' % sys.argv[3]
def v(name, lab=""): return m["agora_" + name + ("" if lab else "{}") + lab]
assert v("ready") == 1 and v("peers") == 2, (v("ready"), v("peers"))
assert v("uptime_seconds") > 0
assert v("feeds") >= 2 and v("records") >= 4 and v("entries") >= 4, m
assert v("store_bytes") > 0 and v("invalid_entries_total") == 0
assert v("store_max_bytes") == 16 * 2**30 and v("store_full") == 0 and v("feeds_over_quota") == 0
assert v("peer_connected", tunis) == 1 and v("peer_connected", sfax) == 0
assert v("peer_last_contact_timestamp_seconds", tunis) > 1.6e9
assert v("peer_last_contact_timestamp_seconds", sfax) == 0
# Lyon's three practices (and its member records) went to Tunis; Tunis's one came back.
assert v("peer_entries_sent_total", tunis) >= 3, v("peer_entries_sent_total", tunis)
assert v("peer_entries_received_total", tunis) >= 1
assert v("peer_bytes_sent_total", tunis) > 0 and v("peer_bytes_received_total", tunis) > 0
assert v("peer_they_lack_entries", tunis) == 0 and v("peer_we_lack_entries", tunis) == 0 and v("peer_invalid_entries_total", tunis) == 0
PY
grep -qF 'peer="Sfax \"Sud\" \\ 2"' "$WORK/metrics.prom" || fail "label not escaped: $(grep Sfax "$WORK/metrics.prom" | head -1)"
echo "ok: metrics parse strictly and say what happened, labels escaped"

# Debian's package is for Debian's python3, which may not be the first on PATH.
deb_python=python3
[ -x /usr/bin/python3 ] && deb_python=/usr/bin/python3
if "$deb_python" -c 'import prometheus_client' 2>/dev/null; then
	"$deb_python" - "$WORK/metrics.prom" <<'PY' || fail "prometheus_client does not read it"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert fams["agora_peer_entries_sent"].type == "counter", fams["agora_peer_entries_sent"].type
assert fams["agora_ready"].type == "gauge"
assert len(fams["agora_peer_connected"].samples) == 2
PY
	echo "ok: prometheus_client reads it"
else
	echo "skip: python3-prometheus-client is not installed"
fi

# The strict parser refuses what it must (so the checks above can fail).
for bad in 'agora_x 1' '# TYPE agora_x counter\nagora_x 1' '# TYPE agora_x gauge\nagora_x{a="\\q"} 1' \
	'# TYPE agora_x gauge\nagora_x 1\n# TYPE agora_y gauge\nagora_y 1\nagora_x{a="b"} 2' '# TYPE agora_x gauge\nagora_x one'; do
	printf "$bad\n" > "$WORK/bad.prom"
	python3 "$HERE/prom.py" "$WORK/bad.prom" >/dev/null 2>&1 && fail "prom.py took: $bad"
done
echo "ok: the parser refuses bad text"

# The timer example's command, pointed at a scratch directory: written whole, by rename.
cmd=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$SRC/contrib/systemd/agora-metrics.service")
[ -n "$cmd" ] || fail "no ExecStart in agora-metrics.service"
mkdir "$WORK/textfile"
cmd=${cmd//\/var\/lib\/prometheus\/node-exporter/$WORK/textfile}
cmd=${cmd//agora metrics/\"$AGORA\" --dir \"$WORK/Lyon\" metrics}
sh -c "$cmd" || fail "the timer's command failed: $cmd"
[ "$(ls "$WORK/textfile")" = agora.prom ] || fail "textfile dir holds: $(ls "$WORK/textfile")"
python3 "$HERE/prom.py" "$WORK/textfile/agora.prom" >/dev/null || fail "the timer wrote bad text"
grep -q '^OnUnitActiveSec=1min' "$SRC/contrib/systemd/agora-metrics.timer" || fail "the timer does not run every minute"
echo "ok: the timer example writes agora.prom by rename"
echo "4 passed, 0 failed"
