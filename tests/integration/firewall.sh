#!/bin/sh
# The firewall checks against real iptables rules in throwaway network
# namespaces, with both backends (iptables-nft and iptables-legacy).
# sparkmon runs inside each namespace, so that iptables-save and the
# rtnetlink route lookup see what the namespace holds.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools ip iptables-nft iptables-nft-save iptables-legacy iptables-legacy-save \
	ip6tables-nft ip6tables-nft-save nft jq wireguard-go setpriv
need_root "network namespaces, iptables"
NFT_SAVE=$(command -v iptables-nft-save)
LEGACY_SAVE=$(command -v iptables-legacy-save)

tmpdir firewall

# A namespace with an uplink NIC (veth, default route through it) and a
# stand-in for the WireGuard interface (a tun device with the VPN address).
make_ns() {
	ns="smfw$$-$1"
	uplink=$2
	netns_add "$ns"
	ip -n "$ns" link add "$uplink" type veth peer name "${uplink}p"
	ip -n "$ns" link set "$uplink" up
	ip -n "$ns" link set "${uplink}p" up
	ip -n "$ns" addr add 192.0.2.2/24 dev "$uplink"
	ip -n "$ns" route add default via 192.0.2.1
	ip -n "$ns" tuntap add wg0 mode tun
	ip -n "$ns" addr add 10.100.0.1/24 dev wg0
	ip -n "$ns" link set wg0 up
}

# config NAME IPTABLES_SAVE [WG_QUICK_TEMPLATE [NFT]]: ip6tables-save
# beside iptables-save, of the same backend. No public-IP lookup: the
# namespace's default route leads nowhere, and a DNS query would wait for
# its timeout on every status run.
config() {
	cat >"$tmp/$1.conf" <<CONF
[general]
state_dir = $tmp
[wireguard]
interfaces = wg0
wg_quick_file = ${3:-}
[firewall]
iptables_save = $2
ip6tables_save = $(dirname "$2")/ip6$(basename "$2" | sed 's/^ip//')
nft = ${4:-$(command -v nft)}
[endpoint]
ip_urls =
CONF
}

# expect NS CONF CHECK-ID STATUS TEXT: the status report's line for the
# check has that status and contains TEXT.
expect() {
	out=$(ip netns exec "$1" "$SPARKMON" -c "$tmp/$2.conf" status 2>&1 || true)
	line=$(printf '%s\n' "$out" | grep -E "^  [A-Z]+ +$3 " || true)
	case "$line" in
	"  $4 "*"$5"*) echo "ok: $1 $3 $4" ;;
	*) fail "$1 $3: expected $4 with '$5', got: ${line:-<no line>}"
	   printf '%s\n' "$out" | sed -n '/^Checks/,/^$/p' >&2 ;;
	esac
}

# expect_hint NS CONF CHECK-ID TEXT: the check's fix line contains TEXT.
expect_hint() {
	out=$(ip netns exec "$1" "$SPARKMON" -c "$tmp/$2.conf" check --only "$3" 2>&1 || true)
	case "$out" in
	*"$4"*) echo "ok: $1 $3 hint" ;;
	*) fail "$1 $3: hint without '$4': $out" ;;
	esac
}

# expect_exit NS CONF CODE
expect_exit() {
	rc=0
	ip netns exec "$1" "$SPARKMON" -c "$tmp/$2.conf" check --only firewall >/dev/null 2>&1 || rc=$?
	[ "$rc" = "$3" ] && echo "ok: $1 exit $3" || fail "$1: exit code $rc, expected $3"
}

# apply_fix NS CONF CHECK-ID: runs, as written, each command of the
# check's "fix" list in the JSON output; fails when there is none.
apply_fix() {
	cmds=$(ip netns exec "$1" "$SPARKMON" -c "$tmp/$2.conf" check --only "$3" --json |
		jq -r --arg id "$3" '.checks[] | select(.id == $id) | .fix // [] | .[]')
	[ -n "$cmds" ] || { fail "$1 $3: no fix commands"; return; }
	printf '%s\n' "$cmds" | while IFS= read -r cmd; do
		ip netns exec "$1" sh -c "$cmd" || fail "$1 $3: fix failed: $cmd"
	done
	echo "ok: $1 $3 fix applied"
}

# absent NS CONF CHECK-ID: the check is not in the report.
absent() {
	ip netns exec "$1" "$SPARKMON" -c "$tmp/$2.conf" status 2>&1 | grep -qE "^  [A-Z]+ +$3 " &&
		fail "$1 $3: present, expected absent" || echo "ok: $1 $3 absent"
}

standard_rules() { # NS IPTABLES UPLINK
	ip netns exec "$1" "$2" -A FORWARD -i wg0 -j ACCEPT
	ip netns exec "$1" "$2" -t nat -A POSTROUTING -o "$3" -j MASQUERADE
}

# What Docker does to FORWARD and nat (docker 24-27), then wg-quick's rule
# appended after it.
docker_rules() { # NS IPTABLES
	ip netns exec "$1" "$2" -N DOCKER
	ip netns exec "$1" "$2" -N DOCKER-ISOLATION-STAGE-1
	ip netns exec "$1" "$2" -N DOCKER-ISOLATION-STAGE-2
	ip netns exec "$1" "$2" -N DOCKER-USER
	ip netns exec "$1" "$2" -P FORWARD DROP
	ip netns exec "$1" "$2" -A FORWARD -j DOCKER-USER
	ip netns exec "$1" "$2" -A FORWARD -j DOCKER-ISOLATION-STAGE-1
	ip netns exec "$1" "$2" -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	ip netns exec "$1" "$2" -A FORWARD -o docker0 -j DOCKER
	ip netns exec "$1" "$2" -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
	ip netns exec "$1" "$2" -A FORWARD -i docker0 -o docker0 -j ACCEPT
	ip netns exec "$1" "$2" -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
	ip netns exec "$1" "$2" -A DOCKER-ISOLATION-STAGE-1 -j RETURN
	ip netns exec "$1" "$2" -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
	ip netns exec "$1" "$2" -A DOCKER-ISOLATION-STAGE-2 -j RETURN
	ip netns exec "$1" "$2" -A DOCKER-USER -j RETURN
	ip netns exec "$1" "$2" -t nat -N DOCKER
	ip netns exec "$1" "$2" -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
	ip netns exec "$1" "$2" -t nat -A DOCKER -i docker0 -j RETURN
}

for backend in nft legacy; do
	if [ $backend = nft ]; then ipt=iptables-nft save=$NFT_SAVE; else ipt=iptables-legacy save=$LEGACY_SAVE; fi
	config "$backend" "$save"

	echo "-- $backend: the guide's setup"
	make_ns "$backend-std" up0
	standard_rules "$ns" $ipt up0
	expect "$ns" "$backend" firewall.forward OK "FORWARD rule 1 '-A FORWARD -i wg0 -j ACCEPT'"
	expect "$ns" "$backend" firewall.masquerade OK "(10.100.0.0/24) is masqueraded"
	expect "$ns" "$backend" firewall.uplink OK "MASQUERADE is on up0, which carries the default route via 192.0.2.1"
	expect_exit "$ns" "$backend" 0

	echo "-- $backend: Docker set FORWARD to DROP, wg-quick's rule after its chains: replies dropped"
	make_ns "$backend-docker" up0
	docker_rules "$ns" $ipt
	standard_rules "$ns" $ipt up0
	expect "$ns" "$backend" firewall.forward CRITICAL "FORWARD policy is DROP and no rule accepts replies to wg0 (Docker"
	expect "$ns" "$backend" firewall.forward CRITICAL "accepted: wg0 out: FORWARD rule 7 '-A FORWARD -i wg0 -j ACCEPT', after Docker's chains"
	expect_hint "$ns" "$backend" firewall.forward "PostUp = iptables -A FORWARD -o %i -j ACCEPT / PostDown = iptables -D FORWARD -o %i -j ACCEPT"
	expect "$ns" "$backend" firewall.masquerade OK "'-A POSTROUTING -o up0 -j MASQUERADE'"
	expect_exit "$ns" "$backend" 2
	apply_fix "$ns" "$backend" firewall.forward
	expect "$ns" "$backend" firewall.forward OK "wg0 back: FORWARD rule 1 '-A FORWARD -o wg0 -j ACCEPT'"
	expect_exit "$ns" "$backend" 0

	echo "-- $backend: Docker, and both directions accepted by the PostUp lines"
	make_ns "$backend-docker-o" up0
	docker_rules "$ns" $ipt
	standard_rules "$ns" $ipt up0
	ip netns exec "$ns" $ipt -A FORWARD -o wg0 -j ACCEPT
	expect "$ns" "$backend" firewall.forward OK "wg0 back: FORWARD rule 8 '-A FORWARD -o wg0 -j ACCEPT', after Docker's chains"
	expect_exit "$ns" "$backend" 0

	echo "-- $backend: Docker, replies accepted by conntrack before the policy"
	make_ns "$backend-docker-ct" up0
	docker_rules "$ns" $ipt
	standard_rules "$ns" $ipt up0
	ip netns exec "$ns" $ipt -I FORWARD 3 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	expect "$ns" "$backend" firewall.forward OK "wg0 back: FORWARD rule 3"
	expect_exit "$ns" "$backend" 0

	echo "-- $backend: a DNS-only ACCEPT decides nothing"
	make_ns "$backend-dns" up0
	ip netns exec "$ns" $ipt -P FORWARD DROP
	ip netns exec "$ns" $ipt -A FORWARD -i wg0 -p udp --dport 53 -j ACCEPT
	ip netns exec "$ns" $ipt -t nat -A POSTROUTING -o up0 -j MASQUERADE
	expect "$ns" "$backend" firewall.forward CRITICAL "FORWARD policy is DROP and no rule accepts traffic from wg0"
	apply_fix "$ns" "$backend" firewall.forward
	expect_exit "$ns" "$backend" 0

	echo "-- $backend: Docker, and the FORWARD rule missing"
	make_ns "$backend-missing" up0
	docker_rules "$ns" $ipt
	ip netns exec "$ns" $ipt -t nat -A POSTROUTING -o up0 -j MASQUERADE
	expect "$ns" "$backend" firewall.forward CRITICAL "FORWARD policy is DROP and no rule accepts traffic from wg0 (Docker"
	expect_hint "$ns" "$backend" firewall.forward "-I FORWARD 1 -i wg0 -j ACCEPT"
	expect_exit "$ns" "$backend" 2
	apply_fix "$ns" "$backend" firewall.forward
	expect_exit "$ns" "$backend" 0

	echo "-- $backend: no MASQUERADE at all"
	make_ns "$backend-nomasq" up0
	ip netns exec "$ns" $ipt -A FORWARD -i wg0 -j ACCEPT
	expect "$ns" "$backend" firewall.masquerade CRITICAL "no MASQUERADE or SNAT rule"
	expect_hint "$ns" "$backend" firewall.masquerade "PostUp = iptables -t nat -I POSTROUTING -s 10.100.0.0/24 -o up0 -j MASQUERADE / PostDown = iptables -t nat -D POSTROUTING -s 10.100.0.0/24 -o up0 -j MASQUERADE"
	apply_fix "$ns" "$backend" firewall.masquerade
	expect "$ns" "$backend" firewall.masquerade OK "rule 1 '-A POSTROUTING -s 10.100.0.0/24 -o up0 -j MASQUERADE'"

	echo "-- $backend: a nat ACCEPT before the MASQUERADE"
	make_ns "$backend-natacc" up0
	ip netns exec "$ns" $ipt -A FORWARD -i wg0 -j ACCEPT
	ip netns exec "$ns" $ipt -t nat -A POSTROUTING -s 10.100.0.0/24 -j ACCEPT
	ip netns exec "$ns" $ipt -t nat -A POSTROUTING -o up0 -j MASQUERADE
	expect "$ns" "$backend" firewall.masquerade CRITICAL "no MASQUERADE or SNAT rule"
	apply_fix "$ns" "$backend" firewall.masquerade
	expect "$ns" "$backend" firewall.masquerade OK "rule 1"

	echo "-- $backend: a DROP rule before the ACCEPT"
	make_ns "$backend-drop" up0
	ip netns exec "$ns" $ipt -A FORWARD -i wg+ -j DROP
	standard_rules "$ns" $ipt up0
	expect "$ns" "$backend" firewall.forward CRITICAL "FORWARD rule 1 drops traffic from wg0"
	apply_fix "$ns" "$backend" firewall.forward
	expect "$ns" "$backend" firewall.forward OK "wg0 out: FORWARD rule 1 '-A FORWARD -i wg0 -j ACCEPT'"
done

config wgq "$NFT_SAVE" "$tmp/%i.conf"
cat >"$tmp/wg0.conf" <<'WGQ'
[Interface]
Address = 10.100.0.1/24
ListenPort = 51820
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o enp1s0 -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o enp1s0 -j MASQUERADE
WGQ

echo "-- new hardware: MASQUERADE on a NIC that does not exist"
make_ns renamed enP7s7
standard_rules "$ns" iptables-nft enp1s0
expect "$ns" wgq firewall.masquerade OK "-o enp1s0 -j MASQUERADE"
expect "$ns" wgq firewall.uplink CRITICAL "out of enp1s0, which does not exist; the default route leaves by enP7s7"
expect_hint "$ns" wgq firewall.uplink "uplink renamed enp1s0 -> enP7s7"
expect_hint "$ns" wgq firewall.uplink "PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o enP7s7 -j MASQUERADE"
expect_hint "$ns" wgq firewall.uplink "PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o enP7s7 -j MASQUERADE"
expect_exit "$ns" wgq 2
if ip netns exec "$ns" "$SPARKMON" -c "$tmp/wgq.conf" check --json | grep -q yAnz5TF; then
	fail "the private key of the wg-quick file reached the output"
fi

echo "-- the default route moved to another NIC"
make_ns moved up0
standard_rules "$ns" iptables-nft up0
ip -n "$ns" link add up1 type veth peer name up1p
ip -n "$ns" link set up1 up
ip -n "$ns" addr add 198.51.100.2/24 dev up1
ip -n "$ns" route replace default via 198.51.100.1 dev up1
config moved "$NFT_SAVE"
expect "$ns" moved firewall.uplink CRITICAL "MASQUERADE is on up0 but the default route leaves by up1 via 198.51.100.1"
expect_hint "$ns" moved firewall.uplink "-t nat -A POSTROUTING -o up1 -j MASQUERADE"
apply_fix "$ns" moved firewall.uplink
expect "$ns" moved firewall.uplink OK "MASQUERADE is on up1, which carries the default route via 198.51.100.1"

echo "-- native nftables: a forward chain of its own with policy drop"
make_ns native-drop up0
standard_rules "$ns" iptables-nft up0
ip netns exec "$ns" nft add table inet hostfw
ip netns exec "$ns" nft add chain inet hostfw gate '{ type filter hook forward priority 10; policy drop; }'
ip netns exec "$ns" nft add rule inet hostfw gate udp dport 53 accept
config nftnat "$NFT_SAVE"
expect "$ns" nftnat firewall.forward CRITICAL "nft inet hostfw chain gate policy is DROP and no rule accepts traffic from wg0"
expect "$ns" nftnat firewall.forward CRITICAL "replies to wg0"
apply_fix "$ns" nftnat firewall.forward
expect "$ns" nftnat firewall.forward OK "wg0 out: FORWARD rule 1 '-A FORWARD -i wg0 -j ACCEPT'"
if ip netns exec "$ns" "$SPARKMON" -c "$tmp/nftnat.conf" status | grep -q "nft inet hostfw gate rule [0-9] 'iifname \"wg0\" accept'"; then
	echo "ok: status names the nft rule that decides"
else
	fail "status does not name the nft rule that decides"
fi

echo "-- native nftables: accepted by iifname and ct state, masquerade in nft"
make_ns native-ok up0
ip netns exec "$ns" nft -f - <<'NFT'
table inet hostfw {
	chain gate {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "wg*" accept
	}
	chain outnat {
		type nat hook postrouting priority 100;
		ip saddr 10.100.0.0/24 oifname "up0" masquerade
	}
}
NFT
expect "$ns" nftnat firewall.forward OK "wg0 back: nft inet hostfw gate rule 1"
expect "$ns" nftnat firewall.masquerade OK "inet hostfw outnat rule 1"
expect "$ns" nftnat firewall.uplink OK "MASQUERADE is on up0"

echo "-- nft not installed: the iptables view alone, and said so"
config nonft "$NFT_SAVE" "" /nonexistent/nft
out=$(ip netns exec "$ns" "$SPARKMON" -c "$tmp/nonft.conf" status 2>&1 || true)
case "$out" in
*"nft is not installed (/nonexistent/nft)"*) echo "ok: missing nft said" ;;
*) fail "missing nft not said: $out" ;;
esac

echo "-- IPv6: its own check, only when the VPN carries IPv6"
make_ns v6 up0
standard_rules "$ns" iptables-nft up0
absent "$ns" nftnat firewall.forward6
ip -n "$ns" addr add fd00:100::1/64 dev wg0
expect "$ns" nftnat firewall.forward6 OK "IPv6 forwarding accepted both ways"
ip netns exec "$ns" ip6tables-nft -P FORWARD DROP
ip netns exec "$ns" ip6tables-nft -A FORWARD -i wg0 -j ACCEPT
expect "$ns" nftnat firewall.forward6 CRITICAL "FORWARD policy is DROP and no rule accepts replies to wg0"
expect "$ns" nftnat firewall.forward OK "IPv4 forwarding accepted both ways"
apply_fix "$ns" nftnat firewall.forward6
expect "$ns" nftnat firewall.forward6 OK "wg0 back: FORWARD rule 1 '-A FORWARD -o wg0 -j ACCEPT'"

echo "-- a userspace interface (wireguard-go), no interface configured: found by the firewall probe"
ns="smfw$$-wggo"
netns_add "$ns"
wg_go "$ns" "fwgo$$" "$tmp/wggo.log"
ip -n "$ns" addr add 10.100.0.1/24 dev "fwgo$$"
ip -n "$ns" link set "fwgo$$" up
ip netns exec "$ns" iptables-nft -P FORWARD DROP
cat >"$tmp/auto.conf" <<CONF
[general]
state_dir = $tmp
[firewall]
iptables_save = $NFT_SAVE
[endpoint]
ip_urls =
CONF
out=$(ip netns exec "$ns" "$SPARKMON" -c "$tmp/auto.conf" check --only firewall.forward 2>&1 || true)
case "$out" in
*"no rule accepts traffic from fwgo$$"*) echo "ok: userspace interface judged" ;;
*) fail "userspace interface not judged: $out" ;;
esac

echo "-- iptables-save missing, failing, not permitted: UNKNOWN, never OK"
config missing /nonexistent/iptables-save
expect "$ns" missing firewall.forward UNKNOWN "cannot run /nonexistent/iptables-save"
expect_exit "$ns" missing 3
config failing /bin/false
expect "$ns" failing firewall.masquerade UNKNOWN "exit code 1"
expect_exit "$ns" failing 3
config noperm "$NFT_SAVE"
rc=0
out=$(ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$SPARKMON" -c "$tmp/noperm.conf" check --only firewall 2>&1) || rc=$?
[ "$rc" = 3 ] && echo "ok: not permitted gives UNKNOWN" || fail "not permitted: exit $rc: $out"

finish
