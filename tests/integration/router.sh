#!/bin/sh
# The router probe against a real router: miniupnpd (UPnP IGD and NAT-PMP)
# in a "router" namespace doing NAT (nftables) between the server's LAN and
# a "carrier" namespace, behind which an "internet" namespace tells each
# client its address (what the endpoint probe asks). The port mappings are
# made by this test with upnpc from a second LAN host, never by sparkmon:
#
#   server 192.168.77.2 ─┐                      carrier           internet
#   lan2   192.168.77.3 ─┴─ br 192.168.77.1 │ router WAN ─ 11.0.0.1 │ 11.1.0.2 ─ 11.1.0.1
#                                                       (100.64.0.1, NAT)
#
# Cases: the forward of UDP 51820 to the server (OK), to another host or
# port (CRITICAL naming both), none (WARNING); a public WAN address (OK),
# a shared one behind the carrier's NAT (router.cgnat CRITICAL); miniupnpd
# stopped (checks absent, `check`'s exit code as with the probe off); a
# hostile device's answers (tests/integration/lib/fakerouter.py), each a
# clear probe error; and miniupnpd's log shows no mapping asked by the
# server. The WAN side uses 11.0.0.0/8 addresses inside these namespaces
# only: miniupnpd hides every reserved range, the documentation ones too.
set -eu
: "${SPARKMON:?path of the sparkmon binary}"
. "$(dirname "$0")/lib/common.sh"
need_root "network namespaces, miniupnpd"
need_tools ip nft miniupnpd upnpc jq python3 wireguard-go curl
tmpdir router
fake=$(dirname "$0")/lib/fakerouter.py
S=smrs$$ L=smrl$$ R=smrr$$ C=smrc$$ I=smri$$
t_logs="$tmp/miniupnpd.log $tmp/out.json"

for ns in $S $L $R $C $I; do netns_add $ns; done
ip -n $R link add br$$ type bridge
ip -n $R addr add 192.168.77.1/24 dev br$$
ip -n $R link set br$$ up
for h in S L; do
	eval ns=\$$h
	ip link add rb$h$$ netns $R type veth peer name lan$$ netns "$ns"
	ip -n $R link set rb$h$$ master br$$ up
	ip -n "$ns" link set lan$$ up
done
ip -n $S addr add 192.168.77.2/24 dev lan$$
ip -n $L addr add 192.168.77.3/24 dev lan$$
ip -n $S route add default via 192.168.77.1
# The IPv6 way in: a global address on the server's uplink (no NAT).
ip -n $R addr add 2001:db8:77::1/64 dev br$$ nodad
ip -n $S addr add 2001:db8:77::2/64 dev lan$$ nodad
ip -n $S -6 route add default via 2001:db8:77::1
# The clients' DNS name, from the server namespace's own hosts file (ip
# netns exec puts /etc/netns/NS/* over /etc/*); no DNS server is asked.
mkdir -p /etc/netns/$S
trap 'rm -rf /etc/netns/$S; t_teardown' EXIT
printf 'nameserver 127.0.0.1\n' >/etc/netns/$S/resolv.conf
printf '11.0.0.2 home.example\n2001:db8:77::2 home.example\n' >/etc/netns/$S/hosts
ip -n $L route add default via 192.168.77.1
ip link add wan$$ netns $R type veth peer name cr$$ netns $C
ip link add ci$$ netns $C type veth peer name ic$$ netns $I
ip -n $R addr add 11.0.0.2/24 dev wan$$
ip -n $R link set wan$$ up
ip -n $R route add default via 11.0.0.1
ip -n $C addr add 11.0.0.1/24 dev cr$$
ip -n $C addr add 100.64.0.1/24 dev cr$$
ip -n $C addr add 11.1.0.2/24 dev ci$$
ip -n $C link set cr$$ up
ip -n $C link set ci$$ up
ip -n $I addr add 11.1.0.1/24 dev ic$$
ip -n $I link set ic$$ up
ip -n $I route add default via 11.1.0.2
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip netns exec $C sysctl -qw net.ipv4.ip_forward=1
# The carrier's NAT: only what comes from its shared range.
ip netns exec $C nft -f - <<EOF
table ip nat {
	chain postrouting { type nat hook postrouting priority 100; ip saddr 100.64.0.0/10 oifname "ci$$" masquerade; }
}
EOF
# The router's NAT, with the chains miniupnpd fills: all in its default
# table, inet filter (as its nft_init.sh makes them).
ip netns exec $R nft -f - <<EOF
table inet filter {
	chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
	chain miniupnpd { }
	chain prerouting { type nat hook prerouting priority -100; jump prerouting_miniupnpd; }
	chain postrouting { type nat hook postrouting priority 100; jump postrouting_miniupnpd; oifname "wan$$" masquerade; }
	chain prerouting_miniupnpd { }
	chain postrouting_miniupnpd { }
}
EOF

# What-is-my-IP in the internet namespace: the client's address, as text.
ip netns exec $I python3 -c '
import http.server as h
class H(h.BaseHTTPRequestHandler):
    def do_GET(self):
        b = (self.client_address[0] + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
h.HTTPServer(("11.1.0.1", 8080), H).serve_forever()' &
kill_at_exit $!
wait_http -n $S http://11.1.0.1:8080/

cat >"$tmp/miniupnpd.conf" <<EOF
ext_ifname=wan$$
listening_ip=br$$
http_port=5000
enable_natpmp=yes
enable_upnp=yes
secure_mode=no
system_uptime=yes
minissdpdsocket=$tmp/no-minissdpd.sock
lease_file=$tmp/leases
uuid=3ef0f5a2-3b7b-4a51-9a0d-4d3c0f6a0$$
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
ip netns exec $R miniupnpd -f "$tmp/miniupnpd.conf" -d -4 -P "$tmp/miniupnpd.pid" \
	>"$tmp/miniupnpd.log" 2>&1 &
upnpd=$!
kill_at_exit $upnpd
desc=http://192.168.77.1:5000/rootDesc.xml
for _ in $(seq 50); do
	ip netns exec $L upnpc -u $desc -l >/dev/null 2>&1 && break
	sleep 0.1
done

# A WireGuard interface on the server: [router] enabled = auto asks the
# router only where one exists.
wg_go $S wg$$ "$tmp/wireguard-go.log"

# The server's configuration: the router asked with a short deadline.
printf '[general]\nstate_dir = %s\n[endpoint]\nip_urls = http://11.1.0.1:8080/\ntimeout = 2s\nhostname = home.example:51820\n[router]\ntimeout = 1s\n' \
	"$tmp" >"$tmp/on.conf"
sed 's/^timeout = 1s$/enabled = no/' "$tmp/on.conf" >"$tmp/off.conf"

# check CONF: sparkmon check --json in the server's namespace, the document
# in $tmp/out.json, the exit code in $rc.
check() {
	rc=0
	ip netns exec $S "$SPARKMON" -c "$1" check --json >"$tmp/out.json" 2>"$tmp/err" || rc=$?
}
# expect ID STATUS REGEX: the check's status and summary.
expect() {
	got=$(jq -r --arg id "$1" '.checks[] | select(.id == $id) | .status + " " + .summary' "$tmp/out.json")
	case "$got" in
	"$2 "*) echo "$got" | grep -Eq -- "$3" && ok "$1 $2: $got" && return ;;
	esac
	fail "$1: expected $2 /$3/, got '$got' (router probe: $(jq -c .probes.router "$tmp/out.json"))"
}
upnpc_in_lan2() { ip netns exec $L upnpc -u $desc "$@" >>"$tmp/upnpc.log" 2>&1; }

# ---- a forward to the server -------------------------------------------------
upnpc_in_lan2 -a 192.168.77.2 51820 51820 UDP || fail "upnpc could not add the mapping"
check "$tmp/on.conf"
expect router.port_forward ok "forwards UDP 51820 to this host \(192\.168\.77\.2:51820\)"
expect router.cgnat ok "external address 11\.0\.0\.2 is public and the one the internet sees"
[ "$(jq -r .router.natpmp.external_ip "$tmp/out.json")" = 11.0.0.2 ] ||
	fail "NAT-PMP's external address: $(jq -c .router.natpmp "$tmp/out.json")"
[ "$(jq -r '.router.port_mapping_ok, .router.cgnat' "$tmp/out.json" | tr '\n' ' ')" = "true false " ] ||
	fail "router area: $(jq -c .router "$tmp/out.json")"
ip netns exec $S "$SPARKMON" -c "$tmp/on.conf" status >"$tmp/status.txt" 2>&1 || true
grep -q "UDP 51820 *-> 192.168.77.2:51820" "$tmp/status.txt" || fail "status lacks the mapping: $(sed -n '/^Router/,/^$/p' "$tmp/status.txt")"

# The daemon: the router area crosses from the collector to the web process.
printf '[http]\nlisten = 127.0.0.1:19586\n' | cat "$tmp/on.conf" - >"$tmp/serve.conf"
serve "$tmp/serve.conf" "$tmp/serve.log" $S
for _ in $(seq 50); do
	ip netns exec $S curl -s --max-time 2 http://127.0.0.1:19586/metrics >"$tmp/metrics" 2>/dev/null &&
		grep -q "^sparkmon_router_port_mapping_ok" "$tmp/metrics" && break
	sleep 0.2
done
grep -q '^sparkmon_router_port_mapping_ok{port="51820"} 1$' "$tmp/metrics" &&
	grep -q '^sparkmon_router_cgnat 0$' "$tmp/metrics" &&
	grep -q '^sparkmon_router_external_ip_info{address="11.0.0.2",kind="public"} 1$' "$tmp/metrics" &&
	ok "sparkmon serve: $(grep '^sparkmon_router_' "$tmp/metrics" | tr '\n' ' ')" ||
	fail "sparkmon serve's metrics: $(grep router "$tmp/metrics" | head -5) $(tail -3 "$tmp/serve.log")"
ip netns exec $S curl -s --max-time 2 http://127.0.0.1:19586/status.json |
	jq -e '.router.mapping.internal_client == "192.168.77.2" and .router.port_mapping_ok' >/dev/null ||
	fail "sparkmon serve's /status.json lacks the router area"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true

# ---- no WireGuard interface: the router is left alone ------------------------------
lines=$(wc -l <"$tmp/miniupnpd.log")
ip netns exec $L "$SPARKMON" -c "$tmp/on.conf" check --only router --json >"$tmp/lan2.json" 2>/dev/null || true
[ "$(jq -r .probes.router.status "$tmp/lan2.json")" = skipped ] &&
	jq -r .probes.router.error "$tmp/lan2.json" | grep -q "^no WireGuard interface here: the router is not asked" &&
	ok "no WireGuard interface: $(jq -r .probes.router.error "$tmp/lan2.json")" ||
	fail "no WireGuard interface: $(jq -c .probes.router "$tmp/lan2.json")"
tail -n +$((lines + 1)) "$tmp/miniupnpd.log" | grep -q "192.168.77.3" &&
	fail "the router was asked from a host without WireGuard"

# ---- the IPv6 way in ------------------------------------------------------------------
expect endpoint.public_ip6 ok "home\.example resolves to this host's IPv6 address 2001:db8:77::2"
[ "$(jq -r '.endpoint.ipv6.addresses | join(" ")' "$tmp/out.json")" = 2001:db8:77::2 ] ||
	fail "endpoint.ipv6: $(jq -c .endpoint.ipv6 "$tmp/out.json")"
grep -q "public IPv6: *2001:db8:77::2 (lan$$): Endpoint = \[2001:db8:77::2\]" "$tmp/status.txt" ||
	fail "status lacks the IPv6 endpoint: $(sed -n '/^Endpoint/,/^$/p' "$tmp/status.txt")"
printf '11.0.0.2 home.example\n2001:db8:77::99 home.example\n' >/etc/netns/$S/hosts
check "$tmp/on.conf"
expect endpoint.public_ip6 critical "home\.example resolves to 2001:db8:77::99 over IPv6, not to this host's 2001:db8:77::2"
printf '11.0.0.2 home.example\n2001:db8:77::2 home.example\n' >/etc/netns/$S/hosts

# ---- to another host, to another port --------------------------------------------
upnpc_in_lan2 -d 51820 UDP
upnpc_in_lan2 -a 192.168.77.3 51820 51820 UDP || fail "upnpc could not add the mapping"
check "$tmp/on.conf"
expect router.port_forward critical "forwards UDP 51820 to 192\.168\.77\.3:51820, not to this host \(192\.168\.77\.2:51820\)"
upnpc_in_lan2 -d 51820 UDP
upnpc_in_lan2 -a 192.168.77.2 51821 51820 UDP || fail "upnpc could not add the mapping"
check "$tmp/on.conf"
expect router.port_forward critical "to 192\.168\.77\.2:51821, not to this host \(192\.168\.77\.2:51820\)"

# ---- none for the port (another one listed) ------------------------------------
upnpc_in_lan2 -d 51820 UDP
upnpc_in_lan2 -a 192.168.77.3 8080 8080 TCP || fail "upnpc could not add the mapping"
check "$tmp/on.conf"
expect router.port_forward warning "lists 1 port mapping over UPnP, none for UDP 51820"
jq -r '.checks[] | select(.id == "router.port_forward") | .hint' "$tmp/out.json" |
	grep -q "web page is often not listed" || fail "the WARNING's hint does not name the web page"

# ---- behind the carrier's NAT ------------------------------------------------------
ip -n $R addr del 11.0.0.2/24 dev wan$$
ip -n $R addr add 100.64.0.2/24 dev wan$$
ip -n $R route add default via 100.64.0.1
check "$tmp/on.conf"
expect router.cgnat critical "inbound connections cannot reach this router"
[ "$(jq -r .endpoint.public_ip "$tmp/out.json")" = 11.1.0.2 ] ||
	fail "the public IP behind the carrier: $(jq -c .endpoint.public_ip "$tmp/out.json")"
[ "$(jq -r .router.cgnat "$tmp/out.json")" = true ] || fail "router.cgnat in JSON: $(jq -c .router "$tmp/out.json")"

# ---- the router never asked to map a port ----------------------------------------
# Every SOAP action the server sent, and no NAT-PMP mapping by anyone.
awk '/HTTP REQUEST from / { from = $5 } /SOAPAction:/ { split(from, a, ":"); print a[1], $NF }' \
	"$tmp/miniupnpd.log" >"$tmp/actions"
grep -q "^192.168.77.2 .*#GetSpecificPortMappingEntry$" "$tmp/actions" ||
	fail "miniupnpd's log shows no question of the server: $(head -c 300 "$tmp/actions")"
if grep -E "^192\.168\.77\.2 .*#(Add|Delete)" "$tmp/actions"; then
	fail "the server asked miniupnpd to change a mapping"
else
	ok "the server only asked: $(grep '^192.168.77.2 ' "$tmp/actions" | sed 's/.*#//' | sort -u | tr '\n' ' ')"
fi
grep -Eiq "NAT-PMP.*(port mapping|mapping request)|PCP.*MAP" "$tmp/miniupnpd.log" &&
	fail "a NAT-PMP or PCP mapping request reached miniupnpd"

# ---- no router answering -------------------------------------------------------------
kill $upnpd
wait $upnpd 2>/dev/null || true
check "$tmp/off.conf"
rc_off=$rc
jq -r '.checks[].id' "$tmp/out.json" | sort >"$tmp/ids.off"
check "$tmp/on.conf"
[ "$rc" = "$rc_off" ] || fail "check's exit code without a router: $rc, with the probe off: $rc_off"
jq -r '.checks[].id' "$tmp/out.json" | grep -q '^router\.' && fail "router checks present without a router"
[ "$(jq -r '.checks[].id' "$tmp/out.json" | sort)" = "$(cat "$tmp/ids.off")" ] || fail "the checks differ from the probe off"
[ "$(jq -r '.probes.router.status' "$tmp/out.json")" = skipped ] &&
	jq -r .probes.router.error "$tmp/out.json" | grep -q "^no router answered NAT-PMP or UPnP on lan$$ (gateway 192.168.77.1)" &&
	[ "$(jq -r .router "$tmp/out.json")" = null ] &&
	ok "no router: checks absent, probe skipped: $(jq -r .probes.router.error "$tmp/out.json")" ||
	fail "no router: $(jq -c .probes.router "$tmp/out.json")"

# ---- hostile answers -------------------------------------------------------------------
# hostile MODE REGEX: the fake in the router's namespace; the probe fails
# with REGEX, both checks UNKNOWN with it, the other checks as without it.
hostile() {
	rm -f "$tmp/ready"
	ip netns exec $R python3 "$fake" "$1" 192.168.77.1 "$tmp/ready" 2>"$tmp/fake.log" &
	fpid=$!
	for _ in $(seq 50); do
		[ -f "$tmp/ready" ] && break
		sleep 0.1
	done
	[ -f "$tmp/ready" ] || fail "$1: the fake router did not start: $(cat "$tmp/fake.log")"
	check "$tmp/on.conf"
	kill $fpid
	wait $fpid 2>/dev/null || true
	err=$(jq -r .probes.router.error "$tmp/out.json")
	if [ "$(jq -r .probes.router.status "$tmp/out.json")" = failed ] && echo "$err" | grep -Eq -- "$2"; then
		ok "$1: $err"
	else
		fail "$1: $(jq -c .probes.router "$tmp/out.json")"
	fi
	[ "$(jq -r '[.checks[] | select(.id | startswith("router.")) | .status] | join(" ")' "$tmp/out.json")" = "unknown unknown" ] ||
		fail "$1: router checks: $(jq -c '[.checks[] | select(.id | startswith("router."))]' "$tmp/out.json")"
	[ "$(jq -r '.checks[].id' "$tmp/out.json" | grep -v '^router\.' | sort)" = "$(cat "$tmp/ids.off")" ] ||
		fail "$1: other checks changed"
}
hostile ssdp-offlan "points at http://11\.1\.0\.1:5000/rootDesc\.xml, outside the uplink's network: refused"
hostile desc-huge "the answer of http://192\.168\.77\.1:5000/rootDesc\.xml is larger than 64 KiB: refused"
hostile soap-huge "the answer of http://192\.168\.77\.1:5000/ctl/IPConn is larger than 16 KiB: refused"
hostile soap-entity "GetExternalIPAddress answer holds a document type declaration"
hostile natpmp-size "NAT-PMP: an answer of 8 bytes from 192\.168\.77\.1, not 12: refused"

finish
