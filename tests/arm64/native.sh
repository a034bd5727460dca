#!/bin/sh
# The DGX Spark quick start's build, on arm64 itself rather than crossed:
# Debian 12's arm64 userland with gcc, make, pkgconf, the base tools
# (coreutils, findutils, sed, grep, diffutils, mawk, dash) and the build's
# -dev packages (tests/deps/build.txt; unpacked by tests/arm64/sysroot.sh,
# never installed here) boots with Debian's arm64 kernel on qemu-system-aarch64
# (tests/integration/kernel/vm.sh) and runs `make` and `make install` on the
# tracked files of this tree. The installed sparkmon must start and print
# the installed configuration. Not part of make test: the compiler runs
# emulated, which takes minutes.
#
#   native.sh DIR      (DIR/nativeroot holds the userland)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || {
	echo "usage: native.sh DIR" >&2
	exit 2
}
mkdir -p "$1"
dir=$(cd "$1" && pwd)
SPARKMON=/bin/true # common.sh wants it; no host binary is tested here
. "$repo/tests/integration/lib/common.sh"
need_tools git tar

root=$dir/nativeroot
SPARKMON_SYSROOT_EXTRA="gcc make pkgconf coreutils findutils sed grep diffutils mawk dash
	busybox-static wireguard-tools iproute2 util-linux" \
	"$here/sysroot.sh" "$root" "${SPARKMON_ARM64_CACHE:-$repo/build-arm64-cache}"

start=$(date +%s)
tmpdir arm64-native
out=$tmp/out
(cd "$repo" && git ls-files -z | tar --null -T - -cf "$tmp/source.tar")
if ! SPARKMON_VM_ARCH=arm64 SPARKMON_VM_ROOT=$root "$repo/tests/integration/kernel/vm.sh" run \
	--scenario "$repo/tests/integration/kernel/scenario-native.sh" --out "$out" \
	--root "$root" --smp 2 --mem 3072 --timeout "${SPARKMON_ARM64_NATIVE_TIMEOUT:-1800}" \
	--data "$tmp/source.tar"; then
	echo "arm64-native: the VM scenario failed; its log:" >&2
	cat "$out/scenario.log" "$out/init-error" 2>/dev/null >&2
	t_tmp=""
	exit 1
fi
echo "arm64-native: VM ran in $(cat "$out/wall-seconds") s on $(cat "$out/uname"), $(cat "$out/gcc")"

for step in make install; do
	what="make"
	[ "$step" = install ] && what="make install"
	if [ "$(cat "$out/$step.rc")" = 0 ]; then
		ok "$what on arm64 ($(cat "$out/$step.seconds") s emulated)"
	else
		tail -n 30 "$out/$step.log" >&2
		fail "$what exited $(cat "$out/$step.rc") on arm64"
	fi
done
warnings=$(grep -c 'warning:' "$out/make.log" || true)
[ "$warnings" = 0 ] && ok "no compiler warning" || fail "$warnings compiler warnings"
for f in usr/bin/sparkmon usr/lib/sparkmon/sparkmon-fetch etc/sparkmon/sparkmon.conf \
	usr/share/man/man8/sparkmon.8 lib/systemd/system/sparkmon.service etc/cron.d/sparkmon; do
	grep -q "^\./$f\$" "$out/installed" || grep -q "^\./usr/$f\$" "$out/installed" ||
		fail "make install did not install $f"
done
grep -q '^sparkmon ' "$out/version" && ok "installed sparkmon runs: $(cat "$out/version")" ||
	fail "installed sparkmon --version: $(cat "$out/version")"
[ "$(cat "$out/config.rc")" = 0 ] && grep -q '^\[general\]' "$out/config" &&
	ok "installed sparkmon reads the installed configuration" ||
	fail "sparkmon config on the installed file: $(head -c 300 "$out/config")"
[ "$(cat "$out/fetch-help.rc")" = 0 ] && ok "installed sparkmon-fetch runs" ||
	fail "installed sparkmon-fetch --help exited $(cat "$out/fetch-help.rc")"

echo "arm64-native: $(($(date +%s) - start)) s in all"
if [ "$t_failures" -ne 0 ]; then
	echo "arm64-native: VM output kept in $tmp"
	t_tmp=""
fi
finish
