#!/bin/sh
# Builds the Debian package in a copy of the source tree, so that the build
# never writes into the checkout (debian/ and the package's build folder
# live only in the copy).
#
#   packaging/mkdeb.sh OUTDIR
#
# OUTDIR/sparkmon-VERSION/ is the copy; the .deb files land in OUTDIR and
# their paths are printed. Build-Depends come from tests/deps/build.txt, the
# same list `make deps` installs, so the two cannot drift apart.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || {
	echo "usage: $0 OUTDIR" >&2
	exit 2
}
mkdir -p "$1"
out=$(cd "$1" && pwd)

version=$(sed -n 's/^VERSION *:= *//p' "$repo/Makefile")
changelog=$(sed -n '1s/^sparkmon (\([^)]*\)).*/\1/p' "$repo/packaging/debian/changelog")
if [ "$version" != "$changelog" ]; then
	echo "mkdeb: Makefile VERSION is '$version' but packaging/debian/changelog" \
		"starts with '$changelog': add a changelog entry (dch -v $version)" >&2
	exit 1
fi

src=$out/sparkmon-$version
rm -rf "$src"
rm -f "$out"/sparkmon_* "$out"/sparkmon-dbgsym_*
mkdir -p "$src"
(cd "$repo" && tar -cf - Makefile README.md monitor probes web packaging tests/deps) |
	(cd "$src" && tar -xf -)
cp -R "$repo/packaging/debian" "$src/debian"

build_depends=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e '/^build-essential$/d' \
	"$repo/tests/deps/build.txt" | tr -s ' \n' '\n' | sed '/^$/d' | paste -sd, - |
	sed 's/,/, /g')
sed -i "s/@BUILD_DEPENDS@/$build_depends/" "$src/debian/control"

log=$out/build.log
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "mkdeb: dpkg-buildpackage failed; full log in $log" >&2
	exit 1
fi
# Warnings do not stop this build (WERROR=): show them.
warnings=$(grep -c 'warning:' "$log" || true)
if [ "$warnings" -gt 0 ]; then
	grep 'warning:' "$log" >&2
	echo "mkdeb: $warnings compiler warning(s); full log in $log" >&2
fi
ls "$out"/sparkmon_"$version"_*.deb
