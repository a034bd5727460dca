#!/bin/sh
# /proc/sys/net/ipv4/ip_forward cannot be read: a folder in its place
# (EISDIR), or a file of mode 000 read by a user other than root (EACCES;
# root reads it anyway). forwarding.ipv4 is UNKNOWN and says why; the
# memory check, read from the same root, stays OK.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools jq timeout setpriv
need_root "to run sparkmon check as another user"

tmpdir fault-ip-forward
chmod 755 "$tmp"
mkdir -p "$tmp/root/proc/sys/net/ipv4" "$tmp/state"
cp /proc/meminfo "$tmp/root/proc/meminfo"
fwd=$tmp/root/proc/sys/net/ipv4/ip_forward
cat >"$tmp/sparkmon.conf" <<EOF
[general]
root = $tmp/root
state_dir = $tmp/state
[wireguard]
interfaces = ipf$$
[firewall]
iptables_save = $tmp/no-iptables-save
nft =
[endpoint]
ip_urls =
[ssh]
enabled = no
EOF
chmod 644 "$tmp/sparkmon.conf"
chmod 777 "$tmp/state"

# check [USER]: `sparkmon check --json` (as USER when given) into doc.json.
check() {
	rc=0
	if [ -n "${1:-}" ]; then
		timeout 30 setpriv --reuid="$(id -u "$1")" --regid="$(id -g "$1")" --clear-groups \
			"$SPARKMON" -c "$tmp/sparkmon.conf" check --json >"$tmp/doc.json" \
			2>"$tmp/check.err" || rc=$?
	else
		timeout 30 "$SPARKMON" -c "$tmp/sparkmon.conf" check --json >"$tmp/doc.json" \
			2>"$tmp/check.err" || rc=$?
	fi
	[ "$rc" -ne 124 ] || die "sparkmon check did not end within 30 s"
	jq -e . "$tmp/doc.json" >/dev/null || die "no status document: $(cat "$tmp/check.err")"
}

status_of() {
	jq -r --arg id "$1" '.checks[] | select(.id == $id) | .status' "$tmp/doc.json"
}
summary_of() {
	jq -r --arg id "$1" '.checks[] | select(.id == $id) | .summary' "$tmp/doc.json"
}

# expect_unknown WHAT REASON: forwarding.ipv4 UNKNOWN naming the file and
# REASON; memory.available OK.
expect_unknown() {
	st=$(status_of forwarding.ipv4)
	sum=$(summary_of forwarding.ipv4)
	[ "$st" = unknown ] || fail "$1: forwarding.ipv4 is '$st' ($sum)"
	case $sum in
	*"$fwd: $2"*) ok "$1: forwarding.ipv4 UNKNOWN: $sum" ;;
	*) fail "$1: forwarding.ipv4 does not say '$fwd: $2': $sum" ;;
	esac
	for id in forwarding.persistent forwarding.ipv6; do
		s=$(status_of $id)
		[ "$s" != ok ] || fail "$1: $id is OK while ip_forward is unread"
	done
	[ "$(status_of memory.available)" = ok ] || fail "$1: memory.available is not OK"
}

# Readable: the baseline, as root and as nobody.
echo 1 >"$fwd"
check
[ "$(status_of forwarding.ipv4)" = ok ] || die "forwarding.ipv4 not OK with ip_forward 1"
check nobody
[ "$(status_of forwarding.ipv4)" = ok ] ||
	die "forwarding.ipv4 not OK as nobody: $(summary_of forwarding.ipv4) $(cat "$tmp/check.err")"
ok "baseline: forwarding.ipv4 OK as root and as nobody"

# Mode 000, read by nobody.
chmod 000 "$fwd"
check nobody
expect_unknown "mode 000, as nobody" "Permission denied"

# A folder in the file's place.
rm -f "$fwd"
mkdir "$fwd"
check
expect_unknown "a folder" "Is a directory"
finish
