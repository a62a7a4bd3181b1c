#!/usr/bin/env bash
# The Debian package: built by dpkg-buildpackage in a clean clone of the
# repository's HEAD (what is committed, nothing else), lintian finds no error in
# it, it holds the programs, man pages, completion, unit, sysusers.d and
# tmpfiles.d files, its postinst makes the user before its directory and reloads
# systemd, and its programs carry the hardening flags. Skipped (exit 77) where
# the packaging tools or the build dependencies are missing (contrib/install-deps.sh
# installs them). DEB_BUILD_OPTIONS=nocheck: the package's own test run is the unit
# tests, which this suite runs already.
set -euo pipefail
SRC=${AGORA_SRC:?}
for tool in git dpkg-buildpackage dh dpkg-checkbuilddeps lintian readelf; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
git -C "$SRC" rev-parse HEAD >/dev/null 2>&1 || { echo "SKIP: $SRC is not a git clone"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0

fail() {
	echo "FAIL: $*"
	exit 1
}
pass() {
	echo "ok: $*"
	passed=$((passed + 1))
}

git clone -q "$SRC" "$work/src"
if ! missing=$(cd "$work/src" && dpkg-checkbuilddeps -B 2>&1); then
	echo "SKIP: $missing"
	exit 77
fi
# Not the make of a surrounding build (its jobserver), nor its compiler flags.
unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS CPPFLAGS LDFLAGS
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
	>"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$work"/agora_*.deb)
changes=$(ls "$work"/agora_*.changes)
pass "dpkg-buildpackage made $(basename "$deb")"

# lintian exits non-zero on an error; what else it says is printed, and accounted
# for in debian/agora.lintian-overrides.
lintian "$changes" >"$work/lintian.log" 2>&1 || { cat "$work/lintian.log"; fail "lintian found errors"; }
grep -v '^running with root privileges' "$work/lintian.log" || true
pass "lintian: no error"

dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$work/files"
unit=/lib/systemd/system/agorad.service
grep -qx /usr/lib/systemd/system/agorad.service "$work/files" && unit=/usr/lib/systemd/system/agorad.service
for f in /usr/sbin/agorad /usr/bin/agora "$unit" /usr/share/man/man1/agora.1.gz \
	/usr/share/man/man5/agorad.conf.5.gz /usr/share/man/man8/agorad.8.gz \
	/usr/share/bash-completion/completions/agora /usr/lib/sysusers.d/agora.conf \
	/usr/lib/tmpfiles.d/agora.conf /usr/share/doc/agora/copyright; do
	grep -qx "$f" "$work/files" || { cat "$work/files"; fail "the package has no $f"; }
done
! grep -q '^/etc/' "$work/files" || fail "the package ships a file in /etc: $(grep '^/etc/' "$work/files")"
pass "the package holds agorad, agora, the unit, man pages, completion, sysusers.d, tmpfiles.d"

dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
grep -qx 'ExecStart=/usr/sbin/agorad --dir /var/lib/agora' "$work/root$unit" ||
	fail "the unit does not start /usr/sbin/agorad: $(grep ExecStart "$work/root$unit")"
users=$(grep -n 'systemd-sysusers' "$work/control/postinst" | cut -d: -f1 | head -n 1)
dirs=$(grep -n 'systemd-tmpfiles' "$work/control/postinst" | cut -d: -f1 | head -n 1)
[ -n "$users" ] && [ -n "$dirs" ] && [ "$users" -lt "$dirs" ] ||
	fail "postinst does not run systemd-sysusers before systemd-tmpfiles"
grep -q 'daemon-reload' "$work/control/postinst" || fail "postinst does not reload systemd"
deps=$(dpkg-deb -f "$deb" Depends)
case "$deps" in *libsystemd0*) ;; *) fail "the package does not depend on libsystemd0: $deps" ;; esac
pass "the unit starts /usr/sbin/agorad; postinst makes the user, then /var/lib/agora, and reloads systemd"

for b in usr/sbin/agorad usr/bin/agora; do
	elf=$work/root/$b
	readelf -hdlsW --dyn-syms "$elf" >"$work/elf" # to a file: grep -q would cut readelf's pipe
	grep -q 'Type:.*DYN' "$work/elf" || fail "$b is not a PIE"
	grep -q 'BIND_NOW' "$work/elf" || fail "$b is not linked with -z now"
	grep -q 'GNU_RELRO' "$work/elf" || fail "$b has no RELRO segment"
	grep -q '__stack_chk_fail' "$work/elf" || fail "$b has no stack protector"
	grep -qE '__[a-z]+_chk' "$work/elf" || fail "$b calls no fortified function"
	if command -v hardening-check >/dev/null; then
		hardening-check "$elf" >"$work/hc" || { cat "$work/hc"; fail "hardening-check $b"; }
	fi
done
pass "agorad and agora: PIE, relro, bind now, stack protector, fortify"
echo "$passed passed, 0 failed"
