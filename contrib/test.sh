#!/usr/bin/env bash
# Installs what is missing, builds agora three ways and runs every test:
#   build/        the normal build, warnings as errors
#   build-asan/   AddressSanitizer + UndefinedBehaviorSanitizer, the same tests again
#   build-fuzz/   clang + libFuzzer: every fuzz target for FUZZ_SECONDS (default 60)
# A failure anywhere fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
contrib/install-deps.sh || exit 1
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-60}
passed=0 failed=0 status=0

run_ctest() { # dir, extra ctest args...
	local dir=$1 out
	shift
	out=$(mktemp)
	ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$out"
	local rc=${PIPESTATUS[0]}
	local line total fail
	line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$out" | tail -n 1)
	fail=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
	total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
	if [ -z "$line" ]; then
		echo "agora: no test result from $dir" >&2
		fail=1 total=1
	fi
	passed=$((passed + total - fail))
	failed=$((failed + fail))
	rm -f "$out"
	[ "$rc" -eq 0 ] || status=1
}

build() { # dir, cmake args...
	local dir=$1
	shift
	cmake -S . -B "$dir" -DAGORA_WERROR=ON "$@" >/dev/null &&
		cmake --build "$dir" -j "$jobs"
}

build build -DCMAKE_BUILD_TYPE=RelWithDebInfo || exit 1
run_ctest build
build build-asan -DCMAKE_BUILD_TYPE=Debug -DAGORA_SANITIZE=ON || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest build-asan
unset ASAN_OPTIONS UBSAN_OPTIONS
if command -v clang >/dev/null; then
	CC=clang build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAGORA_FUZZ=ON \
		-DFUZZ_SECONDS="$fuzz_seconds" || exit 1
	run_ctest build-fuzz -R '^fuzz\.'
else
	echo "agora: clang not found, fuzz targets not run" >&2
	status=1
fi
echo
echo "tests: $passed passed, $failed failed"
exit $status
