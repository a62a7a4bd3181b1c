#!/usr/bin/env bash
# cmake --install puts the programs, man pages, completion, unit, sysusers.d and
# tmpfiles.d files where systemd and man look for them under every prefix, and the
# unit starts the agorad that the same install put in place: for the default
# prefix (/usr/local), for /usr (a distribution's) and for /opt/agora. One build
# of the two programs, configured once per prefix, each installed into a DESTDIR.
set -euo pipefail
SRC=${AGORA_SRC:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/agora-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0

fail() {
	echo "FAIL: $*"
	exit 1
}

# install PREFIX-ARGS...: configures $work/build with them and installs into a new DESTDIR.
install_to() {
	local root=$1
	shift
	cmake -S "$SRC" -B "$work/build" -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=OFF "$@" \
		>"$work/log" 2>&1 || { cat "$work/log"; fail "cmake configure $*"; }
	cmake --build "$work/build" -j2 --target agorad agora >"$work/log" 2>&1 ||
		{ cat "$work/log"; fail "cmake --build"; }
	DESTDIR=$root cmake --install "$work/build" >"$work/log" 2>&1 ||
		{ cat "$work/log"; fail "cmake --install $*"; }
}

# check ROOT PREFIX UNITDIR: every file in place, and the unit names ROOT's agorad.
check() {
	local root=$1 prefix=$2 unitdir=$3 unit exec f
	for f in "$prefix/sbin/agorad" "$prefix/bin/agora" "$prefix/share/man/man1/agora.1" \
		"$prefix/share/man/man5/agorad.conf.5" "$prefix/share/man/man8/agorad.8" \
		"$prefix/share/bash-completion/completions/agora" "$unitdir/agorad.service" \
		"$prefix/lib/sysusers.d/agora.conf" "$prefix/lib/tmpfiles.d/agora.conf"; do
		[ -f "$root$f" ] || fail "prefix $prefix: no $f (installed: $(cd "$root" && find . -type f | tr '\n' ' '))"
	done
	unit=$root$unitdir/agorad.service
	for exec in ExecStart ExecStartPre; do
		f=$(sed -n "s/^$exec=\([^ ]*\).*/\1/p" "$unit")
		[ "$f" = "$prefix/sbin/agorad" ] || fail "prefix $prefix: $exec=$f, not $prefix/sbin/agorad"
		"$root$f" --version | grep -q '^agorad ' || fail "prefix $prefix: $root$f --version"
	done
	! grep -q "@[A-Z_]*@" "$unit" || fail "prefix $prefix: the unit keeps a template variable"
	grep -q '^u agora ' "$root$prefix/lib/sysusers.d/agora.conf" || fail "sysusers.d makes no user agora"
	grep -q '^d /var/lib/agora 0750 agora agora' "$root$prefix/lib/tmpfiles.d/agora.conf" ||
		fail "tmpfiles.d makes no /var/lib/agora"
	echo "ok: prefix $prefix: files in place, the unit starts $prefix/sbin/agorad"
	passed=$((passed + 1))
}

install_to "$work/default"
check "$work/default" /usr/local /usr/local/lib/systemd/system

# /usr: the unit where the distribution keeps its own (systemd.pc says; Debian 12: /lib).
install_to "$work/usr" -DCMAKE_INSTALL_PREFIX=/usr
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)
check "$work/usr" /usr "${unitdir:-/usr/lib/systemd/system}"

install_to "$work/opt" -DCMAKE_INSTALL_PREFIX=/opt/agora
check "$work/opt" /opt/agora /opt/agora/lib/systemd/system

echo "$passed passed, 0 failed"
