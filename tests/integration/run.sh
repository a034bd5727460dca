#!/bin/bash
# Runs every integration test (tests/integration/*.sh) against the binary
# given. Each test sets up what it needs (namespaces, servers, names with
# its own tag and pid) and tears it down itself, so tests can run side by
# side: INTEGRATION_JOBS at once (default 2; most of a test's time is
# spent waiting on deadlines and daemons, not on the CPU). A test whose
# timing bounds need the machine to itself (a QEMU guest, a benchmark-like
# load) says so with a line "# integration: alone" and runs with nothing
# beside it. Each test's output is printed whole when it ends; any failure
# fails the run.
#
#   tests/integration/run.sh BINARY [TEST.sh...]
set -u
bin=$(realpath "$1")
shift
dir=$(dirname "$0")
jobs=${INTEGRATION_JOBS:-2}
out=$(mktemp -d /tmp/sparkmon-integration.XXXXXX)
trap 'rm -rf "$out"' EXIT
failed=""

if [ $# -gt 0 ]; then
	tests=("$@")
else
	tests=()
	for t in "$dir"/*.sh; do
		[ "$(basename "$t")" = run.sh ] || tests+=("$t")
	done
fi

declare -A started pid_of
running=0

# Waits for one running test and reports it.
reap() {
	local pid name rc
	wait -n -p pid
	rc=$?
	name=${pid_of[$pid]}
	unset "pid_of[$pid]"
	running=$((running - 1))
	echo "== integration: $name"
	cat "$out/$name.log"
	# The time each test takes, to keep the whole run within its budget.
	echo "== integration: $name took $(($(date +%s) - started[$name])) s"
	[ "$rc" = 0 ] || failed="$failed $name"
}

run_one() { # TEST
	local name
	name=$(basename "$1")
	started[$name]=$(date +%s)
	SPARKMON="$bin" "$1" >"$out/$name.log" 2>&1 &
	pid_of[$!]=$name
	running=$((running + 1))
}

for t in "${tests[@]}"; do
	if grep -q '^# integration: alone' "$t"; then
		while [ $running -gt 0 ]; do reap; done
		run_one "$t"
		reap
		continue
	fi
	while [ $running -ge "$jobs" ]; do reap; done
	run_one "$t"
done
while [ $running -gt 0 ]; do reap; done

if [ -n "$failed" ]; then
	echo "integration tests FAILED:$failed" >&2
	exit 1
fi
echo "integration tests passed"
