#!/bin/sh
# The firewall checks against the truth of real packets. A client namespace
# reaches an "internet" namespace through a wireguard-go tunnel to a server
# namespace (lib/vpn_path.sh). For each ruleset of firewall_oracle_cases/
# (Docker, ufw, native nftables, IPv6, ...), applied in the server as the
# tools themselves apply it, the client pings the internet namespace and
# fetches a page from it over TCP: the path works when both get their
# answer (over IPv4, and over IPv6 too when the case's VPN carries IPv6).
# Then `sparkmon check --json --only firewall` runs in the server, and:
#   - every firewall.* check is OK exactly when the path works (a false OK
#     and a false alarm both fail, naming the case);
#   - firewall.forward6 is there exactly when the VPN carries IPv6;
#   - when the path is broken, the "fix" commands of the checks that are
#     not OK, run as written in the server, make it work and the checks OK.
# Each case also states the truth it was written to show ("truth:"); when
# the packets disagree, the case itself is wrong and fails.
#
# About a minute and a half on two cores.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"
. "$here/lib/vpn_path.sh"
need_tools ip wg wireguard-go ping busybox jq timeout conntrack nft ufw \
	iptables-nft iptables-nft-restore ip6tables-nft-restore
need_root "network namespaces, TUN devices, iptables and nft"
# PostUp lines and fixes say "iptables"; between cases, `nft flush ruleset`
# empties what iptables-nft made, not what iptables-legacy would.
case "$(iptables -V)" in
*nf_tables*) ;;
*) die "iptables is not iptables-nft: update-alternatives --set iptables /usr/sbin/iptables-nft (and ip6tables)" ;;
esac
case "$(ip6tables -V)" in
*nf_tables*) ;;
*) die "ip6tables is not ip6tables-nft: update-alternatives --set ip6tables /usr/sbin/ip6tables-nft" ;;
esac

cases_dir=$here/firewall_oracle_cases
tmpdir oracle
# Every command below has its own deadline; this bounds the whole run.
# (A second at a time, so that stopping it at exit leaves no sleep behind.)
(for _ in $(seq 600); do sleep 1; done
	echo "FAIL: firewall_oracle: still running after 600 s" >&2 && kill -TERM $$) &
kill_at_exit $!
t_logs="$tmp/vp-wg-server.log $tmp/vp-wg-client.log"

# ---- the path ---------------------------------------------------------------------
vpn_path_setup fo
mkdir "$tmp/www"
echo reached >"$tmp/www/index.html"
ip netns exec "$vp_inet" busybox httpd -f -p 80 -h "$tmp/www" &
kill_at_exit $!

inS() { timeout 20 ip netns exec "$vp_server" "$@"; }

# fetch 4|6: the client gets the internet namespace's page over TCP
# (2 tries, 2 s each; timeout bounds them, as busybox wget -T crashes).
fetch() {
	if [ "$1" = 6 ]; then url="http://[$vp_inet6]/"; else url="http://$vp_inet4/"; fi
	for _ in 1 2; do
		[ "$(timeout 2 ip netns exec "$vp_client" busybox wget -q -O - "$url" 2>/dev/null)" = reached ] &&
			return 0
	done
	return 1
}

# probe FAMILY: adds to $how what got through and returns 0 when both the
# ping and the page got their answer (no page is asked for when the ping
# got none: the family is broken either way).
probe() {
	if ! vpn_path_reaches "$1"; then
		how="$how IPv$1 ping:no"
		return 1
	fi
	f=no
	fetch "$1" && f=yes
	how="$how IPv$1 ping:yes tcp:$f"
	[ $f = yes ]
}

# path_works IPV6: the truth, from packets; $how says what got through.
path_works() {
	how=""
	w=yes
	probe 4 || w=no
	if [ "$1" = on ]; then probe 6 || w=no; fi
	[ $w = yes ]
}

# ---- applying a case ----------------------------------------------------------------

# Everything a case may have left: nft and iptables-nft rules (nft flush
# ruleset empties both), conntrack entries (a reply must not ride on an
# earlier case's NAT), IPv6 on the tunnel.
reset_server() {
	inS nft flush ruleset
	inS conntrack -F >/dev/null 2>&1 || true
	inS conntrack -F -f ipv6 >/dev/null 2>&1 || true
}

# subst FILE: the file with the test's names for @WG@, @UPLINK@, @PORT@.
subst() {
	sed -e "s/@WG@/$vp_wg/g" -e "s/@UPLINK@/$vp_uplink/g" -e "s/@PORT@/$vp_port/g" "$1"
}

# split FILE DIR: a case file into DIR/meta (key: value lines), and
# DIR/iptables, DIR/ip6tables, DIR/nft (the sections, after the files the
# case includes), names substituted.
split_case() {
	rm -rf "$2" && mkdir "$2"
	subst "$1" | sed -n '/^\[/q; /^[a-z0-9]*:/p' >"$2/meta"
	for inc in $(meta "$2" include); do
		subst "$cases_dir/$inc" >>"$2/${inc##*.}"
	done
	subst "$1" | awk -v d="$2" '
		/^\[(iptables|ip6tables|nft)\]$/ { out = d "/" substr($0, 2, length($0) - 2); next }
		out != "" { print >> out }'
}

# meta DIR KEY: the values of KEY (one a line).
meta() {
	sed -n "s/^$2: *//p" "$1/meta"
}

# apply DIR: the firewall that was there before the VPN (ufw, then the
# saved iptables rules, then nft), then wg-quick's PostUp with %i replaced.
apply() {
	if [ -n "$(meta "$1" ufw)" ]; then
		meta "$1" ufw >"$1/ufw.cmds"
		apply_ufw "$1/ufw.cmds" || return 1
	fi
	if [ -s "$1/iptables" ]; then inS iptables-nft-restore -n <"$1/iptables" || return 1; fi
	if [ -s "$1/ip6tables" ]; then inS ip6tables-nft-restore -n <"$1/ip6tables" || return 1; fi
	if [ -s "$1/nft" ]; then inS nft -f - <"$1/nft" || return 1; fi
	meta "$1" postup | while IFS= read -r line; do
		inS sh -c "$(echo "$line" | sed "s/%i/$vp_wg/g")" || exit 1
	done
}

# apply_ufw CMDS: real ufw in the server namespace, DEFAULT_FORWARD_POLICY
# "DROP" as shipped, over copies of its files: `ip netns exec` runs each
# command in a mount namespace of its own, so the bind mounts end with it.
# Its sysctl file is left out: it would not change forwarding, and the host's
# must not be read into the test.
apply_ufw() {
	rm -rf "$tmp/ufw" && cp -a /etc/ufw "$tmp/ufw"
	sed -e 's|^IPT_SYSCTL=.*|IPT_SYSCTL=/dev/null|' \
		-e 's|^DEFAULT_FORWARD_POLICY=.*|DEFAULT_FORWARD_POLICY="DROP"|' \
		/etc/default/ufw >"$tmp/ufw.default"
	{
		echo "mount --bind '$tmp/ufw' /etc/ufw && mount --bind '$tmp/ufw.default' /etc/default/ufw || exit 1"
		echo "ufw --force enable >/dev/null || exit 1"
		sed 's/^/ufw /; s/$/ >\/dev\/null || exit 1/' "$1"
	} >"$tmp/ufw.sh"
	inS sh "$tmp/ufw.sh"
}

# write_wgquick DIR IPV6: the server's wg-quick file for the case.
write_wgquick() {
	{
		echo "[Interface]"
		if [ "$2" = on ]; then echo "Address = $vp_addr4, $vp_addr6"; else echo "Address = $vp_addr4"; fi
		echo "ListenPort = $vp_port"
		echo "PrivateKey = $(cat "$tmp/vp-server.key")"
		meta "$1" postup | sed 's/^/PostUp = /'
		meta "$1" postup | sed 's/ -[AI] / -D /g; s/^/PostDown = /'
		echo
		echo "[Peer]"
		echo "PublicKey = $vp_client_pub"
		if [ "$2" = on ]; then
			echo "AllowedIPs = $vp_client4/32, $vp_client6/128"
		else
			echo "AllowedIPs = $vp_client4/32"
		fi
	} >"$tmp/$vp_wg.conf"
}

cat >"$tmp/sparkmon.conf" <<CONF
[general]
state_dir = $tmp
[wireguard]
interfaces = $vp_wg
wg_quick_file = $tmp/%i.conf
CONF

# sparkmon_checks OUT: sparkmon's firewall checks in the server, as JSON,
# into OUT; $checks becomes "id=status ..." ("" when the output is no JSON).
sparkmon_checks() {
	inS "$SPARKMON" -c "$tmp/sparkmon.conf" check --json --only firewall >"$1" 2>"$1.err" || true
	checks=$(jq -r '[.checks[] | select(.id | startswith("firewall.")) | "\(.id)=\(.status)"] | join(" ")' \
		"$1" 2>/dev/null) || checks=""
}

# explain JSON: what sparkmon said about each firewall.* check, on stderr.
explain() {
	jq -r '.checks[] | select(.id | startswith("firewall.")) | "    \(.id) \(.status): \(.summary)"' \
		"$1" >&2 2>/dev/null || true
}

# all_ok: every firewall.* check in $checks is OK (and there is one).
all_ok() {
	[ -n "$checks" ] || return 1
	for c in $checks; do
		case $c in *=ok) ;; *) return 1 ;; esac
	done
}

# run_fixes JSON NAME: runs the "fix" commands of the firewall.* checks that
# are not OK, in order, each once, in the server; fails NAME's case when one
# fails or there is none.
run_fixes() {
	jq -r '.checks[] | select(.id | startswith("firewall.")) | select(.status != "ok") | .fix // [] | .[]' \
		"$1" | awk '!seen[$0]++' >"$1.fix"
	if [ ! -s "$1.fix" ]; then
		fail "$2: checks not OK ($checks) but no fix to apply"
		return 1
	fi
	while IFS= read -r cmd; do
		if ! inS sh -c "$cmd" </dev/null >"$tmp/fix.out" 2>&1; then
			fail "$2: fix command failed: $cmd: $(head -c 300 "$tmp/fix.out")"
			return 1
		fi
	done <"$1.fix"
}

# ---- the matrix -------------------------------------------------------------------------

n_cases=0 n_passed=0 wrong=""
vpn_path_ipv6 off
reset_server
inS iptables-nft -t nat -A POSTROUTING -o "$vp_uplink" -j MASQUERADE
path_works off || die "the path does not work with nothing but a MASQUERADE:$how"
ok "the path works with nothing but a MASQUERADE:$how"

# SPARKMON_ORACLE_CASES: a glob picking some of the cases (default: all).
for file in "$cases_dir"/${SPARKMON_ORACLE_CASES:-*}.case; do
	[ -f "$file" ] || die "no case matches ${SPARKMON_ORACLE_CASES:-*}"
	name=$(basename "$file" .case)
	n_cases=$((n_cases + 1))
	before=$t_failures
	d=$tmp/case
	split_case "$file" "$d"
	ipv6=$(meta "$d" ipv6)
	truth=$(meta "$d" truth)
	case "$ipv6:$truth" in
	on:works | on:broken | off:works | off:broken) ;;
	*) die "$name: needs 'ipv6: on|off' and 'truth: works|broken'" ;;
	esac

	reset_server
	vpn_path_ipv6 "$ipv6"
	write_wgquick "$d" "$ipv6"
	if ! apply "$d" >"$tmp/apply.out" 2>&1; then
		fail "$name: the ruleset does not apply: $(tail -c 400 "$tmp/apply.out")"
		wrong="$wrong $name"
		continue
	fi

	if path_works "$ipv6"; then works=works; else works=broken; fi
	[ "$works" = "$truth" ] || fail "$name: the case says the path $truth, the packets say $works:$how"

	sparkmon_checks "$tmp/check.json"
	verdict=${checks:-nothing} fixed=""
	if [ -z "$checks" ]; then
		fail "$name: no firewall checks in sparkmon's JSON: $(head -c 300 "$tmp/check.json.err")"
	elif all_ok; then
		[ $works = works ] || { fail "$name: false OK: sparkmon says $checks, but the path is broken:$how" &&
			explain "$tmp/check.json"; }
	elif [ $works = works ]; then
		fail "$name: false alarm: sparkmon says $checks, but the path works:$how"
		explain "$tmp/check.json"
	fi
	case " $checks " in
	*" firewall.forward6="*) [ "$ipv6" = on ] || fail "$name: firewall.forward6 without IPv6 on the VPN" ;;
	*) [ "$ipv6" = off ] || fail "$name: IPv6 on the VPN, but no firewall.forward6 check" ;;
	esac

	# Broken and said so: the fix, applied as written, must make it work.
	if [ -n "$checks" ] && [ $works = broken ] && ! all_ok; then
		if run_fixes "$tmp/check.json" "$name"; then
			if path_works "$ipv6"; then
				sparkmon_checks "$tmp/after.json"
				all_ok || { fail "$name: after the fix the path works, but sparkmon says $checks" &&
					explain "$tmp/after.json"; }
				fixed="; its fix made the path work: $(paste -sd';' "$tmp/check.json.fix")"
			else
				fix=$(paste -sd';' "$tmp/check.json.fix")
				sparkmon_checks "$tmp/after.json"
				fail "$name: the fix for $verdict ($fix) was applied, the path is still broken:$how;" \
					"sparkmon now says ${checks:-nothing}"
				explain "$tmp/after.json"
			fi
		fi
	fi

	if [ "$t_failures" = "$before" ]; then
		ok "$name: path $works, sparkmon says $verdict$fixed"
		n_passed=$((n_passed + 1))
	else
		wrong="$wrong $name"
	fi
done

echo "firewall_oracle: $n_passed passed, $((n_cases - n_passed)) failed (of $n_cases cases)"
[ -z "$wrong" ] || echo "firewall_oracle: wrong on:$wrong" >&2
finish
