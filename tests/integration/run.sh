#!/bin/sh
# Runs every integration test (tests/integration/*.sh) against the binary
# given. Each test sets up what it needs (namespaces, servers) and tears it
# down itself; any failure fails the run.
set -u
bin=$(realpath "$1")
dir=$(dirname "$0")
failed=""
for t in "$dir"/*.sh; do
	[ "$(basename "$t")" = run.sh ] && continue
	echo "== integration: $(basename "$t")"
	start=$(date +%s)
	if ! SPARKMON="$bin" "$t"; then
		failed="$failed $(basename "$t")"
	fi
	# The time each test takes, to keep the whole run within its budget.
	echo "== integration: $(basename "$t") took $(($(date +%s) - start)) s"
done
if [ -n "$failed" ]; then
	echo "integration tests FAILED:$failed" >&2
	exit 1
fi
echo "integration tests passed"
