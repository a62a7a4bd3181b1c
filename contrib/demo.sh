#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, starts
# three city nodes on loopback (Lyon, Tunis, Napoli in a line), publishes a
# good practice at Lyon, and shows it arriving at Napoli through Tunis.
# Everything lives in a temporary directory, removed on exit (KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
contrib/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
AGORA=$PWD/build/agora AGORAD=$PWD/build/agorad
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-demo-XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ "${KEEP:-0}" = 1 ] && echo "demo files kept in $work" || rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

declare -A key addr
for city in Lyon Tunis Napoli; do
	addr[$city]=127.0.0.1:$(port)
	key[$city]=$("$AGORA" init --dir "$work/$city" --name "$city" --listen "${addr[$city]}")
	echo "$city: ${key[$city]} on ${addr[$city]}"
done
for city in Lyon Tunis Napoli; do
	"$AGORAD" --dir "$work/$city" 2>"$work/$city.log" &
	pids+=($!)
done
sleep 0.5
a() { local city=$1; shift; "$AGORA" --dir "$work/$city" "$@"; }
# The line Lyon - Tunis - Napoli: Napoli learns of Lyon through Tunis's member record.
a Lyon peer add "${key[Tunis]}" --name Tunis --endpoint "${addr[Tunis]}"
a Tunis peer add "${key[Lyon]}" --name Lyon --endpoint "${addr[Lyon]}"
a Tunis peer add "${key[Napoli]}" --name Napoli --endpoint "${addr[Napoli]}"
a Napoli peer add "${key[Tunis]}" --name Tunis --endpoint "${addr[Tunis]}"

echo
echo "== Lyon publishes a good practice"
a Lyon put practice guichet-unique <<'JSON'
{"title": {"fr": "Guichet unique pour l'hébergement d'urgence", "en": "One-stop desk for emergency housing"},
 "summary": "Un guichet commun ville-associations oriente les nouveaux arrivants vers un hébergement en 48 heures.",
 "topics": ["housing", "inclusion"], "stakeholders": ["city-administration", "civil-society"], "year": 2025}
JSON
echo
echo "== Napoli, two hops away, searches for 'hebergement'"
for i in $(seq 1 100); do
	out=$(a Napoli search hebergement 2>/dev/null || true)
	if grep -q guichet-unique <<<"$out"; then break; fi
	sleep 0.1
done
echo "$out"
grep -q guichet-unique <<<"$out" || { echo "demo: the record did not arrive" >&2; exit 1; }
echo
echo "== status at Tunis"
a Tunis status
