#!/bin/sh
# Boots Debian's own 6.1 kernel under QEMU (TCG, never KVM) with a busybox
# initramfs, runs one scenario script inside and copies its results back.
#
#   vm.sh kernel
#       fetch (apt-get download, never installed) and unpack the kernel and
#       the WireGuard module with its dependencies into the cache; prints the
#       cache folder. Reused across runs.
#   vm.sh wgpoll BUILD_DIR
#       build tests/bench/wgpoll.c against BUILD_DIR/libsparkmon.a (the same
#       build as the sparkmon binary under test) into BUILD_DIR/bench/wgpoll.
#   vm.sh run --scenario FILE --out DIR [--bin PROG]... [--data FILE]...
#             [--timeout SECONDS] [--mem MIB] [--append ARGS] [--icount SHIFT]
#             [--smp CPUS] [--root TREE]
#       build an initramfs (busybox, wg, ip, setpriv, each PROG, their shared
#       libraries, the modules), boot it, and write every result file the
#       scenario left in /out into DIR. The scenario runs as
#       `sh /scenario /out /data` inside the VM; DATA files land in /data.
#       TREE, when given, is copied whole into the initramfs first (a
#       userland with a compiler, for instance).
#       Exits with the scenario's exit status; 124 when the VM timed out or
#       printed no status.
#
# Environment:
#   SPARKMON_KERNEL_CACHE  cache folder (default: <repo>/build-kernel-cache)
#   SPARKMON_VM_ARCH       amd64 (default) or arm64: Debian's arm64 kernel on
#                          qemu-system-aarch64 -machine virt -cpu max
#   SPARKMON_VM_ROOT       arm64 only: the arm64 userland (busybox, wg, ip,
#                          setpriv, the libraries), unpacked by
#                          tests/arm64/sysroot.sh; programs and libraries
#                          come from there instead of this machine
#   SPARKMON_KERNEL_PKG    kernel package (default: the one Debian 12's
#                          linux-image-ARCH depends on)
#   QEMU                   emulator (default: qemu-system-x86_64, or
#                          qemu-system-aarch64)
#
# Results travel over a second port (ttyS1; on arm64, whose virt machine
# has one serial port, a virtio console, hvc0) between markers, so that
# kernel messages on the console (ttyS0 or ttyAMA0, kept in
# DIR/console.log) never mix with them.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache=${SPARKMON_KERNEL_CACHE:-$repo/build-kernel-cache}
arch=${SPARKMON_VM_ARCH:-amd64}
vmroot=${SPARKMON_VM_ROOT:-}
case "$arch" in
amd64)
	qemu=${QEMU:-qemu-system-x86_64}
	apt_arch="" # this machine's own
	extra_modules=""
	;;
arm64)
	qemu=${QEMU:-qemu-system-aarch64}
	apt_arch=:arm64
	# The results port: virtio over MMIO, both modules in Debian's kernel.
	# inet_diag and tcp_diag answer NETLINK_SOCK_DIAG for TCP (a full
	# system loads them on demand; this initramfs has no modprobe).
	extra_modules="virtio_mmio virtio_console inet_diag tcp_diag"
	;;
*)
	echo "vm.sh: SPARKMON_VM_ARCH must be amd64 or arm64, not '$arch'" >&2
	exit 1
	;;
esac

die() {
	echo "vm.sh: $*" >&2
	exit 1
}

need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			die "'$tool' is missing (make deps installs tests/deps/kernel.txt)"
	done
}

# The kernel package: Debian 12's linux-image-ARCH points at the current
# linux-image-6.1.0-N-ARCH.
kernel_package() {
	if [ -n "${SPARKMON_KERNEL_PKG:-}" ]; then
		echo "$SPARKMON_KERNEL_PKG"
		return
	fi
	apt-cache depends "linux-image-$arch$apt_arch" 2>/dev/null |
		sed -n "s/^ *Depends: \\(linux-image-6\\.1\\.0-[0-9]*-$arch\\)\\($apt_arch\\)\\{0,1\\}\$/\\1/p" |
		head -n 1
}

# Prints the folder holding vmlinuz, modules/*.ko and modules.load (the
# insmod order), preparing it on first use.
prepare_kernel() {
	need apt-get apt-cache dpkg-deb tar depmod modprobe
	mkdir -p "$cache"
	pkg=$(kernel_package)
	ver=""
	[ -n "$pkg" ] && ver=$(apt-cache show --no-all-versions "$pkg$apt_arch" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n 1)
	if { [ -z "$pkg" ] || [ -z "$ver" ]; } && [ "$(id -u)" = 0 ] &&
		! find "$cache" -mindepth 2 -maxdepth 2 -name ready 2>/dev/null | grep -q .; then
		# A machine whose package lists were never fetched: fetch them once.
		apt-get update -qq >&2 || true
		pkg=$(kernel_package)
		[ -n "$pkg" ] && ver=$(apt-cache show --no-all-versions "$pkg$apt_arch" 2>/dev/null |
			sed -n 's/^Version: //p' | head -n 1)
	fi
	if [ -z "$pkg" ] || [ -z "$ver" ]; then
		# No package lists (offline): fall back to the newest prepared kernel.
		dir=$(find "$cache" -mindepth 2 -maxdepth 2 -name ready 2>/dev/null |
			sort -V | tail -n 1)
		[ -n "$dir" ] || die "cannot resolve the Debian 12 kernel package" \
			"(apt-get update?) and nothing is cached in $cache"
		dirname "$dir"
		return
	fi
	dir=$cache/${pkg}_$ver
	if [ -f "$dir/ready" ]; then
		missing=""
		for m in $extra_modules wireguard veth; do
			grep -qx "$m.ko" "$dir/modules.load" || missing="$missing $m"
		done
		if [ -z "$missing" ]; then
			echo "$dir"
			return
		fi
		echo "vm.sh: $dir lacks$missing: preparing it again" >&2
	fi
	echo "vm.sh: preparing $pkg $ver in $dir" >&2
	# Prepared aside and renamed into place, so that two runs at once never
	# see (or remove) each other's half-made folder.
	final=$dir
	dir=$cache/.prepare.$$
	rm -rf "$dir"
	mkdir -p "$dir/dl" "$dir/modules"
	(cd "$dir/dl" && apt-get download -q "$pkg$apt_arch=$ver" >&2) ||
		die "apt-get download $pkg=$ver failed"
	deb=$(find "$dir/dl" -name '*.deb' | head -n 1)
	[ -n "$deb" ] || die "apt-get download left no .deb"
	mkdir -p "$dir/root"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/root" ./boot ./lib/modules
	kver=$(ls "$dir/root/lib/modules")
	cp "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinuz"
	# The package ships no modules.dep (its postinst runs depmod): build one
	# and let modprobe derive the load order.
	depmod -b "$dir/root" "$kver"
	# modprobe takes one module per call (further words are parameters).
	: >"$dir/show-depends"
	for m in $extra_modules wireguard veth; do
		modprobe -d "$dir/root" -S "$kver" --show-depends "$m" >>"$dir/show-depends" ||
			die "modprobe --show-depends $m failed"
	done
	: >"$dir/modules.load"
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		ko=$(basename "$path")
		grep -qx "$ko" "$dir/modules.load" && continue
		cp "$path" "$dir/modules/"
		echo "$ko" >>"$dir/modules.load"
	done <"$dir/show-depends"
	grep -qx wireguard.ko "$dir/modules.load" || die "wireguard.ko not found in $pkg"
	grep -qx veth.ko "$dir/modules.load" || die "veth.ko not found in $pkg"
	echo "$kver" >"$dir/kernel-version"
	rm -rf "$dir/root" "$dir/dl"
	touch "$dir/ready"
	[ -f "$final/ready" ] && [ -n "${missing:-}" ] && rm -rf "$final"
	mv -T "$dir" "$final" 2>/dev/null || rm -rf "$dir"
	[ -f "$final/ready" ] || die "preparing $final failed"
	echo "$final"
}

# Copies an ELF program and every shared library it loads into the staging
# tree, at the same paths.
stage_elf() {
	src=$1 dest=$2
	if [ "$arch" = arm64 ]; then
		stage_foreign_elf "$src" "$dest"
		return
	fi
	mkdir -p "$stage$(dirname "$dest")"
	cp -L "$src" "$stage$dest"
	ldd "$src" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' |
		while read -r lib; do
			[ -e "$stage$lib" ] && continue
			mkdir -p "$stage$(dirname "$lib")"
			cp -L "$lib" "$stage$lib"
		done
}

# An arm64 program: its loader and libraries (the NEEDED entries, and
# theirs) come from $vmroot, found where its loader looks.
stage_foreign_elf() {
	mkdir -p "$stage$(dirname "$2")"
	cp -L "$1" "$stage$2"
	queue=$1
	while [ -n "$queue" ]; do
		set -- $queue
		elf=$1
		shift
		queue=$*
		interp=$(readelf -l "$elf" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
		for lib in $interp $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			case "$lib" in
			/*) path=$lib ;;
			*)
				path=""
				for dir in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu; do
					[ -e "$vmroot$dir/$lib" ] && path=$dir/$lib && break
				done
				[ -n "$path" ] || die "$lib (needed by $elf) is not in $vmroot"
				;;
			esac
			[ -e "$stage$path" ] && continue
			mkdir -p "$stage$(dirname "$path")"
			cp -L "$vmroot$path" "$stage$path"
			queue="$queue $vmroot$path"
		done
	done
}

cmd_run() {
	scenario="" out="" timeout=120 mem=1024 append="" bins="" datas="" icount="" smp=1 root=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--scenario) scenario=$2 ;;
		--out) out=$2 ;;
		--bin) bins="$bins $2" ;;
		--data) datas="$datas $2" ;;
		--timeout) timeout=$2 ;;
		--mem) mem=$2 ;;
		--append) append=$2 ;;
		--icount) icount=$2 ;;
		--smp) smp=$2 ;;
		--root) root=$2 ;;
		*) die "unknown option $1" ;;
		esac
		shift 2
	done
	if [ -z "$scenario" ] || [ -z "$out" ]; then
		die "run needs --scenario and --out"
	fi
	need "$qemu" cpio ldd timeout
	if [ "$arch" = arm64 ]; then
		need readelf
		[ -n "$vmroot" ] && [ -d "$vmroot" ] ||
			die "SPARKMON_VM_ROOT must name the arm64 userland (tests/arm64/sysroot.sh)"
		busybox=$vmroot/bin/busybox wg=$vmroot/usr/bin/wg ipbin=$vmroot/bin/ip
		setpriv=$vmroot/usr/bin/setpriv
		for b in "$busybox" "$wg" "$ipbin" "$setpriv"; do
			[ -x "$b" ] || die "$b is missing from the arm64 userland"
		done
		# busybox-static: the initramfs has no loader for busybox itself.
		readelf -l "$busybox" | grep -q 'program interpreter' &&
			die "$busybox is not static (busybox-static)"
	else
		busybox=/bin/busybox
		[ -x /bin/busybox ] || die "/bin/busybox is missing (busybox-static)"
		# The initramfs has no loader for busybox itself: it must be static.
		ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is not static (install busybox-static)"
		wg=$(command -v wg) || die "'wg' is missing (wireguard-tools)"
		ipbin=$(command -v ip) || die "'ip' is missing (iproute2)"
		setpriv=$(command -v setpriv) || die "'setpriv' is missing (util-linux)"
	fi

	kdir=$(prepare_kernel)
	kver=$(cat "$kdir/kernel-version")
	mkdir -p "$out"
	stage=$(mktemp -d "${TMPDIR:-/tmp}/sparkmon-vm.XXXXXX")
	trap 'rm -rf "$stage"' EXIT INT TERM
	# mktemp made it 0700: it becomes / in the VM, which unprivileged
	# processes must be able to walk.
	chmod 0755 "$stage"
	umask 022

	if [ -n "$root" ]; then
		cp -a "$root/." "$stage/" || die "copying $root failed"
	fi
	mkdir -p "$stage/bin" "$stage/sbin" "$stage/usr/bin" "$stage/usr/sbin" \
		"$stage/etc" "$stage/data" "$stage/lib/modules/$kver"
	cp "$busybox" "$stage/bin/busybox"
	stage_elf "$wg" /usr/bin/wg
	stage_elf "$ipbin" /usr/sbin/ip
	stage_elf "$setpriv" /usr/bin/setpriv
	for b in $bins; do
		[ -x "$b" ] || die "--bin $b is not an executable"
		stage_elf "$b" "/usr/bin/$(basename "$b")"
	done
	for d in $datas; do
		cp "$d" "$stage/data/"
	done
	cp "$kdir"/modules/*.ko "$stage/lib/modules/$kver/"
	cp "$kdir/modules.load" "$stage/etc/modules.load"
	cp "$here/init" "$stage/init"
	cp "$scenario" "$stage/scenario"
	chmod 0755 "$stage/init"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' \
		>"$stage/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
	(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet) >"$out/initramfs.cpio"
	rm -rf "$stage"
	trap - EXIT INT TERM

	rm -f "$out/console.log" "$out/results.log" "$out/exit-status"
	start=$(date +%s.%N)
	rc=0
	# -accel tcg: KVM is not usable on these machines. Console on ttyS0,
	# results on ttyS1.
	# With --icount the guest clock advances 2^SHIFT ns per emulated
	# instruction: CPU times measured inside become instruction counts,
	# independent of how busy the host is.
	set --
	[ -n "$icount" ] && set -- -icount "shift=$icount,sleep=on"
	if [ "$arch" = arm64 ]; then
		# pauth-impdef: pointer authentication with QEMU's own cheap hash
		# instead of QARMA (the same instructions, several times faster).
		set -- "$@" -machine virt -cpu max,pauth-impdef=on \
			-serial "file:$out/console.log" -device virtio-serial-device \
			-chardev "file,id=results,path=$out/results.log" \
			-device virtconsole,chardev=results
		console="console=ttyAMA0 sparkmon_results=/dev/hvc0"
	else
		set -- "$@" -cpu max -serial "file:$out/console.log" \
			-serial "file:$out/results.log"
		console=console=ttyS0
	fi
	timeout -k 5 "$timeout" "$qemu" -accel tcg -smp "$smp" -m "$mem" -nographic "$@" \
		-monitor none -nic none -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$out/initramfs.cpio" \
		-append "$console panic=-1 quiet loglevel=3 rdinit=/init $append" \
		</dev/null >"$out/qemu.log" 2>&1 || rc=$?
	end=$(date +%s.%N)
	echo "$start $end" | awk '{ printf "%.1f\n", $2 - $1 }' >"$out/wall-seconds"
	if [ "$rc" -ne 0 ]; then
		echo "vm.sh: qemu exited with $rc after $(cat "$out/wall-seconds") s" \
			"(timeout ${timeout}s); console tail:" >&2
		tail -n 30 "$out/console.log" >&2 2>/dev/null || true
		cat "$out/qemu.log" >&2
		return 124
	fi
	# Split "@@BEGIN name@@ ... @@END name@@" sections into files.
	tr -d '\r' <"$out/results.log" | awk -v dir="$out" '
		/^@@BEGIN [A-Za-z0-9._-]+@@$/ { f = dir "/" substr($2, 1, length($2) - 2); printf "" > f; next }
		/^@@END [A-Za-z0-9._-]+@@$/ { close(f); f = ""; next }
		/^@@EXIT [0-9]+@@$/ { status = substr($2, 1, length($2) - 2); print status > (dir "/exit-status"); next }
		f != "" { print > f }
	'
	if [ ! -s "$out/exit-status" ]; then
		echo "vm.sh: the VM printed no exit status; console tail:" >&2
		tail -n 30 "$out/console.log" >&2
		return 124
	fi
	return "$(cat "$out/exit-status")"
}

# Through the Makefile, so that flags and libraries are the ones the
# binary under test was built with.
build_wgpoll() {
	bdir=$(cd "$1" 2>/dev/null && pwd) || die "build folder $1 does not exist"
	[ -f "$bdir/libsparkmon.a" ] || die "$bdir/libsparkmon.a is missing (make BUILD=$1)"
	need make cc
	# Relative to the tree when inside it: the targets then have the names
	# the Makefile's dependency files use.
	rel=${bdir#"$repo"/}
	make -s -C "$repo" BUILD="$rel" "$rel/bench/wgpoll" >&2 ||
		die "building wgpoll against $bdir/libsparkmon.a failed"
	echo "$bdir/bench/wgpoll"
}

case "${1:-}" in
kernel)
	prepare_kernel
	;;
wgpoll)
	[ $# -eq 2 ] || die "usage: vm.sh wgpoll BUILD_DIR"
	build_wgpoll "$2"
	;;
run)
	shift
	cmd_run "$@"
	;;
*)
	die "usage: vm.sh kernel | vm.sh run --scenario FILE --out DIR [options]"
	;;
esac
