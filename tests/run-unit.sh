#!/bin/sh
# Runs each unit-test binary given; fails if any fails. Each runs under an
# outside deadline (UNIT_DEADLINE seconds): a test that blocks fails there.
set -u
failed=0
for t in "$@"; do
	timeout -s KILL "${UNIT_DEADLINE:-600}" "$t"
	rc=$?
	if [ "$rc" = 137 ]; then
		echo "FAILED: $t (still running after ${UNIT_DEADLINE:-600} s)" >&2
		failed=1
	elif [ "$rc" != 0 ]; then
		echo "FAILED: $t" >&2
		failed=1
	fi
done
exit $failed
