#!/bin/sh
# Serving on WireGuard addresses: `sparkmon serve` runs in a network
# namespace that also has a plain (uplink-like) veth address. When a
# wireguard-go interface with an address appears there, the daemon listens
# on that address; when the interface goes, it stops; it never listens on
# the veth address nor on the wildcard. Clients: the WireGuard subnet is
# allowed, a client on the veth network is refused unless the allow-list
# names it.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools curl ip ss wg wireguard-go
need_root "network namespaces, TUN devices"

tag=$$
nsA=smhwA$tag nsB=smhwB$tag
ifA=smhw$tag # at most 15 bytes
vethA=smhva$tag vethB=smhvb$tag
port=19586
tmpdir httpwg
t_fail_fast=yes t_logs=$tmp/sparkmon.log
t_die_also='echo "--- listeners:"; ip netns exec "$nsA" ss -Hltn'
inA() { ip netns exec "$nsA" "$@"; }
inB() { ip netns exec "$nsB" "$@"; }
listeners() { inA ss -Hltn "sport = :$port" | awk '{print $4}' | sort | tr '\n' ' '; }
# Waits up to 10 s (the probe runs every second) for the listeners to be $1.
wait_listeners() {
	for _ in $(seq 100); do
		[ "$(listeners)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "listening on '$(listeners)', expected '$1'"
}
code() { # namespace, source address, url
	ip netns exec "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 3 --interface "$2" "$3" ||
		true
}

netns_pair "$nsA" "$nsB" "$vethA" "$vethB" 192.168.249
ip -n "$nsB" addr add 192.168.249.3/24 dev "$vethB"
# B reaches the WireGuard subnet through A's veth address.
ip -n "$nsB" route add 10.79.0.0/24 via 192.168.249.1

cat >"$tmp/sparkmon.conf" <<CONF
[general]
interval = 1s
[wireguard]
interfaces = $ifA
[http]
listen = 127.0.0.1:$port
listen_wireguard = yes
allow = 127.0.0.0/8, 192.168.249.3/32
allow_wireguard = yes
CONF
serve "$tmp/sparkmon.conf" "$tmp/sparkmon.log" "$nsA"
wait_listeners "127.0.0.1:$port "
sleep 2 # a few rounds without the interface
[ "$(listeners)" = "127.0.0.1:$port " ] || fail "listening on more than loopback"
ok "no WireGuard interface: loopback only"

# The interface appears.
wg_go "$nsA" "$ifA" "$tmp/wg-go.log"
umask 077
wg genkey >"$tmp/a.key"
umask 022
inA wg set "$ifA" private-key "$tmp/a.key" listen-port $((40000 + tag % 10000))
ip -n "$nsA" addr add 10.79.0.1/24 dev "$ifA"
ip -n "$nsA" link set "$ifA" up
wait_listeners "10.79.0.1:$port 127.0.0.1:$port "
ok "interface up: listening on 10.79.0.1:$port too, not on 192.168.249.1 nor the wildcard"
grep -q "listening on 10.79.0.1:$port" "$tmp/sparkmon.log" || fail "the new listener was not logged"

# With a peer, /metrics has counter families: OpenMetrics names them
# without "_total" in HELP and TYPE (it is sent as pieces of the text
# exposition with those headers swapped) and has the same samples.
inA wg set "$ifA" peer "$(wg genkey | wg pubkey)" allowed-ips 10.79.0.2/32
sleep 1.5
inA curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/m.txt" || fail "no /metrics"
inA curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' \
	"http://127.0.0.1:$port/metrics" >"$tmp/m.om" || fail "no OpenMetrics /metrics"
grep -qx '# TYPE wireguard_peer_receive_bytes_total counter' "$tmp/m.txt" ||
	fail "text format: no counter TYPE for wireguard_peer_receive_bytes_total"
grep -qx '# TYPE wireguard_peer_receive_bytes counter' "$tmp/m.om" ||
	fail "OpenMetrics: no counter TYPE for wireguard_peer_receive_bytes"
grep -q '^# HELP wireguard_peer_transmit_bytes ' "$tmp/m.om" ||
	fail "OpenMetrics: no HELP for wireguard_peer_transmit_bytes"
grep -q '_total counter$' "$tmp/m.om" && fail "OpenMetrics: a counter TYPE with _total"
[ "$(tail -1 "$tmp/m.om")" = "# EOF" ] || fail "OpenMetrics: no # EOF at the end"
samples() { grep -v '^#' "$1" | sed 's/ [^ ]*$//'; }
samples "$tmp/m.txt" >"$tmp/s.txt"
samples "$tmp/m.om" >"$tmp/s.om"
grep -q '^wireguard_peer_receive_bytes_total{' "$tmp/s.om" || fail "OpenMetrics: no peer counter sample"
cmp -s "$tmp/s.txt" "$tmp/s.om" || fail "the two formats have different samples: $(diff "$tmp/s.txt" "$tmp/s.om" | head -5)"
ok "OpenMetrics: counter families without _total, # EOF, the same samples as the text format"

# Clients: one in the WireGuard subnet; on the veth network, one allowed by
# the configuration and one not.
c=$(code "$nsA" 10.79.0.1 "http://10.79.0.1:$port/healthz")
[ "$c" = 200 ] || fail "client 10.79.0.1 (WireGuard subnet) got $c"
ok "client in the WireGuard subnet -> 200"
c=$(code "$nsB" 192.168.249.3 "http://10.79.0.1:$port/healthz")
[ "$c" = 200 ] || fail "client 192.168.249.3 (allowed) got $c"
ok "allowed client from the other namespace -> 200"
c=$(code "$nsB" 192.168.249.2 "http://10.79.0.1:$port/healthz")
[ "$c" = 000 ] || fail "client 192.168.249.2 (not allowed) got $c"
ok "client outside the allow-list -> refused"
c=$(code "$nsB" 192.168.249.3 "http://192.168.249.1:$port/healthz")
[ "$c" = 000 ] || fail "answered on the veth address: $c"
ok "nothing answers on the veth address"

# The interface goes.
ip -n "$nsA" link del "$ifA"
wait_listeners "127.0.0.1:$port "
grep -q "stopped listening on 10.79.0.1:$port" "$tmp/sparkmon.log" || fail "the release was not logged"
ok "interface gone: listener released"
c=$(code "$nsA" 127.0.0.1 "http://127.0.0.1:$port/healthz")
[ "$c" = 200 ] || fail "loopback got $c after the interface went"
ok "still serving on loopback"
finish
