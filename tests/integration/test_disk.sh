#!/usr/bin/env bash
# A node on a small file system (a tmpfs, so this test needs root; it is
# skipped otherwise): agora check says the disk is nearly full; once it is
# full, agora put exits 4 and says the disk is full, not "Input/output
# error", and so does agorad's log; with room again, the node goes on.
. "$(dirname "$0")/lib.sh"
export TZ=UTC LANG=C.UTF-8
unset AGORA_DIR

mkdir "$WORK/disk"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=8m tmpfs "$WORK/disk" 2>/dev/null; then
	echo "skip: cannot mount a small tmpfs (needs root)"
	exit 77
fi
# Unmounted before lib.sh's cleanup removes WORK; the test's own status kept for it.
trap 'st=$?; umount -l "$WORK/disk" 2>/dev/null || true; set +e; (exit $st); cleanup' EXIT
mkdir "$WORK/disk/Lyon"
ln -s disk/Lyon "$WORK/Lyon"
rmdir "$WORK/disk/Lyon"
port=$(free_port)
"$BIN/tests/agora-mkinit" "$WORK/disk/Lyon" Lyon "127.0.0.1:$port" >/dev/null
node_start Lyon
until_ok 10 a Lyon status || fail "Lyon does not answer"
put() { echo "{\"title\": \"$1\", \"summary\": \"$1\", \"topics\": [\"housing\"]}" | a Lyon put practice "$1"; }
put r1 >/dev/null || fail "put r1"

rc=0
a Lyon check >"$WORK/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "^disk nearly full: [0-9]* MiB free of 8 MiB on the file system of .*/data$" "$WORK/out" ||
	fail "check on an 8 MiB disk: exit $rc: $(cat "$WORK/out")"
echo "ok: check says the disk is nearly full"

# Fill the file system, then publish.
dd if=/dev/zero of="$WORK/disk/filler" bs=64k >/dev/null 2>&1 || true
rc=0
for i in $(seq 2 40); do
	put "r$i" >"$WORK/out" 2>"$WORK/err" || { rc=$?; break; }
done
[ "$rc" = 4 ] || fail "put on a full disk exited $rc"
grep -q "^agora: put: the disk of .*/data is full: nothing was written" "$WORK/err" || fail "put said: $(cat "$WORK/err")"
grep -qi "input/output error" "$WORK/err" && fail "put said Input/output error"
grep -q "the disk is full" "$WORK/Lyon/agorad.log" || fail "agorad's log does not say the disk is full: $(grep -i store "$WORK/Lyon/agorad.log" | tail -3)"
echo "ok: a full disk: put exits 4 and says the disk is full, and so does the log"

rm -f "$WORK/disk/filler"
put again >/dev/null || fail "put after room was made failed: $(cat "$WORK/err")"
a Lyon get practice r1 >/dev/null || fail "r1 lost"
echo "ok: with room again, the node goes on"
node_stop Lyon
umount "$WORK/disk" || umount -l "$WORK/disk"
echo "3 passed, 0 failed"
