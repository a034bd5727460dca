# shellcheck shell=sh
# A remote-access path made of real parts, for tests that need packets to
# cross a VPN server: three network namespaces
#
#     client --(wireguard-go over a veth)--> server --(uplink veth)--> internet
#
# The client sends everything (0.0.0.0/0, ::/0) into its tunnel; the server
# forwards (ip_forward=1, IPv6 forwarding on) out of its uplink, where its
# default routes point. The internet namespace has no route back to the
# VPN's IPv4 network, so IPv4 replies come back only when the server
# masquerades; it routes the VPN's IPv6 network to the server (as a
# delegated prefix would be), so IPv6 needs no NAT. Sourced after
# common.sh, whose teardown removes all of it.
#
#     . "$(dirname "$0")/lib/vpn_path.sh"
#     vpn_path_setup XY     # XY: two letters unique to the test
#
# Then: $vp_client $vp_server $vp_inet (namespaces), $vp_wg (the server's
# WireGuard interface), $vp_uplink (the server's uplink NIC), $vp_inet4 and
# $vp_inet6 (the internet namespace's addresses), $vp_addr4 $vp_addr6 (the
# server's VPN addresses), $vp_net4 $vp_net6 (the VPN networks),
# $vp_port (the server's listen port).

# shellcheck disable=SC2034 # for the tests that source this
vp_net4=10.100.0.0/24
vp_addr4=10.100.0.1/24
vp_client4=10.100.0.2
vp_net6=2001:db8:100::/64
vp_addr6=2001:db8:100::1/64
vp_client6=2001:db8:100::2
vp_inet4=198.51.100.2
vp_inet6=2001:db8:64::2

# vpn_path_setup XY: builds the three namespaces and the tunnel, IPv6 on
# the tunnel switched off (vpn_path_ipv6 on switches it on); dies unless
# the client reaches the server through the tunnel.
vpn_path_setup() {
	vp_tag=$1$$
	vp_client=sm${vp_tag}c vp_server=sm${vp_tag}s vp_inet=sm${vp_tag}i
	vp_wg=wg${vp_tag} vp_wgc=sm${vp_tag}k # at most 15 bytes
	vp_uplink=sm${vp_tag}u vp_inetif=sm${vp_tag}e
	vp_port=$((30000 + $$ % 10000))
	: "${tmp:?vpn_path_setup needs tmpdir first}"

	# The underlay: client and server on a veth, 192.168.246.0/24.
	netns_pair "$vp_client" "$vp_server" "sm${vp_tag}a" "sm${vp_tag}b" 192.168.246
	# The uplink: server and internet on a veth.
	netns_add "$vp_inet"
	ip link add "$vp_uplink" netns "$vp_server" type veth peer name "$vp_inetif" netns "$vp_inet"
	ip -n "$vp_server" addr add 198.51.100.1/24 dev "$vp_uplink"
	ip -n "$vp_inet" addr add "$vp_inet4/24" dev "$vp_inetif"
	ip -n "$vp_server" addr add 2001:db8:64::1/64 dev "$vp_uplink" nodad
	ip -n "$vp_inet" addr add "$vp_inet6/64" dev "$vp_inetif" nodad
	ip -n "$vp_server" link set "$vp_uplink" up
	ip -n "$vp_inet" link set "$vp_inetif" up
	ip -n "$vp_server" route add default via "$vp_inet4"
	ip -n "$vp_server" -6 route add default via "$vp_inet6"
	ip -n "$vp_inet" -6 route add "$vp_net6" via 2001:db8:64::1
	ip netns exec "$vp_server" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$vp_server" sysctl -qw net.ipv6.conf.all.forwarding=1

	# The tunnel.
	(umask 077 && wg genkey >"$tmp/vp-server.key" && wg genkey >"$tmp/vp-client.key")
	vp_server_pub=$(wg pubkey <"$tmp/vp-server.key")
	vp_client_pub=$(wg pubkey <"$tmp/vp-client.key")
	wg_go "$vp_server" "$vp_wg" "$tmp/vp-wg-server.log"
	wg_go "$vp_client" "$vp_wgc" "$tmp/vp-wg-client.log"
	ip netns exec "$vp_server" wg set "$vp_wg" private-key "$tmp/vp-server.key" \
		listen-port "$vp_port" peer "$vp_client_pub" allowed-ips "$vp_client4/32"
	ip netns exec "$vp_client" wg set "$vp_wgc" private-key "$tmp/vp-client.key" \
		peer "$vp_server_pub" endpoint "192.168.246.2:$vp_port" \
		allowed-ips 0.0.0.0/0,::/0 persistent-keepalive 5
	ip -n "$vp_server" addr add "$vp_addr4" dev "$vp_wg"
	ip -n "$vp_client" addr add "$vp_client4/32" dev "$vp_wgc"
	ip -n "$vp_client" addr add "$vp_client6/128" dev "$vp_wgc" nodad
	ip -n "$vp_server" link set "$vp_wg" up
	ip -n "$vp_client" link set "$vp_wgc" up
	ip -n "$vp_client" route add default dev "$vp_wgc"
	ip -n "$vp_client" -6 route add default dev "$vp_wgc"
	ping_tunnel "$vp_client" 10.100.0.1 || die "no traffic through the tunnel"
}

# vpn_path_ipv6 on|off: whether the tunnel carries IPv6 on the server side
# (its address and the client's allowed IPv6 address).
vpn_path_ipv6() {
	if [ "$1" = on ]; then
		ip -n "$vp_server" addr replace "$vp_addr6" dev "$vp_wg" nodad
		ip netns exec "$vp_server" wg set "$vp_wg" peer "$vp_client_pub" \
			allowed-ips "$vp_client4/32,$vp_client6/128"
	else
		ip -n "$vp_server" -6 addr flush dev "$vp_wg" scope global
		ip netns exec "$vp_server" wg set "$vp_wg" peer "$vp_client_pub" \
			allowed-ips "$vp_client4/32"
	fi
}

# vpn_path_reaches 4|6: the client pings the internet namespace through the
# tunnel and gets a reply (3 tries, 1 s each).
vpn_path_reaches() {
	if [ "$1" = 6 ]; then vp_dst=$vp_inet6; else vp_dst=$vp_inet4; fi
	for _ in 1 2 3; do
		timeout 5 ip netns exec "$vp_client" ping -"$1" -c 1 -W 1 "$vp_dst" \
			>/dev/null 2>&1 && return 0
	done
	return 1
}
