#!/bin/sh
# The standing mutation check: each tests/mutations/*.mut is one deliberate
# bug in an important behaviour. In a scratch copy of the tree (the files
# git tracks, as they are in the working tree) each is applied in turn, what
# its tests need is rebuilt (incrementally: only the changed file and what
# links it), the tests it names are run, and the file is put back. A
# mutant that every named test survives is a hole in the tests; a mutation
# whose snippet is no longer found exactly once is stale. Either fails the
# run, naming each one.
#
#   tests/mutations/run.sh [NAME...]     (make mutants; NAME without .mut)
#   tests/mutations/run.sh --check       only: is every snippet still there,
#                                        once? (seconds; after a refactoring)
#
# Tests named in a mutation: a unit test binary (test_verdict), the same
# built with the sanitizers (asan:test_history), or a script run with
# SPARKMON set (tests/cli/run.sh, tests/integration/gpu.sh). Before any
# mutant, every named test must pass on the unchanged tree.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/tests/mutations
mutate="python3 $dir/mutate.py"
jobs=${MUTANTS_JOBS:-2}
B=build-mutants

command -v python3 >/dev/null || { echo "mutants: python3 is missing (make deps)" >&2; exit 1; }
command -v git >/dev/null || { echo "mutants: git is missing" >&2; exit 1; }

if [ "${1:-}" = --check ]; then
	stale=""
	for m in "$dir"/*.mut; do
		$mutate check "$m" "$root" || stale="$stale $(basename "$m" .mut)"
	done
	[ -z "$stale" ] || { echo "mutants: STALE:$stale" >&2; exit 1; }
	echo "mutants: every snippet found once ($(ls "$dir"/*.mut | wc -l) mutations)"
	exit 0
fi
if [ $# -gt 0 ]; then
	muts=""
	for n in "$@"; do
		[ -f "$dir/$n.mut" ] || { echo "mutants: no $dir/$n.mut" >&2; exit 1; }
		muts="$muts $dir/$n.mut"
	done
else
	muts=$(ls "$dir"/*.mut)
fi

scratch=$(mktemp -d /tmp/sparkmon-mutants.XXXXXX)
trap 'rm -rf "$scratch"' EXIT INT TERM
(cd "$root" && git ls-files -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
	tar -xf - -C "$scratch" || { echo "mutants: cannot copy the tree" >&2; exit 1; }
log=$scratch/.log

# target_of TEST: what make must build for it.
target_of() {
	case "$1" in
	asan:*) echo "$B-asan/test/${1#asan:}" ;;
	test_*) echo "$B/test/$1" ;;
	*) echo "$B/sparkmon $B/sparkmon-fetch" ;;
	esac
}

# run_test TEST: runs it in the scratch tree under an outside deadline;
# its status.
run_test() {
	case "$1" in
	asan:*)
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
			timeout -s KILL 300 "./$B-asan/test/${1#asan:}" ;;
	test_*) timeout -s KILL 300 "./$B/test/$1" ;;
	*)
		[ -x "$1" ] || { echo "mutants: no test script $1" >&2; return 125; }
		SPARKMON="$scratch/$B/sparkmon" timeout -s KILL 900 "./$1" "$scratch/$B/sparkmon" ;;
	esac
}

build() {
	(cd "$scratch" && make --no-print-directory -j"$jobs" BUILD=$B "$@") >"$log" 2>&1
}

# Every test any mutation names, built and passing on the unchanged tree.
all_tests=""
stale=""
for m in $muts; do
	if ! show=$($mutate show "$m"); then
		stale="$stale $(basename "$m" .mut)"
		continue
	fi
	all_tests="$all_tests $(echo "$show" | sed -n 2p)"
done
all_tests=$(printf '%s\n' $all_tests | sort -u)
targets=""
for t in $all_tests; do
	targets="$targets $(target_of "$t")"
done
start=$(date +%s)
# shellcheck disable=SC2086 # a list of make targets
if ! build $targets; then
	tail -30 "$log" >&2
	echo "mutants: the unchanged tree does not build" >&2
	exit 1
fi
for t in $all_tests; do
	if ! (cd "$scratch" && run_test "$t") >"$log" 2>&1; then
		tail -30 "$log" >&2
		echo "mutants: $t fails on the unchanged tree" >&2
		exit 1
	fi
done
echo "mutants: tree built, $(echo $all_tests | wc -w) tests pass unchanged ($(($(date +%s) - start)) s)"

caught=0 survived="" errors=""
for m in $muts; do
	name=$(basename "$m" .mut)
	case " $stale " in *" $name "*) continue ;; esac
	show=$($mutate show "$m")
	tests=$(echo "$show" | sed -n 2p)
	if ! $mutate apply "$m" "$scratch" 2>"$log"; then
		cat "$log" >&2
		stale="$stale $name"
		continue
	fi
	targets=""
	for t in $tests; do
		targets="$targets $(target_of "$t")"
	done
	by=""
	# shellcheck disable=SC2086
	if ! build $targets; then
		tail -20 "$log" >&2
		errors="$errors $name"
		echo "ERROR     $name: the mutant does not build"
	else
		# The first test that fails catches it; the rest need not run.
		for t in $tests; do
			if ! (cd "$scratch" && run_test "$t") >"$log" 2>&1; then
				by=" $t"
				break
			fi
		done
		if [ -n "$by" ]; then
			caught=$((caught + 1))
			echo "caught    $name (by$by)"
		else
			survived="$survived $name"
			echo "SURVIVED  $name: $(sed -n 's/^# //p' "$m" | head -1)"
		fi
	fi
	$mutate revert "$m" "$scratch"
done

total=$(echo $muts | wc -w)
echo "mutants: $caught of $total caught in $(($(date +%s) - start)) s"
status=0
[ -z "$stale" ] || { echo "mutants: STALE (snippet not found exactly once):$stale" >&2; status=1; }
[ -z "$errors" ] || { echo "mutants: DO NOT BUILD:$errors" >&2; status=1; }
[ -z "$survived" ] || { echo "mutants: SURVIVED:$survived" >&2; status=1; }
exit $status
