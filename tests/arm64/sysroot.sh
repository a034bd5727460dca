#!/bin/sh
# Prepares an arm64 sysroot for the cross build and for qemu-aarch64 -L:
# the arm64 packages of the build dependencies (the -dev packages of
# tests/deps/build.txt and tests/deps/test.txt, glibc and everything they
# depend on) are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x`. Nothing is installed: the host's own packages are never
# upgraded or replaced.
#
#   sysroot.sh SYSROOT CACHE
#
# SPARKMON_SYSROOT_EXTRA names more packages (the arm64 userland of the
# kernel test's VM).
# The .deb files stay in CACHE; SYSROOT is unpacked again only when the
# resolved package versions change (its .versions file). Needs the arm64
# package lists: as root, a machine without them gets the arm64
# architecture added to apt's lists (dpkg --add-architecture arm64,
# apt-get update), which installs nothing.
set -eu

[ $# -eq 2 ] || {
	echo "usage: sysroot.sh SYSROOT CACHE" >&2
	exit 2
}
sysroot=$1
cache=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

die() {
	echo "sysroot: $*" >&2
	exit 1
}

for tool in apt-get apt-cache dpkg dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing"
done

# The -dev packages the native build and the unit tests use, plus the C
# library and libgcc (the cross compiler brings neither for the sysroot).
roots="libc6-dev libgcc-s1 ${SPARKMON_SYSROOT_EXTRA:-} $(sed 's/#.*//' \
	"$repo/tests/deps/build.txt" "$repo/tests/deps/test.txt" | grep -- '-dev$' | sort -u |
	tr '\n' ' ')"

has_lists() {
	apt-cache show --no-all-versions libc6:arm64 >/dev/null 2>&1
}
if ! has_lists; then
	[ "$(id -u)" = 0 ] || die "no arm64 package lists; as root run:" \
		"dpkg --add-architecture arm64 && apt-get update"
	echo "sysroot: adding arm64 to apt's package lists (nothing is installed)" >&2
	dpkg --add-architecture arm64
	apt-get update -qq >&2 || die "apt-get update failed"
	has_lists || die "still no arm64 package lists after apt-get update"
fi

# Every arm64 package the roots need, with its candidate version (one
# apt-cache call each: each reads the whole package lists).
resolve() {
	# shellcheck disable=SC2046,SC2086 # one word per package
	pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances $(printf '%s:arm64 ' $roots) |
		sed -n 's/^\([a-z0-9][a-z0-9.+-]*:arm64\)$/\1/p' | sort -u)
	[ -n "$pkgs" ] || die "apt-cache depends found no arm64 package"
	# shellcheck disable=SC2086
	apt-cache show --no-all-versions $pkgs |
		awk '/^Package: / { p = $2 } /^Version: / { print p "=" $2 }' | sort -u
}
mkdir -p "$cache"
wanted=$cache/versions.$$
trap 'rm -f "$wanted"' EXIT INT TERM
resolve >"$wanted"
[ -s "$wanted" ] || die "resolving the arm64 packages gave nothing"
if [ -f "$sysroot/.versions" ] && cmp -s "$wanted" "$sysroot/.versions"; then
	exit 0
fi

# Fetch what the cache lacks (apt-get download names files pkg_ver_arch.deb,
# with ':' in the version written %3a).
missing=""
while IFS='=' read -r pkg ver; do
	file=${pkg}_$(echo "$ver" | sed 's/:/%3a/')_arm64.deb
	[ -f "$cache/$file" ] || missing="$missing $pkg:arm64=$ver"
done <"$wanted"
if [ -n "$missing" ]; then
	echo "sysroot: downloading$(echo "$missing" | wc -w | sed 's/^/ /') arm64 packages" >&2
	# shellcheck disable=SC2086
	(cd "$cache" && apt-get download -q $missing >&2) || die "apt-get download failed"
fi

# Unpacked aside and renamed into place: a half-made sysroot is never used.
new=$sysroot.new.$$
rm -rf "$new"
mkdir -p "$new"
while IFS='=' read -r pkg ver; do
	file=${pkg}_$(echo "$ver" | sed 's/:/%3a/')_arm64.deb
	dpkg-deb -x "$cache/$file" "$new" || die "dpkg-deb -x $file failed"
done <"$wanted"
# Absolute symbolic links would point into the host: make them relative
# to the sysroot.
find "$new" -type l | while read -r link; do
	target=$(readlink "$link")
	case "$target" in
	/*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$new$target")" "$link" ;;
	esac
done
cp "$wanted" "$new/.versions"
rm -rf "$sysroot"
mv -T "$new" "$sysroot"
echo "sysroot: $(wc -l <"$wanted") arm64 packages unpacked in $sysroot" >&2
