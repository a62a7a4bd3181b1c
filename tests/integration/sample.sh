# sample.sh: helpers for integration tests over the sample network of
# contrib/sample, sourced after lib.sh: SAMPLE, py (sample.py's checks), city
# (a running node named after a sample city), key, link, at, head_of and
# wait_feeds.
SAMPLE=${AGORA_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/contrib/sample
export SAMPLE
py() { python3 "$(dirname "${BASH_SOURCE[0]}")/sample.py" "$SAMPLE" "$WORK/keys" "$@"; }

# city SLUG NAME: a running node named NAME in $WORK/SLUG; its key in $WORK/keys.
city() {
	local key i
	key=$("$AGORA" init --dir "$WORK/$1" --name "$2" --listen "127.0.0.1:$(free_port)") ||
		fail "init $1"
	key=${key%%$'\n'*} # the public key; the recovery key follows
	echo "$1 $key" >>"$WORK/keys"
	node_start "$1"
	for ((i = 0; i < 100 * SLOW; i++)); do
		"$AGORA" --dir "$WORK/$1" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "$1 did not start"
}
key() { awk -v s="$1" '$1 == s { print $2 }' "$WORK/keys"; }
link() { # A NAME-OF-A B NAME-OF-B
	"$AGORA" --dir "$WORK/$1" peer add "$(key "$3")" --name "$4" --endpoint "127.0.0.1:$(port_of "$3")" >/dev/null &&
		"$AGORA" --dir "$WORK/$3" peer add "$(key "$1")" --name "$2" --endpoint "127.0.0.1:$(port_of "$1")" >/dev/null ||
		fail "link $1 $3"
}
port_of() { sed -n 's/^Listen *= *127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/$1/agorad.conf"; }
at() { local slug=$1; shift; "$AGORA" --dir "$WORK/$slug" "$@"; }
head_of() { # NODE SLUG: the seq NODE holds of SLUG's feed (0: none)
	at "$1" --json status | python3 -c '
import json, sys
print(next((f["seq"] for f in json.load(sys.stdin)["feeds"] if f["author"] == sys.argv[1]), 0))' "$(key "$2")"
}
# wait_feeds NODE SLUG...: until NODE holds each SLUG's feed up to SLUG's own head.
wait_feeds() {
	local node=$1 slug i
	shift
	for slug in "$@"; do
		for ((i = 0; i < 200 * SLOW; i++)); do
			[ "$(head_of "$node" "$slug")" = "$(head_of "$slug" "$slug")" ] && continue 2
			sleep 0.1
		done
		fail "$node lacks $slug's feed (at $(head_of "$node" "$slug") of $(head_of "$slug" "$slug"))"
	done
}

