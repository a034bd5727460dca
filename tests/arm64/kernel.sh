#!/bin/sh
# The real-kernel test on arm64: Debian 12's arm64 kernel boots on
# qemu-system-aarch64 (-machine virt -cpu max, TCG) with an arm64 busybox
# initramfs (tests/integration/kernel/vm.sh, SPARKMON_VM_ARCH=arm64) and
# runs the arm64 build:
#   - the unit-test binaries that QEMU's user mode cannot run
#     (tests/arm64/user-mode-na.txt: the runner's spawn errors, process
#     groups and subreaper, generic netlink), every test in them, and the
#     CLI tests (tests/cli/run.sh);
#   - the WireGuard scenario of tests/integration/wireguard_kernel.sh (300
#     peers, a real handshake, generic netlink and rtnetlink), whose
#     assertions then run here on the VM's output: sparkmon's JSON against
#     `wg show dump`, check, status, no privileges, no secrets.
#
#   kernel.sh ARM64_BUILD_DIR
#
# ARM64_BUILD_DIR holds the cross build (make arm64-kernel: sparkmon,
# bench/wgpoll, test/*). The VM's userland (busybox-static, wireguard-tools,
# iproute2, util-linux, jq and perl for the tests, the build's libraries,
# all arm64) is unpacked next to it in vmroot/ by tests/arm64/sysroot.sh;
# the kernel is cached in build-kernel-cache/ like the x86-64 one.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || {
	echo "usage: kernel.sh ARM64_BUILD_DIR" >&2
	exit 2
}
bdir=$(cd "$1" && pwd)
SPARKMON=$bdir/sparkmon
. "$repo/tests/integration/lib/common.sh"
t_name=arm64-kernel
need_tools jq readelf tar

for f in sparkmon sparkmon-fetch bench/wgpoll; do
	[ -x "$bdir/$f" ] || die "$bdir/$f is missing (make arm64-kernel builds it)"
done
# The list's rows, "binary|test|why" without the padding.
na_rows() {
	sed -e '/^#/d' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*|[[:space:]]*/|/g' \
		-e 's/[[:space:]]*$//' "$here/user-mode-na.txt"
}
units=$(na_rows | cut -d '|' -f 1 | sort -u)
for t in $units; do
	[ -x "$bdir/test/$t" ] || die "$bdir/test/$t is missing (make arm64-kernel builds it)"
done

vmroot=$(dirname "$bdir")/vmroot
# The build's packages (for the libraries) and the VM's programs.
SPARKMON_SYSROOT_EXTRA="busybox-static wireguard-tools iproute2 util-linux jq perl-base" \
	"$here/sysroot.sh" "$vmroot" "${SPARKMON_ARM64_CACHE:-$repo/build-arm64-cache}"

start=$(date +%s)
tmpdir arm64-kernel
out=$tmp/out
(cd "$repo" && tar -cf "$tmp/fixtures.tar" tests/fixtures/runner tests/fixtures/gpu \
	tests/fixtures/endpoint tests/fixtures/roots tests/cli/run.sh)
echo "$units" >"$tmp/units"
set --
for t in $units; do
	set -- "$@" --bin "$bdir/test/$t"
done
# --icount 0: the guest's clock counts emulated instructions (1 ns each), so
# the runner's timing tests (a fixture that must leave its process group
# within 100 ms) see the same guest time however busy this machine is.
if ! SPARKMON_VM_ARCH=arm64 SPARKMON_VM_ROOT=$vmroot "$repo/tests/integration/kernel/vm.sh" run \
	--scenario "$repo/tests/integration/kernel/scenario-arm64.sh" --out "$out" \
	--timeout "${SPARKMON_ARM64_VM_TIMEOUT:-900}" --icount 0 \
	--bin "$SPARKMON" --bin "$bdir/sparkmon-fetch" --bin "$bdir/bench/wgpoll" \
	--bin "$vmroot/usr/bin/jq" --bin "$vmroot/usr/bin/perl" --bin "$vmroot/usr/bin/setsid" \
	"$@" \
	--data "$tmp/fixtures.tar" --data "$tmp/units" \
	--data "$repo/tests/integration/kernel/scenario-wireguard.sh"; then
	echo "arm64-kernel: the VM scenario failed; its log:" >&2
	cat "$out/scenario.log" "$out/init-error" 2>/dev/null >&2
	t_tmp=""
	exit 1
fi
echo "arm64-kernel: VM ran in $(cat "$out/wall-seconds") s"
machine=$(cat "$out/uname" 2>/dev/null || true)
case "$machine" in
aarch64\ *-arm64) ok "the VM ran Debian's arm64 kernel: $machine" ;;
*) fail "the VM's uname -m -r is '$machine', want aarch64 and an -arm64 kernel" ;;
esac

# ---- the unit tests user mode cannot run ------------------------------------
for t in $units; do
	log=$out/unit-$t.txt
	rc=$(cat "$out/unit-$t.rc" 2>/dev/null || echo none)
	n=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\.$/\1/p' "$log" 2>/dev/null)
	if [ "$rc" = 0 ] && [ -n "$n" ] && ! grep -q '^\[  FAILED  \]' "$log"; then
		ok "$t: all $n tests passed on the arm64 kernel"
	else
		cat "$log" >&2 2>/dev/null || true
		fail "$t exited $rc on the arm64 kernel"
	fi
	for name in $(na_rows | awk -F '|' -v b="$t" '$1 == b { print $2 }'); do
		grep -q "^\[       OK \] $name\$" "$log" 2>/dev/null &&
			ok "$t: $name (not applicable under user mode) passed" ||
			fail "$t: $name did not pass on the arm64 kernel"
	done
done

# ---- the CLI tests ------------------------------------------------------------
if [ "$(cat "$out/cli.rc" 2>/dev/null)" = 0 ] && grep -q '^cli tests passed' "$out/cli.txt"; then
	ok "CLI tests on the arm64 kernel: $(grep '^cli tests passed' "$out/cli.txt")"
else
	cat "$out/cli.txt" >&2 2>/dev/null || true
	fail "CLI tests failed on the arm64 kernel"
fi

# ---- WireGuard: the x86-64 test's assertions on this VM's output ------------
if SPARKMON=$SPARKMON SPARKMON_KERNEL_REUSE=$out "$repo/tests/integration/wireguard_kernel.sh"; then
	ok "WireGuard on the arm64 kernel: every assertion of wireguard_kernel.sh"
else
	fail "WireGuard on the arm64 kernel: wireguard_kernel.sh failed on the VM's output"
fi

echo "arm64-kernel: $(($(date +%s) - start)) s in all"
if [ "$t_failures" -ne 0 ]; then
	echo "arm64-kernel: VM output kept in $tmp"
	t_tmp=""
fi
finish
