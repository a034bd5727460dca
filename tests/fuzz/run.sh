#!/bin/sh
# Fuzzes each harness given for SECONDS, one after the other (one process:
# the machine's other work keeps its cores), starting from its committed
# corpus. New inputs go to WORKDIR/<name>/ (merge them into the committed
# corpus with `-merge=1` when they add coverage); a crash, leak or timeout
# is written to WORKDIR/artifacts/ and stops the run. tests/fuzz/<name>.dict,
# where there is one, gives the format's words.
#   tests/fuzz/run.sh SECONDS WORKDIR HARNESS...
set -u
seconds=$1
work=$2
shift 2
corpora=$(dirname "$0")/corpus
mkdir -p "$work/artifacts"
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	mkdir -p "$work/$name"
	dict=
	[ -f "$corpora/../$name.dict" ] && dict=-dict=$corpora/../$name.dict
	echo "fuzz: $name for ${seconds}s"
	# shellcheck disable=SC2086
	if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" $dict \
		"$work/$name" "$corpora/$name" >"$work/$name.log" 2>&1; then
		tail -n 40 "$work/$name.log" >&2
		echo "FAILED: fuzz $name (input in $work/artifacts/)" >&2
		exit 1
	fi
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$work/$name.log"
done
