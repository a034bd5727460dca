#!/bin/bash
# The Debian package: built with dpkg-buildpackage from packaging/debian/ in
# a copy of the tree (packaging/mkdeb.sh, as `make deb` does), linted, then
# installed, used, removed and purged in a throwaway root: an overlay of this
# machine's / in a private mount namespace, so the real system is untouched
# and whatever the package leaves behind after purging shows up in the
# overlay's upper layer.
set -euo pipefail

: "${SPARKMON:?SPARKMON must point at the sparkmon binary}"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib/common.sh"
need_tools dpkg-buildpackage dh lintian unshare chroot readelf
need_root "mount namespace, overlay, chroot"
tmpdir pkgdeb

version=$(sed -n 's/^VERSION *:= *//p' "$repo/Makefile")
out=$(dirname "$SPARKMON")-deb

# ---- build ----------------------------------------------------------------------
start=$(date +%s)
if ! deb=$("$repo/packaging/mkdeb.sh" "$out"); then
	echo "FAIL: the package did not build" >&2
	exit 1
fi
ok "dpkg-buildpackage: $(basename "$deb") in $(($(date +%s) - start)) s"
for f in debian packaging/debian/sparkmon packaging/debian/files packaging/debian/.debhelper \
	packaging/debian/debhelper-build-stamp packaging/debian/sparkmon.substvars; do
	[ -e "$repo/$f" ] && fail "the package build wrote $f into the source tree"
done

# ---- lint -----------------------------------------------------------------------
changes=${deb%.deb}.changes
lintian --no-cfg --fail-on error "$changes" >"$tmp/lintian.txt" 2>&1 || true
if grep -q '^E:' "$tmp/lintian.txt"; then
	fail "lintian errors:
$(grep '^E:' "$tmp/lintian.txt")"
else
	ok "lintian: no errors ($(grep -c '^W:' "$tmp/lintian.txt" || true) warnings)"
fi
grep '^W:' "$tmp/lintian.txt" || true

# ---- metadata -------------------------------------------------------------------
dpkg-deb -f "$deb" Depends >"$tmp/depends"
# Every shared library the programs need is a dependency (from shlibs):
# the daemon's and its HTTP helper's (libcurl).
dpkg-deb -x "$deb" "$tmp/x"
needed=""
for prog in usr/bin/sparkmon usr/lib/sparkmon/sparkmon-fetch; do
	[ -f "$tmp/x/$prog" ] || continue # reported below
	needed="$needed $(readelf -d "$tmp/x/$prog" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
done
for lib in $(printf '%s\n' $needed | sort -u); do
	# awk reads to the end: an early exit would SIGPIPE ldconfig, and
	# pipefail would turn that into a failure.
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {print $NF; found = 1}')
	# usrmerge: dpkg may know the file under /lib or /usr/lib only.
	owner=""
	for p in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
		owner=$( (dpkg -S "$p" 2>/dev/null || true) | sed -n '1s/:.*//p')
		[ -n "$owner" ] && break
	done
	if [ -z "$owner" ]; then
		fail "no package owns $lib ($path)"
	elif ! grep -Eq "(^|, )$owner( |,|$)" "$tmp/depends"; then
		fail "Depends lacks $owner (for $lib)"
	fi
done
ok "Depends: $(cat "$tmp/depends")"
grep -Eq '(^|, )libcurl4( |,|$)' "$tmp/depends" || fail "Depends lacks libcurl4 (for sparkmon-fetch)"
# Only the helper links libcurl and OpenSSL.
if readelf -d "$tmp/x/usr/bin/sparkmon" | grep -E 'NEEDED.*lib(curl|ssl|crypto)\.so'; then
	fail "/usr/bin/sparkmon links libcurl or OpenSSL (above)"
else
	ok "/usr/bin/sparkmon links no libcurl, libssl, libcrypto"
fi
# Every deliverable is in the package.
for f in usr/bin/sparkmon usr/lib/sparkmon/sparkmon-fetch lib/systemd/system/sparkmon.service \
	usr/share/man/man8/sparkmon.8.gz usr/share/man/man5/sparkmon.conf.5.gz etc/cron.d/sparkmon \
	etc/sparkmon/sparkmon.conf \
	usr/share/sparkmon/prometheus/scrape.yml usr/share/sparkmon/prometheus/alerts.yml \
	usr/share/sparkmon/prometheus/alertmanager.yml usr/share/doc/sparkmon/copyright; do
	[ -f "$tmp/x/$f" ] && ok "package has /$f" || fail "package lacks /$f"
done
grep -qx 'License: Expat' "$tmp/x/usr/share/doc/sparkmon/copyright" &&
	ok "copyright: MIT (Expat)" || fail "the package's copyright file does not name the MIT (Expat) license"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles >"$tmp/conffiles"
for f in /etc/sparkmon/sparkmon.conf /etc/cron.d/sparkmon; do
	grep -qx "$f" "$tmp/conffiles" || fail "$f is not a conffile"
done
ok "conffiles: $(paste -sd' ' "$tmp/conffiles")"

# ---- install, use, remove, purge in a throwaway root -----------------------------
cat >"$tmp/inside.sh" <<EOF
#!/bin/sh
# Runs chrooted in the overlay.
set -u
failures=0
fail() { echo "FAIL: \$*" >&2; failures=\$((failures + 1)); }
ok() { echo "ok: \$*"; }
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin

dpkg -i /tmp/sparkmon.deb >/tmp/dpkg-i.log 2>&1 && ok "dpkg -i" ||
	{ fail "dpkg -i"; cat /tmp/dpkg-i.log >&2; exit 1; }
v=\$(sparkmon --version)
[ "\$v" = "sparkmon $version" ] && ok "sparkmon --version: \$v" || fail "sparkmon --version: '\$v'"
if sparkmon config >/tmp/config.txt 2>&1; then
	head -1 /tmp/config.txt | grep -q 'source: /etc/sparkmon/sparkmon.conf' &&
		ok "sparkmon config reads the installed /etc/sparkmon/sparkmon.conf" ||
		fail "sparkmon config: \$(head -1 /tmp/config.txt)"
else
	fail "sparkmon config: \$(cat /tmp/config.txt)"
fi
[ -L /etc/systemd/system/multi-user.target.wants/sparkmon.service ] &&
	ok "unit enabled on install (multi-user.target.wants)" || fail "the unit is not enabled"
systemd-analyze verify /lib/systemd/system/sparkmon.service >/tmp/verify.txt 2>&1 &&
	! [ -s /tmp/verify.txt ] && ok "systemd-analyze verify of the installed unit (man pages found)" ||
	fail "systemd-analyze verify: \$(cat /tmp/verify.txt)"
MANWIDTH=80 man --warnings sparkmon.conf >/dev/null 2>/tmp/man.err && ! [ -s /tmp/man.err ] &&
	MANWIDTH=80 man --warnings 8 sparkmon >/dev/null 2>>/tmp/man.err && ! [ -s /tmp/man.err ] &&
	ok "man sparkmon, man sparkmon.conf: installed, no warnings" || fail "man: \$(cat /tmp/man.err)"
[ -f /etc/cron.d/sparkmon ] && ok "cron file installed" || fail "no /etc/cron.d/sparkmon"
# The installed daemon finds its HTTP helper in /usr/lib/sparkmon: a refused
# connection on loopback comes back as curl's message, not as a missing
# helper.
printf '[general]\nstate_dir = /tmp\n[endpoint]\nip_urls = http://127.0.0.1:1/\n' >/tmp/fetch.conf
out=\$(sparkmon -c /tmp/fetch.conf check --only endpoint.public_ip 2>&1)
case "\$out" in
*"probe failed"*) fail "installed sparkmon without its helper: \$out" ;;
*"1 URL failed, last http://127.0.0.1:1/: "*) ok "installed sparkmon runs /usr/lib/sparkmon/sparkmon-fetch" ;;
*) fail "installed sparkmon, endpoint check: \$out" ;;
esac

# What the running service would leave: StateDirectory= with DynamicUser=.
mkdir -p /var/lib/private/sparkmon && ln -s private/sparkmon /var/lib/sparkmon
echo '# changed' >>/etc/sparkmon/sparkmon.conf

dpkg -r sparkmon >/tmp/dpkg-r.log 2>&1 && ok "dpkg -r" || { fail "dpkg -r"; cat /tmp/dpkg-r.log >&2; }
[ -e /usr/bin/sparkmon ] && fail "dpkg -r left /usr/bin/sparkmon"
[ -e /usr/lib/sparkmon ] && fail "dpkg -r left /usr/lib/sparkmon"
[ -f /etc/sparkmon/sparkmon.conf ] && ok "dpkg -r keeps the changed conffile" ||
	fail "dpkg -r removed the conffile"
dpkg -P sparkmon >/tmp/dpkg-p.log 2>&1 && ok "dpkg -P" || { fail "dpkg -P"; cat /tmp/dpkg-p.log >&2; }
st=\$(dpkg-query -W -f='\${db:Status-Abbrev}' sparkmon 2>/dev/null || true)
[ -z "\$st" ] || [ "\$st" = "un " ] && ok "purged: dpkg knows no sparkmon" || fail "after purge: '\$st'"
exit \$failures
EOF
chmod +x "$tmp/inside.sh"

cat >"$tmp/overlay.sh" <<'EOF'
#!/bin/sh
# In a private mount namespace: an overlay of / on a tmpfs, with /proc, /sys,
# /dev bound in; runs inside.sh chrooted; lists what the upper layer holds
# afterwards.
set -eu
tmp=$1 deb=$2
mount -t tmpfs tmpfs "$tmp/ov"
mkdir "$tmp/ov/upper" "$tmp/ov/work" "$tmp/ov/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/ov/upper,workdir=$tmp/ov/work" "$tmp/ov/root"
for d in proc sys dev; do
	mount --rbind "/$d" "$tmp/ov/root/$d"
done
mount -t tmpfs tmpfs "$tmp/ov/root/tmp"
mount -t tmpfs tmpfs "$tmp/ov/root/run"
cp "$deb" "$tmp/ov/root/tmp/sparkmon.deb"
cp "$tmp/inside.sh" "$tmp/ov/root/tmp/inside.sh"
set +e
chroot "$tmp/ov/root" /tmp/inside.sh
rc=$?
set -e
# What the package left on the system once purged. /var/cache/man holds
# the pages formatted by the `man` runs above (man-db's cache, not ours).
(cd "$tmp/ov/upper" && find . -path ./tmp -prune -o -path ./run -prune -o \
	-path ./var/cache/man -prune -o -print |
	grep -i sparkmon || true) >"$tmp/leftovers"
exit $rc
EOF
chmod +x "$tmp/overlay.sh"
mkdir "$tmp/ov"
if unshare -m --propagation private "$tmp/overlay.sh" "$tmp" "$deb"; then
	:
else
	fail "install/remove/purge in the throwaway root (see above)"
fi
if [ -s "$tmp/leftovers" ]; then
	fail "left behind after purge:
$(cat "$tmp/leftovers")"
else
	ok "purge left nothing of sparkmon behind"
fi

finish
