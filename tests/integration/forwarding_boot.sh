#!/bin/sh
# Boot persistence of forwarding against the real boot tool: for each
# layout of sysctl.d files, the real /lib/systemd/systemd-sysctl runs over
# the test's own directories (bind-mounted over /etc/sysctl.d,
# /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d and
# /etc/sysctl.conf in a private mount namespace) inside the test's own
# network namespace, with forwarding set to 0 first. sparkmon, pointed at
# the same files through [general] root, must say forwarding.persistent
# (and forwarding.ipv6) OK exactly when systemd-sysctl left forwarding on;
# and where it is not OK, its hint, applied as written, must turn it on.
# procps' `sysctl --system` runs over the same files too: the summaries
# say it differs exactly where it leaves forwarding otherwise.
set -eu

. "$(dirname "$0")/lib/common.sh"
need_root "network and mount namespaces"
need_tools jq unshare ip mount sed sysctl
sysctl_bin=/lib/systemd/systemd-sysctl
[ -x "$sysctl_bin" ] || {
	echo "FAIL: $sysctl_bin is missing (make deps; tests/deps/boot.txt)" >&2
	exit 1
}
for f in /etc/sysctl.conf /etc/sysctl.d /usr/lib/sysctl.d /usr/local/lib /run; do
	[ -e "$f" ] || {
		echo "FAIL: $f is missing: nothing to mount the test's files over" >&2
		exit 1
	}
done

tmpdir forwarding_boot
ns="sparkmon-fb-$$"
netns_add "$ns"

# layout NAME: an empty root with the directories both programs read; the
# runtime files say "on", so the checks judge the boot value only.
layout() {
	root="$tmp/$1"
	mkdir -p "$root/etc/sysctl.d" "$root/run/sysctl.d" "$root/usr/local/lib/sysctl.d" \
		"$root/usr/lib/sysctl.d" "$root/proc/sys/net/ipv4" \
		"$root/proc/sys/net/ipv6/conf/all" "$root/etc/wireguard"
	: >"$root/etc/sysctl.conf"
	echo 1 >"$root/proc/sys/net/ipv4/ip_forward"
	echo 1 >"$root/proc/sys/net/ipv6/conf/all/forwarding"
	# The VPN carries IPv6, so forwarding.ipv6 is judged too.
	printf '[Interface]\nAddress = 10.100.0.1/24, fd00:5:6::1/64\nListenPort = 51820\n' \
		>"$root/etc/wireguard/wgfb0.conf"
	printf '[general]\nroot = %s\n[wireguard]\ninterfaces = wgfb0\n' "$root" \
		>"$tmp/$1.conf"
}

# put NAME PATH TEXT: writes TEXT (printf format) to PATH below NAME's root.
put() {
	mkdir -p "$(dirname "$tmp/$1$2")"
	printf "$3" >"$tmp/$1$2"
}

# debian NAME: Debian's link, /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf.
debian() {
	ln -s ../sysctl.conf "$tmp/$1/etc/sysctl.d/99-sysctl.conf"
}

# boot NAME [procps]: runs systemd-sysctl (or, with procps, `sysctl
# --system`) over NAME's files in the namespace, from forwarding off;
# prints "IPV4 IPV6" as it left them (1 on, 0 off).
boot() {
	r="$tmp/$1"
	ip netns exec "$ns" unshare -m sh -eu -c '
		r=$1
		echo 0 >/proc/sys/net/ipv4/ip_forward
		echo 0 >/proc/sys/net/ipv6/conf/all/forwarding
		mount --bind "$r/etc/sysctl.d" /etc/sysctl.d
		mount --bind "$r/etc/sysctl.conf" /etc/sysctl.conf
		mount --bind "$r/usr/lib/sysctl.d" /usr/lib/sysctl.d
		mount --bind "$r/usr/local/lib" /usr/local/lib
		mount --bind "$r/run" /run
		if [ "$3" = procps ]; then
			sysctl --system >/dev/null 2>&1 || true
		else
			"$2" --prefix=/net/ipv4/ --prefix=/net/ipv6/ >/dev/null 2>&1 || true
		fi
		v4=$(cat /proc/sys/net/ipv4/ip_forward)
		v6=$(cat /proc/sys/net/ipv6/conf/all/forwarding)
		[ "$v4" = 0 ] || v4=1
		[ "$v6" = 0 ] || v6=1
		echo "$v4 $v6"' sh "$r" "$sysctl_bin" "${2:-systemd}"
}

# differs NAME ID: whether the check's summary says `sysctl --system` ends
# elsewhere ("yes" or "no").
differs() {
	jq -r ".checks[] | select(.id == \"$2\") | .summary" "$tmp/$1.json" |
		grep -q 'sysctl --system` differs' && echo yes || echo no
}

# procps_note NAME TRUTH: where `sysctl --system` leaves forwarding
# otherwise than systemd-sysctl, and only there, the summaries say so.
procps_note() {
	pp=$(boot "$1" procps)
	want4=$([ "${pp% *}" = "${2% *}" ] && echo no || echo yes)
	want6=$([ "${pp#* }" = "${2#* }" ] && echo no || echo yes)
	got="$(differs "$1" forwarding.persistent) $(differs "$1" forwarding.ipv6)"
	if [ "$got" = "$want4 $want6" ]; then
		ok "$1: sysctl --system leaves $pp; the summaries say it differs: $got"
	else
		fail "$1: sysctl --system leaves $pp, systemd-sysctl $2; 'differs' said: $got"
		jq -c '.checks' "$tmp/$1.json" >&2
	fi
}

# judge NAME: sparkmon's statuses for both checks, "OK OK" and the like.
judge() {
	"$SPARKMON" -c "$tmp/$1.conf" check --only forwarding --json >"$tmp/$1.json" 2>&1 || true
	jq -r '[(.checks[] | select(.id == "forwarding.persistent") | .status),
		(.checks[] | select(.id == "forwarding.ipv6") | .status)] | join(" ")' \
		"$tmp/$1.json"
}

hint_of() {
	jq -r ".checks[] | select(.id == \"$2\") | .hint" "$tmp/$1.json"
}

# apply_hint NAME HINT: does what the hint says, on NAME's files: either
# "echo 'KEY = 1' > FILE ..." or "change line N of FILE to 'KEY = 1', ...".
apply_hint() {
	root="$tmp/$1"
	case "$2" in
	"echo '"*)
		text=$(printf '%s' "$2" | sed -n "s/^echo '\([^']*\)' > \([^ ]*\).*/\1/p")
		file=$(printf '%s' "$2" | sed -n "s/^echo '\([^']*\)' > \([^ ]*\).*/\2/p")
		;;
	"change line "*)
		line=$(printf '%s' "$2" | sed -n "s/^change line \([0-9]*\) of \([^ ]*\) to '\([^']*\)'.*/\1/p")
		file=$(printf '%s' "$2" | sed -n "s/^change line \([0-9]*\) of \([^ ]*\) to '\([^']*\)'.*/\2/p")
		text=$(printf '%s' "$2" | sed -n "s/^change line \([0-9]*\) of \([^ ]*\) to '\([^']*\)'.*/\3/p")
		;;
	*)
		fail "$1: hint not understood: $2"
		return
		;;
	esac
	[ -n "$file" ] && [ -n "$text" ] || {
		fail "$1: hint not understood: $2"
		return
	}
	if [ -n "${line:-}" ]; then
		sed -i "${line}s|.*|$text|" "$root$file"
		line=""
	else
		echo "$text" >"$root$file"
	fi
}

status_of() {
	[ "$1" = 1 ] && echo ok || echo "not ok"
}

# case NAME: compares both programs on NAME's files; where sparkmon says
# not OK, applies its hints and compares again: both must then say on.
case_() {
	truth=$(boot "$1")
	got=$(judge "$1")
	want_v4=$([ "${truth% *}" = 1 ] && echo ok || echo warning)
	want_v6=$([ "${truth#* }" = 1 ] && echo ok || echo warning)
	if [ "$got" = "$want_v4 $want_v6" ]; then
		ok "$1: systemd-sysctl leaves ipv4/ipv6 $truth; sparkmon says $got"
	else
		fail "$1: systemd-sysctl leaves ipv4/ipv6 $truth; sparkmon says '$got'"
		jq -c '.checks' "$tmp/$1.json" >&2 || cat "$tmp/$1.json" >&2
		return
	fi
	procps_note "$1" "$truth"
	[ "$got" = "ok ok" ] && return
	for id in forwarding.persistent forwarding.ipv6; do
		h=$(hint_of "$1" "$id")
		[ -n "$h" ] && apply_hint "$1" "$h"
	done
	truth=$(boot "$1")
	got=$(judge "$1")
	if [ "$truth" = "1 1" ] && [ "$got" = "ok ok" ]; then
		ok "$1: hints applied: systemd-sysctl leaves both on, sparkmon says OK"
	else
		fail "$1: after the hints systemd-sysctl leaves $truth, sparkmon says '$got'"
		jq -c '.checks' "$tmp/$1.json" >&2
	fi
}

# ---- the matrix -----------------------------------------------------------------

# Debian: /etc/sysctl.conf through the 99-sysctl.conf link.
layout deb-conf-on
debian deb-conf-on
put deb-conf-on /etc/sysctl.conf '# the guide\nnet.ipv4.ip_forward=1\nnet.ipv6.conf.all.forwarding=1\n'
case_ deb-conf-on

# A file sorting after 99-sysctl.conf wins over /etc/sysctl.conf.
layout zz-after-conf
debian zz-after-conf
put zz-after-conf /etc/sysctl.conf 'net.ipv4.ip_forward=1\nnet.ipv6.conf.all.forwarding=1\n'
put zz-after-conf /etc/sysctl.d/zz-hardening.conf 'net.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding = 0\n'
case_ zz-after-conf

# An early file turns it on; /etc/sysctl.conf (as 99-sysctl.conf) turns it off.
layout conf-overrides-early
debian conf-overrides-early
put conf-overrides-early /etc/sysctl.d/10-wireguard.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
put conf-overrides-early /etc/sysctl.conf 'net.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding = 0\n'
case_ conf-overrides-early

# Without the link systemd-sysctl never reads /etc/sysctl.conf.
layout conf-without-link
put conf-without-link /etc/sysctl.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
case_ conf-without-link

# /run/sysctl.d replaces the same name in /usr/lib/sysctl.d.
layout run-masks-usr
put run-masks-usr /usr/lib/sysctl.d/50-forward.conf 'net.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding = 0\n'
put run-masks-usr /run/sysctl.d/50-forward.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
case_ run-masks-usr

# /etc/sysctl.d replaces the same name in /run/sysctl.d.
layout etc-masks-run
put etc-masks-run /run/sysctl.d/50-forward.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
put etc-masks-run /etc/sysctl.d/50-forward.conf 'net.ipv4.ip_forward = 0\n'
case_ etc-masks-run

# Only a vendor file.
layout usr-lib-only
put usr-lib-only /usr/lib/sysctl.d/60-forward.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
case_ usr-lib-only

layout usr-local
put usr-local /usr/local/lib/sysctl.d/60-forward.conf 'net.ipv4.ip_forward = 1\n'
case_ usr-local

# Masks: a link to /dev/null, and an empty file of the same name.
layout devnull-mask
put devnull-mask /usr/lib/sysctl.d/60-forward.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
ln -s /dev/null "$tmp/devnull-mask/etc/sysctl.d/60-forward.conf"
case_ devnull-mask

layout empty-mask
put empty-mask /usr/lib/sysctl.d/60-forward.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
put empty-mask /etc/sysctl.d/60-forward.conf ''
case_ empty-mask

# Lexical order of names, across directories.
layout lexical
put lexical /etc/sysctl.d/10-wireguard.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
put lexical /usr/lib/sysctl.d/99-hardening.conf 'net.ipv4.ip_forward = 0\n'
put lexical /run/sysctl.d/100-late.conf 'net.ipv6.conf.all.forwarding = 0\n'
case_ lexical

# A value the kernel refuses replaces the earlier assignment all the same.
layout refused
put refused /etc/sysctl.d/10-on.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
put refused /etc/sysctl.d/20-typo.conf 'net.ipv4.ip_forward = yes\nnet.ipv6.conf.all.forwarding = on\n'
case_ refused

# Patterns: they skip keys that a plain assignment names.
layout glob-off
put glob-off /etc/sysctl.d/10-on.conf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'
put glob-off /etc/sysctl.d/20-glob.conf 'net.ipv4.conf.*.forwarding = 0\n'
case_ glob-off

layout glob-skips-plain
put glob-skips-plain /etc/sysctl.d/10-all.conf 'net.ipv4.conf.all.forwarding = 1\nnet.ipv6.conf.all.forwarding = 1\n'
put glob-skips-plain /etc/sysctl.d/20-glob.conf 'net.ipv4.conf.*.forwarding = 0\nnet.ipv6.conf.*.forwarding = 0\n'
case_ glob-skips-plain

layout glob-on
put glob-on /usr/lib/sysctl.d/30-glob.conf 'net.ipv4.conf.*.forwarding = 1\nnet.ipv6.conf.*.forwarding = 1\n'
case_ glob-on

# The same value again keeps its earlier place in systemd-sysctl's order.
layout same-value-keeps-place
put same-value-keeps-place /etc/sysctl.d/10-a.conf 'net.ipv4.ip_forward = 0\n'
put same-value-keeps-place /etc/sysctl.d/20-b.conf 'net.ipv4.conf.all.forwarding = 1\n'
put same-value-keeps-place /etc/sysctl.d/30-c.conf 'net.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding = 1\n'
case_ same-value-keeps-place

# Spellings: slashes, a leading '-', numbers other than 1.
layout spellings
put spellings /etc/sysctl.d/10-slash.conf 'net/ipv4/ip_forward = 0\n'
put spellings /etc/sysctl.d/20-dash.conf '  - net.ipv4.ip_forward = 0x1\n'
put spellings /etc/sysctl.d/30-two.conf 'net.ipv6.conf.all.forwarding = 2\n'
case_ spellings

layout nothing
case_ nothing

# IPv6 on, IPv4 left to a later file that turns it off.
layout v6-only
put v6-only /etc/sysctl.d/60-v6.conf 'net.ipv6.conf.all.forwarding = 1\n'
put v6-only /etc/sysctl.d/70-v4.conf 'net.ipv4.ip_forward = 0\n'
case_ v6-only

# A VPN without IPv6 has no forwarding.ipv6 check at all.
layout no-ipv6
printf '[Interface]\nAddress = 10.100.0.1/24\nListenPort = 51820\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.100.0.2/32\n' \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" >"$tmp/no-ipv6/etc/wireguard/wgfb0.conf"
judge no-ipv6 >/dev/null
if jq -e '[.checks[].id] | index("forwarding.ipv6") == null and index("forwarding.persistent") != null' \
	"$tmp/no-ipv6.json" >/dev/null; then
	ok "no-ipv6: forwarding.ipv6 is absent"
else
	fail "no-ipv6: forwarding.ipv6 is there: $(jq -c '[.checks[].id]' "$tmp/no-ipv6.json")"
fi

finish
