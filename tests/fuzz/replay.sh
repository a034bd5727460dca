#!/bin/sh
# Runs every committed input of each harness given once, under the
# sanitizers the harness was built with: a crash, a leak, an undefined
# behaviour or an input slower than FUZZ_TIMEOUT seconds fails it. A harness
# without a corpus fails too: it would test nothing.
set -u
corpora=$(dirname "$0")/corpus
timeout=${FUZZ_TIMEOUT:-10}
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	dir=$corpora/$name
	n=$(find "$dir" -type f 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "fuzz-replay: $name: no corpus in $dir" >&2
		failed=1
		continue
	fi
	log=$(mktemp)
	# shellcheck disable=SC2046
	if find "$dir" -type f -print0 | sort -z |
		xargs -0 "$bin" -timeout="$timeout" -rss_limit_mb=2048 >"$log" 2>&1; then
		echo "fuzz-replay: $name: $n inputs"
	else
		tail -n 40 "$log" >&2
		echo "FAILED: fuzz-replay $name" >&2
		failed=1
	fi
	rm -f "$log"
done
exit $failed
