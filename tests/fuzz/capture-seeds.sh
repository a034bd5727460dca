#!/bin/sh
# Captures real inputs for the fuzzing corpora from the real programs and
# kernel, then, given the harnesses, merges into each corpus the captures
# that reach code its inputs do not (libFuzzer's -merge=1):
#
#   tests/fuzz/capture-seeds.sh OUT BUILD [FUZZ]      (root; make fuzz-capture)
#
# BUILD holds sparkmon and bench/wgpoll (make BUILD=... and vm.sh wgpoll),
# FUZZ the fuzz_<harness> binaries (make fuzz-build). OUT/<harness>/ gets:
#   wgkernel  the replies to the probe's WireGuard dumps as its reader got
#             them (wgpoll capture), in the kernel test's VM (Debian's
#             kernel under QEMU, tests/integration/kernel/): 300 peers, one
#             of them continued over several messages; one peer after a
#             real handshake; the first messages of a dump that changes to
#             the device interrupted
#   wguapi    wireguard-go's answer to get=1 on its UAPI socket: two devices
#             in namespaces joined by a veth, a handshake through them, a
#             preshared key, keepalive, IPv4 and IPv6 endpoints and allowed
#             IPs, peers that never connected
#   iptables  iptables-save and ip6tables-save (iptables-nft) of a namespace
#             with Docker's chains (DOCKER, DOCKER-USER, the isolation
#             stages, FORWARD policy DROP, a published port) and wg-quick's
#             PostUp rules
#   nftjson   nft -j list ruleset of those rules, then of a native ruleset
#             beside them
# Every key in them is made for the capture and thrown away.
set -eu

[ $# -ge 2 ] || {
	echo "usage: capture-seeds.sh OUT BUILD [FUZZ]" >&2
	exit 2
}
out=$(mkdir -p "$1" && cd "$1" && pwd)
build=$(cd "$2" && pwd)
fuzz=${3:+$(cd "$3" && pwd)}
here=$(cd "$(dirname "$0")" && pwd)
SPARKMON=$build/sparkmon
. "$here/../integration/lib/common.sh"
need_root "network namespaces, iptables, wireguard-go"
need_tools wireguard-go wg ip iptables ip6tables iptables-save ip6tables-save nft perl base64 jq
for f in "$SPARKMON" "$build/bench/wgpoll"; do
	[ -x "$f" ] || die "$f is missing (make BUILD=$2; tests/integration/kernel/vm.sh wgpoll $2)"
done
for h in wgkernel wguapi iptables nftjson; do
	mkdir -p "$out/$h"
done
tmpdir capture-seeds
ns=smcap$$

# ---- kernel WireGuard, in the test VM ---------------------------------------
vmout=$tmp/vm
"$here/../integration/kernel/vm.sh" run --out "$vmout" --timeout 300 \
	--scenario "$here/../integration/kernel/scenario-wireguard.sh" \
	--append sparkmon_capture=1 --bin "$SPARKMON" --bin "$build/bench/wgpoll" ||
	die "the VM scenario failed: $(tail -5 "$vmout/scenario.log" 2>/dev/null)"
for name in wgkernel-wg0 wgkernel-wg1 wgkernel-interrupted; do
	[ -s "$vmout/$name.b64" ] || die "the VM captured no $name: $(cat "$vmout/capture.log")"
	base64 -d "$vmout/$name.b64" >"$out/wgkernel/$name"
done
grep -q 'if=wgc result=-4 .*flagged=1' "$vmout/capture.log" ||
	die "no interrupted dump captured: $(cat "$vmout/capture.log")"

# ---- wireguard-go's UAPI answer ----------------------------------------------
netns_pair "${ns}a" "${ns}b" va vb 10.77.0
wg_go "${ns}a" "wgc$$a" "$tmp/wg-a.log"
wg_go "${ns}b" "wgc$$b" "$tmp/wg-b.log"
umask 077
wg genkey >"$tmp/a.key"
wg genkey >"$tmp/b.key"
wg genpsk >"$tmp/psk"
umask 022
pub_a=$(wg pubkey <"$tmp/a.key")
pub_b=$(wg pubkey <"$tmp/b.key")
# Peers that never connected: no endpoint, an IPv6 endpoint, several
# allowed IPs, keepalive.
others=""
for i in 1 2 3 4 5 6; do
	k=$(wg genkey | wg pubkey)
	others="$others peer $k allowed-ips 10.78.$i.0/24,fd78::$i/128"
	[ $((i % 2)) = 0 ] && others="$others endpoint [2001:db8::$i]:5182$i"
	[ $((i % 3)) = 0 ] && others="$others persistent-keepalive 25"
done
# shellcheck disable=SC2086 # one word per argument
ip netns exec "${ns}a" wg set "wgc$$a" private-key "$tmp/a.key" listen-port 51820 fwmark 0x5a \
	peer "$pub_b" preshared-key "$tmp/psk" endpoint 10.77.0.2:51821 \
	allowed-ips 10.99.0.2/32,fd99::2/128 persistent-keepalive 25 $others
ip netns exec "${ns}b" wg set "wgc$$b" private-key "$tmp/b.key" listen-port 51821 \
	peer "$pub_a" preshared-key "$tmp/psk" endpoint 10.77.0.1:51820 allowed-ips 10.99.0.1/32
ip -n "${ns}a" addr add 10.99.0.1/24 dev "wgc$$a"
ip -n "${ns}b" addr add 10.99.0.2/24 dev "wgc$$b"
ip -n "${ns}a" link set "wgc$$a" up
ip -n "${ns}b" link set "wgc$$b" up
ping_tunnel "${ns}b" 10.99.0.1 || die "no handshake through the wireguard-go tunnel"
uapi_get() { # ifname file
	# The answer ends with a blank line; the socket stays open for more.
	timeout 10 perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "$ARGV[0]: $!\n";
		print $s "get=1\n\n";
		while (my $line = <$s>) {
			print $line;
			last if $line eq "\n";
		}' "/var/run/wireguard/$1.sock" >"$2"
	grep -q '^errno=0$' "$2" || die "wireguard-go's answer on $1 does not end in errno=0"
}
uapi_get "wgc$$a" "$out/wguapi/wireguard-go-peers"
uapi_get "wgc$$b" "$out/wguapi/wireguard-go-one"
grep -q '^last_handshake_time_sec=[1-9]' "$out/wguapi/wireguard-go-one" ||
	die "wireguard-go reports no handshake"

# ---- iptables and nft, as Docker and wg-quick leave them ---------------------
fw=${ns}f
netns_add "$fw"
ip -n "$fw" link add enP7s7 type veth peer name lan0
ip -n "$fw" link add docker0 type bridge
ip -n "$fw" link add wg0 type veth peer name wg0-peer
ipt() { ip netns exec "$fw" iptables "$@"; }
ipt6() { ip netns exec "$fw" ip6tables "$@"; }
# What dockerd adds at start and for `docker run -p 8080:80`.
ipt -P FORWARD DROP
for c in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do
	ipt -N "$c"
done
ipt -A FORWARD -j DOCKER-USER
ipt -A FORWARD -j DOCKER-ISOLATION-STAGE-1
ipt -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt -A FORWARD -o docker0 -j DOCKER
ipt -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
ipt -A FORWARD -i docker0 -o docker0 -j ACCEPT
ipt -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
ipt -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
ipt -A DOCKER-ISOLATION-STAGE-1 -j RETURN
ipt -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
ipt -A DOCKER-ISOLATION-STAGE-2 -j RETURN
ipt -A DOCKER-USER -j RETURN
ipt -t nat -N DOCKER
ipt -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
ipt -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
ipt -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
ipt -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
ipt -t nat -A DOCKER -i docker0 -j RETURN
ipt -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
# wg-quick's PostUp for wg0 (the guide's), as wg-quick runs it.
ip netns exec "$fw" sh -c 'iptables -A FORWARD -i wg0 -j ACCEPT; iptables -A FORWARD -o wg0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT; iptables -t nat -A POSTROUTING -s 10.100.0.0/24 -o enP7s7 -j MASQUERADE; ip6tables -A FORWARD -i wg0 -j ACCEPT; ip6tables -t nat -A POSTROUTING -o enP7s7 -j MASQUERADE'
ipt6 -P FORWARD DROP
ipt6 -N DOCKER-USER
ipt6 -A DOCKER-USER -j RETURN
ipt6 -I FORWARD -j DOCKER-USER
ip netns exec "$fw" iptables-save >"$out/iptables/iptables-save-docker-wg-quick"
ip netns exec "$fw" ip6tables-save >"$out/iptables/ip6tables-save-docker-wg-quick"
ip netns exec "$fw" nft -j list ruleset >"$out/nftjson/docker-wg-quick.json"
# A native ruleset beside them: what a hand-written nftables.conf holds.
ip netns exec "$fw" nft -f - <<'NFT'
table inet filter {
	set vpn_ports { type inet_service; elements = { 22, 8888 } }
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		iifname "wg0" tcp dport @vpn_ports accept
		udp dport 51820 counter accept
		ip6 nexthdr ipv6-icmp accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		jump vpn
		ct state { established, related } accept
	}
	chain vpn {
		iifname "wg0" oifname "enP7s7" ip saddr 10.100.0.0/24 accept
		iifname "wg0" ip daddr 192.168.1.0/24 reject with icmp type admin-prohibited
	}
}
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "enP7s7" ip saddr 10.100.0.0/24 masquerade
	}
}
NFT
ip netns exec "$fw" nft -j list ruleset >"$out/nftjson/docker-wg-quick-native.json"
for f in "$out"/nftjson/*.json; do
	jq -e .nftables "$f" >/dev/null || die "$f is not nft's JSON"
done

echo "capture-seeds: $(find "$out" -type f | wc -l) captures in $out"
[ -n "$fuzz" ] || exit 0

# ---- into the corpora ----------------------------------------------------------
for h in wgkernel wguapi iptables nftjson; do
	[ -x "$fuzz/fuzz_$h" ] || die "$fuzz/fuzz_$h is missing (make fuzz-build)"
	before=$(find "$here/corpus/$h" -type f | wc -l)
	"$fuzz/fuzz_$h" -merge=1 -rss_limit_mb=2048 "$here/corpus/$h" "$out/$h" \
		>"$tmp/merge-$h.log" 2>&1 || die "merging into $h failed: $(tail -5 "$tmp/merge-$h.log")"
	echo "capture-seeds: $h: $(($(find "$here/corpus/$h" -type f | wc -l) - before)) new inputs"
done
