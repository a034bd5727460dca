#!/bin/sh
# No private or preshared key leaves sparkmon: a wireguard-go interface
# with known keys, and a wg-quick file that holds them, including PostUp
# lines that hand keys to `wg set` (as some guides write it). Every output
# (/status.json, the page, /metrics, the status report, check), the log and
# the memory of both daemon processes are searched for any 8-byte window of
# each key, raw, base64 or hex.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools wireguard-go wg ip curl jq python3 iptables-save ss
need_root "network namespaces, TUN devices"

tag=$$
ns=smsec$tag
ifname=smsec$tag # at most 15 bytes
tmpdir secrets
t_fail_fast=yes t_logs=$tmp/sparkmon.log
scan="python3 $(dirname "$0")/lib/secretscan.py"
port=$(free_port)
in_ns() { ip netns exec "$ns" "$@"; }

netns_add "$ns"
umask 077
wg genkey >"$tmp/own.key"
wg genkey >"$tmp/peer.key"
wg genpsk >"$tmp/psk"
peer_pub=$(wg pubkey <"$tmp/peer.key")
wg_go "$ns" "$ifname" "$tmp/wg-go.log"
in_ns wg set "$ifname" private-key "$tmp/own.key" listen-port $((40000 + tag % 10000)) \
	peer "$peer_pub" preshared-key "$tmp/psk" allowed-ips 10.81.0.2/32
ip -n "$ns" addr add 10.81.0.1/24 dev "$ifname"
ip -n "$ns" link set "$ifname" up

cat >"$tmp/$ifname.conf" <<EOF
[Interface]
Address = 10.81.0.1/24
PrivateKey = $(cat "$tmp/own.key")
PostUp = iptables -A FORWARD -i %i -j ACCEPT; wg set %i peer $peer_pub preshared-key <(echo $(cat "$tmp/psk"))
PostUp = iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE; wg set %i private-key <(echo $(cat "$tmp/own.key"))
PostDown = iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE; echo $(cat "$tmp/psk") >/dev/null

[Peer]
PublicKey = $peer_pub
PresharedKey = $(cat "$tmp/psk")
AllowedIPs = 10.81.0.2/32
EOF
cat >"$tmp/sparkmon.conf" <<EOF
[general]
interval = 1s
[wireguard]
interfaces = $ifname
wg_quick_file = $tmp/%i.conf
[http]
listen = 127.0.0.1:$port
[endpoint]
ip_urls =
EOF
umask 022

serve "$tmp/sparkmon.conf" "$tmp/sparkmon.log" "$ns"
wait_http -n "$ns" "http://127.0.0.1:$port/healthz"
sleep 1.5 # a round with every probe
in_ns curl -sf "http://127.0.0.1:$port/status.json" >"$tmp/out-status.json" ||
	fail "no /status.json"
in_ns curl -sf "http://127.0.0.1:$port/" >"$tmp/out-page.html" || fail "no page"
in_ns curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/out-metrics.txt" || fail "no /metrics"
in_ns "$SPARKMON" -c "$tmp/sparkmon.conf" status >"$tmp/out-status.txt" 2>&1 || true
in_ns "$SPARKMON" -c "$tmp/sparkmon.conf" check --json >"$tmp/out-check.json" 2>&1 || true
in_ns "$SPARKMON" -c "$tmp/sparkmon.conf" check >"$tmp/out-check.txt" 2>&1 || true

# The PostUp commands are there, as parsed rules or only named.
jq -e --arg fwd "iptables -A FORWARD -i $ifname -j ACCEPT" '
	[.firewall.expected_rules[].command] as $c |
	($c | index($fwd)) != null and
	($c | index("iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE")) != null and
	($c | map(select(. == "wg (arguments not shown)")) | length) == 2' \
	"$tmp/out-status.json" >/dev/null && ok "PostUp commands published as parsed rules or names" ||
	{ fail "expected_rules"; jq .firewall "$tmp/out-status.json" >&2; }
grep -q "wg (arguments not shown)" "$tmp/out-status.txt" ||
	fail "the status report does not name the wg command"

if $scan "$tmp/own.key" "$tmp/peer.key" "$tmp/psk" -- "$tmp"/out-* "$tmp/sparkmon.log"; then
	ok "no window of a key in any output or the log"
else
	fail "a key reached an output"
fi

# The daemon read the wg-quick file (and the device) every second: neither
# of its processes keeps a key, from the file's lines or the PostUp commands.
web=$(in_ns sh -c "ss -Hltnp 'sport = :$port'" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
collector=$(pgrep -P "$web" || true)
[ -n "$web" ] && [ -n "$collector" ] || die "web process '$web', collector '$collector'"
if $scan "$tmp/own.key" "$tmp/psk" -- "pid:$web" "pid:$collector" 2>/dev/null; then
	ok "no window of a key in the memory of the web process or the collector"
else
	fail "a key is in the daemon's memory"
fi

finish
