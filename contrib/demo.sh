#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, and runs
# the sample network of contrib/sample (ten fictional cities, SAMPLE DATA) as
# ten nodes on loopback. Each node loads its own city's records; gossip brings
# every city's records to every node. Then a search at one city finds the
# housing practices that other cities wrote in French, Arabic and more.
# Everything lives in a temporary directory, removed on exit (KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
contrib/install-deps.sh
build=${AGORA_BUILD:-build} # another build directory, if asked
[[ $build == /* ]] || build=$PWD/$build
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
export AGORA=$build/agora
AGORAD=$build/agorad
SAMPLE=$PWD/contrib/sample
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-demo-XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ "${KEEP:-0}" = 1 ] && echo "demo files kept in $work" || rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
a() { local slug=$1; shift; "$AGORA" --dir "$work/$slug" "$@"; }
title() { printf '\n== %s\n' "$*"; }

# ---- ten nodes, one per sample city, each named after its city ----
slugs=()
declare -A name key addr
while IFS=$'\t' read -r slug cname _country _region; do
	[[ $slug == \#* ]] && continue
	slugs+=("$slug")
	name[$slug]=$cname
	addr[$slug]=127.0.0.1:$(port)
	key[$slug]=$("$AGORA" init --dir "$work/$slug" --name "$cname" --listen "${addr[$slug]}")
	key[$slug]=${key[$slug]%%$'\n'*} # the public key; the recovery key follows (a demo keeps none)
done <"$SAMPLE/cities.tsv"
title "ten sample cities (fictional), one node each"
for slug in "${slugs[@]}"; do
	printf '%-17s %s  %s\n' "${name[$slug]}" "${key[$slug]}" "${addr[$slug]}"
	"$AGORAD" --dir "$work/$slug" 2>"$work/$slug.log" &
	pids+=($!)
done
for slug in "${slugs[@]}"; do
	for _ in $(seq 1 50); do a "$slug" status >/dev/null 2>&1 && break; sleep 0.1; done
done

# ---- peers: a sparse graph, three links per city ----
# The Petersen graph: the five European cities in a ring, the five southern
# ones in a five-pointed star, and each European city linked to one southern
# city. Fifteen links, and any two cities at most two hops apart, so every node
# follows every feed with the default Hops = 2 (a peer's member introductions).
link() {
	a "$1" peer add "${key[$2]}" --name "${name[$2]}" --endpoint "${addr[$2]}" >/dev/null
	a "$2" peer add "${key[$1]}" --name "${name[$1]}" --endpoint "${addr[$1]}" >/dev/null
}
for i in 0 1 2 3 4; do
	link "${slugs[i]}" "${slugs[(i + 1) % 5]}"         # the European ring
	link "${slugs[5 + i]}" "${slugs[5 + (i + 2) % 5]}" # the southern star
	link "${slugs[i]}" "${slugs[5 + i]}"               # north-south pairs
done
title "peers of ${name[${slugs[0]}]}"
a "${slugs[0]}" peer list

# wait_all: until every node holds every node's feed up to that node's own head.
wait_all() {
	python3 - "$AGORA" "$work" "${slugs[@]}" <<'PY' || { echo "demo: the feeds did not reach every node" >&2; exit 1; }
import json, subprocess, sys, time
agora, work, slugs = sys.argv[1], sys.argv[2], sys.argv[3:]
def status(slug):
    out = subprocess.run([agora, "--dir", f"{work}/{slug}", "--json", "status"], capture_output=True, check=True)
    return json.loads(out.stdout)
end = time.monotonic() + 40
while time.monotonic() < end:
    nodes = [status(s) for s in slugs]
    own = {n["key"]: next(f["seq"] for f in n["feeds"] if f["author"] == n["key"]) for n in nodes}
    if all({f["author"]: f["seq"] for f in n["feeds"]} == own for n in nodes):
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# ---- every node loads its own city's records; comments once the answered records have arrived ----
title "each node publishes its city's sample records"
for slug in "${slugs[@]}"; do "$SAMPLE/load.sh" --records "$work/$slug" "$slug"; done
t=$(date +%s%N)
wait_all
echo "every node holds every city's records $(ms_since "$t") ms after the last one was published"
title "each node publishes its city's comments on the others' records"
for slug in "${slugs[@]}"; do "$SAMPLE/load.sh" --comments "$work/$slug" "$slug"; done
t=$(date +%s%N)
wait_all
echo "every node holds every comment $(ms_since "$t") ms after the last one was published:" \
	"$(a "${slugs[4]}" list --limit 1000 | tail -n +2 | wc -l) records in all (member records included)"

# ---- what a city sees ----
here=${slugs[4]} # Kostrava: wrote no housing practice itself
title "${name[$here]} searches 'hebergement' (accents folded: it finds « hébergement »)"
out=$(a "$here" search hebergement --type practice)
echo "$out"
grep -q hebergement-solidaire <<<"$out" || { echo "demo: Qasr Yasmina's practice was not found" >&2; exit 1; }
title "${name[$here]} searches the Arabic 'سكن' (housing), written 'سَكَنٌ' with harakat by Nakhlat El Bahr"
a "$here" search سكن
title "${name[$here]}: health records of Qasr Yasmina"
a "$here" list --topic health --city "Qasr Yasmina"
title "${name[$here]} reads Qasr Yasmina's practice (agora show)"
a "$here" show practice hebergement-solidaire --city "Qasr Yasmina"
title "${name[$here]} exports the network's knowledge as Markdown (agora export, first lines)"
a "$here" export --format md | head -n 40 || true
title "status at ${name[$here]}"
a "$here" status
report=${REPORT:-${TMPDIR:-/tmp}/agora-report.html} # outside the demo's directory, which goes on exit
title "${name[$here]} writes the network's report for its officers (agora report)"
a "$here" report --output "$report"
echo "open it in a browser, offline: file://$report"
