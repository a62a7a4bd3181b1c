#!/usr/bin/env bash
# agora backup DEST while agorad runs and takes writes: DEST holds agorad.conf
# and a compacted store, never node.key, node.head or the socket; DEST must be
# new or an empty directory. Restored as agorad(8) says (copied back, node.key
# put in place), a fresh agorad holds the same records: its feed a prefix of
# the live one, entry for entry, with everything published before the backup.
. "$(dirname "$0")/lib.sh"
export TZ=UTC LANG=C.UTF-8
unset AGORA_DIR
N=${BACKUP_ENTRIES:-20000}

A=$(node_init Lyon)
"$BIN/tests/agora-fill" "$WORK/Lyon" "$N" 1000 >/dev/null || fail "agora-fill"
node_start Lyon
until_ok 10 a Lyon status || fail "Lyon does not answer"
put() { echo "{\"title\": \"$1 hébergement\", \"summary\": \"$1\", \"topics\": [\"housing\"]}" | a Lyon put practice "$1" >/dev/null; }
put before || fail "put before the backup"

# A writer publishes all along; the backup runs in the middle of it.
(i=0; while [ ! -e "$WORK/stop" ]; do i=$((i + 1)); put "w$i" || { echo "put w$i failed" > "$WORK/writer-failed"; exit 1; }; done) &
writer=$!
sleep 0.3
start=$(date +%s.%N)
ok a Lyon backup "$WORK/bk"
end=$(date +%s.%N)
grep -q "^backup in $WORK/bk: agorad.conf and the store ([0-9]* bytes)" "$WORK/out" || fail "backup said: $(cat "$WORK/out")"
ok a Lyon status # it still answers
sleep 0.3
touch "$WORK/stop"
wait "$writer" || true
[ -e "$WORK/writer-failed" ] && fail "a write during the backup failed: $(cat "$WORK/writer-failed")"
echo "ok: backup of $N entries in $(echo "$end - $start" | bc) s while puts went on"

[ -f "$WORK/bk/agorad.conf" ] && [ -f "$WORK/bk/data/data.mdb" ] || fail "DEST lacks agorad.conf or data/data.mdb: $(ls -R "$WORK/bk")"
cmp -s "$WORK/Lyon/agorad.conf" "$WORK/bk/agorad.conf" || fail "agorad.conf not copied as it is"
[ "$(cd "$WORK/bk" && find . | sort | tr '\n' ' ')" = ". ./agorad.conf ./data ./data/data.mdb " ] ||
	fail "DEST holds more than the config and the store: $(cd "$WORK/bk" && find .)"
[ "$(stat -c %a "$WORK/bk/data/data.mdb")" = 640 ] || fail "data.mdb mode $(stat -c %a "$WORK/bk/data/data.mdb")"
echo "ok: DEST holds agorad.conf and data/data.mdb, no node.key, node.head or socket"

# DEST must be new or empty; relative paths are the caller's.
bad_dest() {
	local rc=0
	a Lyon backup "$1" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" = 2 ] || fail "backup $1 exited $rc"
	grep -qE "$2" "$WORK/err" || fail "backup $1 said: $(cat "$WORK/err")"
}
bad_dest "$WORK/bk" 'not an empty directory'
echo x > "$WORK/file"
bad_dest "$WORK/file" 'exists and is not a directory'
bad_dest "$WORK/no/such/dir" 'No such file or directory'
mkdir "$WORK/empty"
(cd "$WORK" && "$AGORA" --dir "$WORK/Lyon" backup empty/ >/dev/null) || fail "backup into an empty directory, relative"
[ -f "$WORK/empty/data/data.mdb" ] || fail "relative DEST not taken from the working directory"
echo "ok: DEST new or empty, relative to the caller"

# feed DIRNAME: every entry of Lyon's feed as DIRNAME's agorad holds it (agora log pages it), as JSON.
feed() {
	"$AGORA" --dir "$WORK/$1" --json log --city "$A" | python3 -c '
import json, sys
json.dump([{"seq": e["seq"], "hash": e["hash"], "id": e["id"]} for e in json.load(sys.stdin)["entries"]], sys.stdout)'
}

# Restore as agorad(8) says: copy back, node.key in place, start.
feed Lyon > "$WORK/live.json" || fail "cannot read Lyon's feed"
node_stop Lyon
mkdir "$WORK/Restored"
cp -a "$WORK/bk/." "$WORK/Restored/"
cp "$WORK/Lyon/node.key" "$WORK/Restored/node.key"
"$AGORAD" --dir "$WORK/Restored" -v >> "$WORK/Restored/agorad.log" 2>&1 &
PIDS+=($!)
until_ok 10 a Restored status || fail "the restored node does not answer"
feed Restored > "$WORK/copy.json" || fail "cannot read the restored feed"
python3 - "$WORK/live.json" "$WORK/copy.json" "$N" <<'PY' || fail "the restored store does not hold the same records"
import json, sys
live, copy, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
assert len(copy) >= n + 1, f"{len(copy)} entries in the copy, fewer than the {n + 1} before the backup"
assert copy == live[:len(copy)], "the copy is not a prefix of the live feed, entry for entry"
assert "before" in {e["id"] for e in copy}
print(f"copy: {len(copy)} of {len(live)} entries (the writer went on after the copy's snapshot)")
PY
ok a Restored get practice before
ok a Restored --json search hebergement
python3 -c 'import json,sys; ids={r["id"] for r in json.load(open(sys.argv[1]))["records"]}; copy={e["id"] for e in json.load(open(sys.argv[2]))}; assert "before" in ids and ids <= copy, ids - copy' "$WORK/out" "$WORK/copy.json" ||
	fail "the restored index does not find what the copy holds"
echo "ok: restored, the node holds the same feed, entry for entry, and its index"
echo "4 passed, 0 failed"
