#!/bin/sh
# Benchmark (not part of `make test`): the CPU cost of one poll of a kernel
# WireGuard device with 1, 100, 1000 and 5000 peers, inside the test VM
# (Debian's 6.1 kernel under QEMU TCG), side by side with one
# `wg show <if> dump` process on the same device in the same run.
#
#   make BUILD=build-bench && tests/bench/wireguard_kernel.sh build-bench
#
# BENCH_SIZES="1 100" narrows the sizes. Under TCG every instruction is
# emulated, so absolute times are several times those of real hardware;
# the ratio between the two readers on the same device is what counts.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bdir=${1:-build}
vm=$here/../integration/kernel/vm.sh

[ -x "$bdir/sparkmon" ] || {
	echo "bench: $bdir/sparkmon is missing (make BUILD=$bdir)" >&2
	exit 1
}
wgpoll=$("$vm" wgpoll "$bdir")
work=$(mktemp -d "${TMPDIR:-/tmp}/sparkmon-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

sizes=${BENCH_SIZES:-1 100 1000 5000}
# Default: -icount shift=0, the guest clock advances 1 ns per emulated
# instruction, so "CPU time" is an instruction count that does not depend
# on what else the host runs. BENCH_ICOUNT= (empty) uses plain TCG timing.
icount=${BENCH_ICOUNT-0}
set -- --scenario "$here/scenario-wgbench.sh" --out "$work/out" --timeout 600 --mem 2048 \
	--bin "$bdir/sparkmon" --bin "$wgpoll" --append "BENCH_SIZES=\"$sizes\""
[ -n "$icount" ] && set -- "$@" --icount "$icount"
"$vm" run "$@" || {
	echo "bench: the VM run failed" >&2
	cat "$work/out/scenario.log" "$work/out/bench.txt" 2>/dev/null >&2
	exit 1
}

[ -n "${BENCH_RAW:-}" ] && cat "$work/out/bench.txt"
# Four lines per size: sparkmon's poll, its whole probe, wg show dump,
# sparkmon check.
awk '
function field(line, key,   n, i, kv) {
	n = split(line, kv, " ")
	for (i = 1; i <= n; i++)
		if (index(kv[i], key "=") == 1)
			return substr(kv[i], length(key) + 2)
	return ""
}
/^poll / { peers = field($0, "peers"); poll = field($0, "cpu_us"); pu = field($0, "user_us"); ps = field($0, "sys_us") }
/^probe / { probe = field($0, "cpu_us") }
/^spawn prog=wg / { wg = field($0, "cpu_us"); wu = field($0, "user_us"); ws = field($0, "sys_us") }
/^spawn prog=sparkmon / {
	full = field($0, "cpu_us")
	if (!header++) {
		printf "%6s  %-27s  %-27s  %6s  %9s  %-16s  %12s\n", "", "sparkmon poll (in-process)", "wg show dump (process)", "", "poll", "whole probe", "sparkmon"
		printf "%6s  %9s %8s %8s  %9s %8s %8s  %6s  %9s  %9s %6s  %12s\n", "peers", "cpu us", "user", "sys", "cpu us", "user", "sys", "ratio", "us/peer", "cpu us", "ratio", "check cpu us"
	}
	printf "%6d  %9.1f %8.1f %8.1f  %9.1f %8.1f %8.1f  %6.3f  %9.3f  %9.1f %6.3f  %12.1f\n", peers, poll, pu, ps, wg, wu, ws, poll / wg, poll / (peers ? peers : 1), probe, probe / wg, full
}
' "$work/out/bench.txt"
if [ -n "$icount" ]; then
	echo "(per run; QEMU TCG -icount shift=$icount: the guest clock counts $((1 << icount)) ns" \
		"per emulated instruction; VM wall time $(cat "$work/out/wall-seconds") s)"
else
	echo "(QEMU TCG, guest CPU time per run; VM wall time $(cat "$work/out/wall-seconds") s)"
fi
