#!/bin/sh
# Gathers the seed inputs of every harness into OUT/<harness>/: the test
# fixtures, a few hand-written inputs, and the netlink messages that
# seeds_netlink (built as BIN) writes, in a network namespace of its own
# whose links (veth pairs here), addresses and routes look like the
# watched server's. The committed corpora are these seeds and what fuzzing
# found, minimized:
#   tests/fuzz/seeds.sh OUT BIN
#   build-fuzz/fuzz_NAME -merge=1 tests/fuzz/corpus/NAME OUT/NAME NEW-INPUTS
set -eu
out=$1
bin=$2
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../fixtures
ns=sm-fuzzseeds-$$
for h in config iptables nftjson postup wgquick sysctl meminfo gpu wguapi wgkernel rtnl fetch \
	query state; do
	mkdir -p "$out/$h"
done
cp "$fixtures"/config/*.conf "$out/config/"
cp "$fixtures"/firewall/* "$out/iptables/"
cp "$fixtures"/wgquick/* "$out/wgquick/"
cp "$fixtures"/meminfo/* "$out/meminfo/"
cp "$fixtures"/gpu/*.csv "$fixtures"/gpu/*.txt "$out/gpu/"
find "$fixtures/roots" -path '*sysctl*' -type f -exec sh -c \
	'for f; do cp "$f" "$0/$(echo "$f" | tr / _)"; done' "$out/sysctl" {} +
find "$fixtures/roots" -name ip_forward -type f -exec sh -c \
	'for f; do cp "$f" "$0/$(echo "$f" | tr / _)"; done' "$out/sysctl" {} +
printf '{ "ip-forward": false, "ipv6": true }\n' >"$out/sysctl/docker-daemon.json"
printf '[Match]\nName=eth0\n\n[Network]\nIPForward=ipv4\nIPv6Forwarding=yes\n' \
	>"$out/sysctl/networkd.network"
printf 'sysctl -w net.ipv4.ip_forward=1; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding' \
	>"$out/sysctl/postup-sysctl"
# Two files in one input (the harness cuts at the NUL).
printf 'net.ipv4.ip_forward = 1\n\000net.ipv4.conf.*.forwarding=0\n' >"$out/sysctl/two-files"
# PostUp commands: the wg-quick fixtures' and the guide's.
n=0
grep -h '^Post\(Up\|Down\) *=' "$fixtures"/wgquick/* | sed 's/^[^=]*= *//' | tr -d '\r' |
	tr ';' '\n' | sed 's/^ *//' | while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" >"$out/postup/cmd$n"
done
printf 'iptables -I FORWARD 1 ! -i %%i -o eth0 -s 10.100.0.0/24 -d 0.0.0.0/0 -j ACCEPT' \
	>"$out/postup/negated"
printf 'ip6tables -t nat -A POSTROUTING -o enP7s7 -j MASQUERADE' >"$out/postup/ipv6"
# sparkmon-fetch's answers: what the fake helpers print.
for f in "$fixtures"/endpoint/fetch-*.sh; do
	timeout 5 sh "$f" http://127.0.0.1/ 2>/dev/null | head -c 8192 \
		>"$out/fetch/$(basename "$f" .sh)" || true
done
find "$out/fetch" -size 0 -delete
printf '203.0.113.7\n1700000000\n' >"$out/state/ok"
printf '203.0.113.7\n' >"$out/state/no-time"
printf '203.0.113.7\n17000000000000000000000\n' >"$out/state/time-overflow"
printf '?status,memory.used_bytes' >"$out/query/two"
printf '\000\000\000\000\036\010\000\000\000\050?status' >"$out/query/near-1970"
printf '\204\000\000\001\000\204\000\000\002\000?,,wg.wg0.x.rx_bytes_per_second,' \
	>"$out/query/counter"
printf 'private_key=%064d\nlisten_port=51820\npublic_key=%064d\nendpoint=203.0.113.7:51820\nlast_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\nrx_bytes=100\ntx_bytes=200\npersistent_keepalive_interval=25\nallowed_ip=10.100.0.2/32\nallowed_ip=fd00::2/128\nprotocol_version=1\nerrno=0\n\n' \
	1 2 >"$out/wguapi/one-peer"
printf 'errno=19\n\n' >"$out/wguapi/enodev"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" link add enP7s7 type veth peer name lan-peer
ip -n "$ns" link add wg-dgx-spark type veth peer name wg-peer
ip -n "$ns" link set enP7s7 up
ip -n "$ns" link set wg-dgx-spark up
ip -n "$ns" link set lan-peer up
ip -n "$ns" link set wg-peer up
ip -n "$ns" addr add 192.168.1.20/24 dev enP7s7
ip -n "$ns" addr add fd00:1::20/64 dev enP7s7 nodad
ip -n "$ns" addr add 10.100.0.1/24 dev wg-dgx-spark
ip -n "$ns" route add default via 192.168.1.1 dev enP7s7
ip -n "$ns" -6 route add default via fd00:1::1 dev enP7s7
ip netns exec "$ns" "$bin" "$out"
# nft -j list ruleset: wg-quick's PostUp rules through iptables-nft, then
# Docker's chains, then a native nftables ruleset, then nothing.
nft() { ip netns exec "$ns" nft "$@"; }
ipt() { ip netns exec "$ns" iptables "$@"; }
ipt -A FORWARD -i wg-dgx-spark -j ACCEPT
ipt -t nat -A POSTROUTING -o enP7s7 -j MASQUERADE
nft -j list ruleset >"$out/nftjson/postup.json"
ipt -P FORWARD DROP
ipt -N DOCKER-USER
ipt -A DOCKER-USER -j RETURN
ipt -I FORWARD -j DOCKER-USER
ipt -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt -A FORWARD -s 10.100.0.0/24 ! -o wg-dgx-spark -p tcp --dport 22 -j REJECT
ip netns exec "$ns" ip6tables -A FORWARD -i wg-dgx-spark -j ACCEPT
nft -j list ruleset >"$out/nftjson/docker.json"
nft flush ruleset
nft add table inet fw
nft add chain inet fw forwarding '{ type filter hook forward priority 0; policy drop; }'
nft add rule inet fw forwarding iifname wg-dgx-spark oifname enP7s7 accept
nft add rule inet fw forwarding ct state established,related accept
nft add chain inet fw sub
nft add rule inet fw sub ip saddr 10.100.0.0/24 counter drop
nft add rule inet fw forwarding jump sub
nft add table ip nat
nft add chain ip nat post '{ type nat hook postrouting priority 100; }'
nft add rule ip nat post ip saddr 10.100.0.0/24 oifname enP7s7 masquerade
nft -j list ruleset >"$out/nftjson/native.json"
nft flush ruleset
nft -j list ruleset >"$out/nftjson/empty.json"
