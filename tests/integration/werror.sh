#!/bin/sh
# Warnings are errors in a development build, not in `make install` nor in
# the Debian package: in a copy of the tree with one file that warns, the
# plain build fails on it, while `make install` and packaging/mkdeb.sh
# succeed and show the warning.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib/common.sh"
need_tools git make cc dpkg-buildpackage dh
tmpdir werror
src=$tmp/src

mkdir -p "$src"
(cd "$repo" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$src"
[ -f "$src/Makefile" ] || die "copying the tracked files of $repo failed"
# A library file with an unused variable: -Wall warns about it.
cat >"$src/monitor/zz_warns.c" <<'C'
int zz_warns(void);
int zz_warns(void)
{
	int unused;

	return 0;
}
C

if make -C "$src" -j2 BUILD=b >"$tmp/build.log" 2>&1; then
	fail "a warning did not stop the development build"
elif grep -q "zz_warns.c.*error: unused variable.*-Werror=unused-variable" "$tmp/build.log"; then
	ok "development build: the warning is an error"
else
	fail "development build failed, but not on the warning: $(tail -n 5 "$tmp/build.log")"
fi

if make -C "$src" -j2 BUILD=i DESTDIR="$tmp/dest" install >"$tmp/install.log" 2>&1 &&
	[ -x "$tmp/dest/usr/local/bin/sparkmon" ]; then
	ok "make install builds and installs despite the warning"
else
	fail "make install failed: $(tail -n 5 "$tmp/install.log")"
fi
grep -q "zz_warns.c.*warning: unused variable" "$tmp/install.log" &&
	ok "make install shows the warning" || fail "make install hid the warning"

if "$src/packaging/mkdeb.sh" "$tmp/deb" >"$tmp/deb.out" 2>"$tmp/deb.err"; then
	ok "the Debian package builds despite the warning: $(basename "$(cat "$tmp/deb.out")")"
else
	fail "mkdeb.sh failed: $(tail -n 5 "$tmp/deb.err")"
fi
grep -q "zz_warns.c.*warning: unused variable" "$tmp/deb.err" &&
	grep -q "^mkdeb: 1 compiler warning" "$tmp/deb.err" &&
	ok "mkdeb.sh repeats the warning and counts it" ||
	fail "mkdeb.sh did not show the warning: $(cat "$tmp/deb.err")"
finish
