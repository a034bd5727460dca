#!/bin/sh
# Runs the arm64 unit tests and the CLI tests under qemu-aarch64 (QEMU's
# user mode), with the arm64 libraries of SYSROOT.
#
#   run-user.sh SYSROOT BUILD_DIR TEST...
#
# BUILD_DIR holds the cross-built sparkmon, sparkmon-fetch and test/TEST.
# A failing test fails the run, unless tests/arm64/user-mode-na.txt names
# it: those need what user mode cannot give, are reported as not applicable
# under user mode, and run on a real arm64 kernel in make arm64-kernel.
set -u

[ $# -ge 2 ] || {
	echo "usage: run-user.sh SYSROOT BUILD_DIR TEST..." >&2
	exit 2
}
sysroot=$(cd "$1" && pwd) || exit 1
bdir=$(cd "$2" && pwd) || exit 1
shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
na_list=$here/user-mode-na.txt
qemu=${QEMU_USER:-qemu-aarch64}

command -v "$qemu" >/dev/null 2>&1 || {
	echo "arm64: '$qemu' is missing (make deps installs tests/deps/arm64.txt)" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sparkmon-arm64.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0
passed=0
na=""

# The list's rows, "binary|test|why" without the padding.
na_rows() {
	sed -e '/^#/d' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*|[[:space:]]*/|/g' \
		-e 's/[[:space:]]*$//' "$na_list"
}

# Why TEST of BINARY is not applicable under user mode; empty when it is.
na_reason() {
	na_rows | awk -F '|' -v b="$1" -v t="$2" '$1 == b && $2 == t { print $3; exit }'
}

# Unit tests run from the project root (fixture paths are relative to it).
cd "$repo" || exit 1
for t in "$@"; do
	log=$tmp/$t.log
	"$qemu" -L "$sysroot" "$bdir/test/$t" >"$log" 2>&1
	rc=$?
	if ! grep -q '^\[==========\] [0-9]* test(s) run\.' "$log"; then
		cat "$log" >&2
		echo "arm64: FAILED: $t exited $rc before reporting its tests" >&2
		failures=$((failures + 1))
		continue
	fi
	n=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\.$/\1/p' "$log")
	passed=$((passed + ${n:-0}))
	bad=""
	for name in $(sed -n 's/^\[  FAILED  \] \(test_[A-Za-z0-9_]*\)$/\1/p' "$log" | sort -u); do
		why=$(na_reason "$t" "$name")
		if [ -n "$why" ]; then
			na="$na
  $t: $name ($why)"
		else
			bad="$bad $name"
		fi
	done
	if [ -n "$bad" ] || { [ "$rc" -ne 0 ] && ! grep -q '^\[  FAILED  \] test_' "$log"; }; then
		cat "$log" >&2
		echo "arm64: FAILED: $t:${bad:- exit $rc}" >&2
		failures=$((failures + 1))
	fi
done

# Every listed test must still exist and still fail here: the list names
# exactly what user mode cannot run (a renamed test would hide a failure; a
# passing one belongs back in this run).
na_rows >"$tmp/na"
while IFS='|' read -r b name _; do
	case " $* " in *" $b "*) ;; *) continue ;; esac
	if ! grep -q "^\[ RUN      \] $name\$" "$tmp/$b.log" 2>/dev/null; then
		echo "arm64: $na_list names $b: $name, which did not run" >&2
		failures=$((failures + 1))
	elif grep -q "^\[       OK \] $name\$" "$tmp/$b.log"; then
		echo "arm64: $na_list names $b: $name, which passes under user mode:" \
			"take it off the list" >&2
		failures=$((failures + 1))
	fi
done <"$tmp/na"

echo "arm64: $passed unit tests passed under $qemu ($# binaries)"
[ -n "$na" ] && echo "arm64: not applicable under user mode (run in make arm64-kernel):$na"

# The CLI tests run the arm64 sparkmon through a host script. sparkmon finds
# sparkmon-fetch next to itself (/proc/self/exe): there a host script runs
# the arm64 sparkmon-fetch under QEMU too, since this kernel cannot execute
# arm64 programs itself.
mkdir -p "$tmp/bin" "$tmp/arm64"
cp "$bdir/sparkmon" "$tmp/arm64/sparkmon"
printf '#!/bin/sh\nexec "%s" -L "%s" "%s" "$@"\n' "$qemu" "$sysroot" "$bdir/sparkmon-fetch" \
	>"$tmp/arm64/sparkmon-fetch"
printf '#!/bin/sh\nexec "%s" -L "%s" "%s" "$@"\n' "$qemu" "$sysroot" "$tmp/arm64/sparkmon" \
	>"$tmp/bin/sparkmon"
chmod 0755 "$tmp/arm64/sparkmon-fetch" "$tmp/bin/sparkmon"
"$tmp/bin/sparkmon" --version | grep -q '^sparkmon ' || {
	echo "arm64: the arm64 sparkmon does not run under $qemu" >&2
	failures=$((failures + 1))
}
tests/cli/run.sh "$tmp/bin/sparkmon" || failures=$((failures + 1))

if [ "$failures" -ne 0 ]; then
	echo "arm64: $failures failure(s)" >&2
	exit 1
fi
echo "arm64: all passed"
