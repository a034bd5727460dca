#!/bin/sh
# The ssh checks against the truth of a real client. A client namespace
# reaches a server namespace through a wireguard-go tunnel (lib/vpn_path.sh);
# Debian's sshd runs in the server with its own configuration and host key
# (a private /etc/ssh, bind-mounted in a mount namespace of its own, which
# sparkmon reads the same way). For each case, ssh-keyscan in the client,
# through the tunnel, asks the server's VPN address and its LAN address
# (the uplink's, where the default route points): the truth is whether
# either gives its host key, which it does only after sshd's
# identification line. Then `sparkmon check --json --only ssh` runs in the
# server, and every ssh.* check is OK exactly when the truth says so. The
# cases: where sshd listens (stopped, loopback, LAN or VPN address only,
# another address, a Port from an include, a listener that never answers)
# and what the firewall's input path does (a policy drop, real ufw with and
# without its allow rule, a native nft input chain); for the firewall, the
# fix the check prints, run as written, lets the client in and makes the
# checks OK. Last, `sparkmon serve` runs there: its /metrics and /status.json,
# from the web process, say what the collector found (sparkmon_ssh_up 1,
# the version ssh-keyscan read; 0 once sshd stops).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"
. "$here/lib/vpn_path.sh"
need_tools ip wg wireguard-go ssh-keyscan ssh-keygen unshare timeout jq perl iptables nft ufw curl
case "$(iptables -V)" in
*nf_tables*) ;;
*) die "iptables is not iptables-nft: update-alternatives --set iptables /usr/sbin/iptables-nft" ;;
esac
[ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd is missing (make deps; tests/deps/ssh.txt)"
need_root "network namespaces, TUN devices, sshd and mounts"

tmpdir ssh
# Every command below has its own deadline; this bounds the whole run.
(for _ in $(seq 300); do sleep 1; done
	echo "FAIL: ssh: still running after 300 s" >&2 && kill -TERM $$) &
kill_at_exit $!
t_logs="$tmp/sshd.log $tmp/vp-wg-server.log"

vpn_path_setup sh
lan=198.51.100.1
vpn=10.100.0.1
# A second address on the LAN interface: a LAN address too.
lan2=198.51.100.9
ip -n "$vp_server" addr add "$lan2/24" dev "$vp_uplink"
etc=$tmp/etc-ssh
mkdir -p "$etc/sshd_config.d" "$tmp/state"
# sshd's privilege separation directory.
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$etc/ssh_host_ed25519_key"
cat >"$tmp/sparkmon.conf" <<CONF
[general]
state_dir = $tmp/state
[wireguard]
interfaces = $vp_wg
wg_quick_file =
[ssh]
enabled = yes
timeout = 2s
CONF

# in_etc CMD...: CMD in the server namespace, with $etc as /etc/ssh.
in_etc() {
	ip netns exec "$vp_server" unshare -m sh -c \
		'mount --bind "$0" /etc/ssh && exec "$@"' "$etc" "$@"
}

# sshd_config LINE...: the main file, Debian's layout (include first).
sshd_config() {
	{
		echo "Include /etc/ssh/sshd_config.d/*.conf"
		echo "HostKey /etc/ssh/ssh_host_ed25519_key"
		echo "UsePAM no"
		echo "PidFile $tmp/sshd.pid"
		for l in "$@"; do echo "$l"; done
	} >"$etc/sshd_config"
}

sshd_pid=""
sshd_start() {
	in_etc /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config >>"$tmp/sshd.log" 2>&1 &
	sshd_pid=$!
	kill_at_exit "$sshd_pid"
	# Up when it listens: sshd binds before it writes its pid file.
	for _ in $(seq 50); do
		[ -s "$tmp/sshd.pid" ] && return 0
		kill -0 "$sshd_pid" 2>/dev/null || die "sshd did not start"
		sleep 0.1
	done
	die "sshd wrote no pid file"
}
# sshd's own pid is in its pid file ($sshd_pid is the shell that started it).
sshd_stop() {
	[ -n "$sshd_pid" ] || return 0
	kill "$(cat "$tmp/sshd.pid")" 2>/dev/null || true
	wait "$sshd_pid" 2>/dev/null || true
	sshd_pid=""
	rm -f "$tmp/sshd.pid"
}

stub_pid=""
# A listener that accepts and never sends a byte: a hung sshd.
stub_start() {
	ip netns exec "$vp_server" perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 5, LocalAddr => "0.0.0.0",
			LocalPort => 22, ReuseAddr => 1) or die "stub: $!\n";
		my @held; alarm 120;
		while (my $c = $s->accept) { push @held, $c }' &
	stub_pid=$!
	kill_at_exit "$stub_pid"
	sleep 0.3
}
stub_stop() {
	[ -n "$stub_pid" ] || return 0
	kill "$stub_pid" 2>/dev/null || true
	wait "$stub_pid" 2>/dev/null || true
	stub_pid=""
}

# truth PORT: ssh-keyscan from the client, through the tunnel, to the VPN
# or a LAN address gets a host key; what it says about the server's
# identification line is left in $tmp/keyscan.err.
truth() {
	for a in $vpn $lan $lan2; do
		if timeout 10 ip netns exec "$vp_client" ssh-keyscan -T 3 -t ed25519 -p "$1" "$a" \
			2>"$tmp/keyscan.err" | grep -q ssh-ed25519; then
			echo yes
			return
		fi
	done
	echo no
}

# verdict CASE PORT [EXPECTED_TRUTH]: compares the ssh checks with the truth.
verdict() {
	name=$1
	want=$(truth "$2")
	[ -z "${3:-}" ] || [ "$3" = "$want" ] || fail "$name: the case shows truth $want, written for $3"
	start=$(date +%s)
	in_etc timeout 20 "$SPARKMON" -c "$tmp/sparkmon.conf" check --json --only ssh \
		>"$tmp/$name.json" 2>"$tmp/$name.err" || true
	took=$(($(date +%s) - start))
	[ "$took" -le 10 ] || fail "$name: check took $took s with a 2 s ssh timeout"
	statuses=$(jq -r '[.checks[] | select(.id | startswith("ssh.")) | .id + "=" + .status] | join(" ")' \
		"$tmp/$name.json" 2>/dev/null || echo "(no JSON: $(head -c 300 "$tmp/$name.err"))")
	case "$statuses" in
	*ssh.listening=*) ;;
	*) fail "$name: no ssh.listening check: $statuses"; return ;;
	esac
	all_ok=yes
	case " $statuses" in *=warning* | *=critical* | *=unknown*) all_ok=no ;; esac
	if [ "$all_ok" = "$want" ]; then
		ok "$name: client gets the banner: $want; sparkmon: $statuses"
	else
		fail "$name: client gets the banner: $want, but sparkmon says: $statuses"
		jq -r '.checks[] | select(.id | startswith("ssh.")) | "  " + .id + ": " + .summary + " -- " + .hint' \
			"$tmp/$name.json" >&2 || true
	fi
}

# jq_ssh FILTER CASE: a value of the ssh area of a case's answer.
jq_ssh() {
	jq -r ".ssh$1" "$tmp/$2.json"
}

echo "-- sshd on all addresses, port 22"
sshd_config
sshd_start
verdict default 22 yes
# ssh-keyscan prints the line it read: "# 10.100.0.1:22 SSH-2.0-OpenSSH_9.2p1 ...".
line=$(sed -n 's/^# [^ ]* \(SSH-.*\)$/\1/p' "$tmp/keyscan.err" | head -1 | tr -d '\r')
[ -n "$line" ] && [ "$(jq_ssh .banner.line default)" = "$line" ] ||
	fail "default: banner line '$(jq_ssh .banner.line default)', ssh-keyscan read '$line'"
sshd_stop

echo "-- sshd stopped"
verdict stopped 22 no
jq -r '.checks[].summary' "$tmp/stopped.json" | grep -q '^nothing listens on TCP port 22 ' ||
	fail "stopped: not said"

echo "-- ListenAddress 127.0.0.1"
sshd_config "ListenAddress 127.0.0.1"
sshd_start
verdict loopback 22 no
hint=$(jq -r '.checks[] | select(.id == "ssh.listening") | .hint' "$tmp/loopback.json")
case "$hint" in
"in /etc/ssh/sshd_config:5 change 'ListenAddress 127.0.0.1' to the VPN or LAN address ($vpn)"*) ;;
*) fail "loopback: the hint does not name the ListenAddress line: $hint" ;;
esac
sshd_stop

echo "-- ListenAddress: the LAN address only"
sshd_config "ListenAddress $lan"
sshd_start
verdict lan-only 22 yes
sshd_stop

echo "-- ListenAddress: the LAN interface's second address only"
sshd_config "ListenAddress $lan2"
sshd_start
verdict lan2-only 22 yes
sshd_stop

echo "-- ListenAddress with its port, no Port line"
sshd_config "ListenAddress $vpn:2200"
sshd_start
verdict listen-port 2200 yes
[ "$(jq_ssh .port listen-port)" = 2200 ] || fail "listen-port: sparkmon watched port $(jq_ssh .port listen-port)"
sshd_stop

echo "-- ListenAddress: the VPN address only"
sshd_config "ListenAddress $vpn"
sshd_start
verdict vpn-only 22 yes
sshd_stop

echo "-- ListenAddress: another address (the underlay's)"
sshd_config "ListenAddress 192.168.246.2"
sshd_start
verdict other-only 22 no
sshd_stop

echo "-- Port 2222 in an sshd_config.d include"
echo "Port 2222" >"$etc/sshd_config.d/10-port.conf"
sshd_config
sshd_start
verdict port-2222 2222 yes
[ "$(jq_ssh .port port-2222)" = 2222 ] || fail "port-2222: sparkmon watched port $(jq_ssh .port port-2222)"
[ "$(jq_ssh .port_file port-2222)" = /etc/ssh/sshd_config.d/10-port.conf ] ||
	fail "port-2222: port file $(jq_ssh .port_file port-2222)"
sshd_stop
rm "$etc/sshd_config.d/10-port.conf"

echo "-- a listener that never sends its identification line"
stub_start
verdict silent 22 no
[ "$(jq_ssh .banner.state silent)" = silent ] || fail "silent: banner state $(jq_ssh .banner.state silent)"
stub_stop

# ---- the firewall's input path ----------------------------------------------------

# in_ufw CMD...: CMD in the server namespace with ufw's files copied to the
# scratch folder: a real ufw run there changes nothing of this host's.
in_ufw() {
	ip netns exec "$vp_server" unshare -m sh -c \
		'mount --bind "$0/ufw" /etc/ufw && mount --bind "$0/ufw.default" /etc/default/ufw &&
		exec "$@"' "$tmp" "$@"
}
ufw_copy() {
	rm -rf "$tmp/ufw" && cp -a /etc/ufw "$tmp/ufw"
	sed 's|^IPT_SYSCTL=.*|IPT_SYSCTL=/dev/null|' /etc/default/ufw >"$tmp/ufw.default"
}
flush() {
	timeout 10 ip netns exec "$vp_server" nft flush ruleset
}

# fixed CASE: runs the fixes ssh.firewall printed in CASE (each as sh -c,
# ufw's with its files), then checks again as CASE-fixed: the truth must
# now be yes.
fixed() {
	fixes=$(jq -r '.checks[] | select(.id == "ssh.firewall") | .fix[]?' "$tmp/$1.json")
	[ -n "$fixes" ] || { fail "$1: ssh.firewall gives no fix"; return; }
	echo "$fixes" | while IFS= read -r cmd; do
		echo "   fix: $cmd"
		case "$cmd" in
		ufw\ *) in_ufw timeout 30 sh -c "$cmd" >/dev/null ;;
		*) timeout 10 ip netns exec "$vp_server" sh -c "$cmd" ;;
		esac || echo "FAIL: $1: the fix failed: $cmd" >&2
	done
	verdict "$1-fixed" 22 yes
}

sshd_config
sshd_start

echo "-- INPUT policy DROP (loopback and replies accepted)"
flush
timeout 10 ip netns exec "$vp_server" sh -c 'iptables -P INPUT DROP &&
	iptables -A INPUT -i lo -j ACCEPT &&
	iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'
verdict input-drop 22 no
jq -r '.checks[] | select(.id == "ssh.firewall") | .fix[0]' "$tmp/input-drop.json" |
	grep -qx "/usr/sbin/iptables -I INPUT -i $vp_wg -p tcp --dport 22 -j ACCEPT" ||
	fail "input-drop: not the iptables rule to add"
fixed input-drop

echo "-- ufw, default deny incoming, no rule for SSH"
flush
ufw_copy
in_ufw timeout 30 ufw --force enable >/dev/null || die "ufw enable failed"
verdict ufw-deny 22 no
jq -r '.checks[] | select(.id == "ssh.firewall") | .fix[0]' "$tmp/ufw-deny.json" |
	grep -qx "ufw allow in on $vp_wg to any port 22 proto tcp" ||
	fail "ufw-deny: not ufw's rule to add"
fixed ufw-deny

echo "-- ufw with the rule for another port only"
flush
ufw_copy
in_ufw timeout 30 sh -c "ufw --force enable && ufw allow in on $vp_wg to any port 2200 proto tcp" \
	>/dev/null || die "ufw failed"
verdict ufw-other-port 22 no

echo "-- a native nft input chain, policy drop"
flush
timeout 10 ip netns exec "$vp_server" nft -f - <<NFT
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept
		ct state established,related accept
		iifname "$vp_wg" udp dport 22 accept
	}
}
NFT
verdict nft-drop 22 no
fixed nft-drop
flush

# ---- sparkmon serve: the facts cross to the web process ---------------------------

echo "-- serve: /metrics and /status.json"
hport=$((20000 + $$ % 10000))
cat >"$tmp/serve.conf" <<CONF
[general]
interval = 1s
state_dir = $tmp/state
[http]
listen = 127.0.0.1:$hport
listen_wireguard = no
[wireguard]
interfaces = $vp_wg
wg_quick_file =
[endpoint]
ip_urls =
[ssh]
enabled = yes
timeout = 2s
interval = 1s
CONF
in_etc "$SPARKMON" -c "$tmp/serve.conf" serve 2>"$tmp/serve.log" &
kill_at_exit $!
t_logs="$t_logs $tmp/serve.log"
# metrics_until PATTERN: /metrics from the server's namespace, until a line
# matches (10 s at most); the last answer is left in $tmp/metrics.
metrics_until() {
	for _ in $(seq 50); do
		timeout 5 ip netns exec "$vp_server" curl -s "http://127.0.0.1:$hport/metrics" \
			>"$tmp/metrics" 2>/dev/null || true
		grep -q "$1" "$tmp/metrics" && return 0
		sleep 0.2
	done
	return 1
}
metrics_until '^sparkmon_ssh_up 1$' || fail "serve: no sparkmon_ssh_up 1 with sshd running: $(grep ssh "$tmp/metrics")"
want=$(echo "$line" | sed 's/^SSH-2\.0-//')
grep -qxF "sparkmon_ssh_info{version=\"$want\"} 1" "$tmp/metrics" ||
	fail "serve: sparkmon_ssh_info is not '$want': $(grep ssh_info "$tmp/metrics")"
timeout 5 ip netns exec "$vp_server" curl -s "http://127.0.0.1:$hport/status.json" >"$tmp/status.json" || true
[ "$(jq -r '.ssh.up' "$tmp/status.json")" = true ] || fail "serve: /status.json ssh.up is not true"
[ "$(jq -r '.ssh.banner.line' "$tmp/status.json")" = "$line" ] ||
	fail "serve: /status.json banner line '$(jq -r '.ssh.banner.line' "$tmp/status.json")'"
sshd_stop
metrics_until '^sparkmon_ssh_up 0$' && ok "serve: sparkmon_ssh_up follows sshd (1, then 0 when stopped)" ||
	fail "serve: sparkmon_ssh_up stays $(grep '^sparkmon_ssh_up' "$tmp/metrics") after sshd stopped"
finish
