#!/bin/bash
# Real userspace WireGuard: two network namespaces joined by a veth pair, a
# wireguard-go interface in each, configured with `wg set`; ping makes a real
# handshake. sparkmon then reads both sides, and what it read is compared
# field by field with `wg show <if> dump`. Also: the three checks, names from
# sparkmon's config and from a wg-quick file, the report, the behaviour
# without privileges, and that no private or preshared key ever shows up.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
need_tools wireguard-go wg ip jq ping setpriv
need_root "network namespaces, TUN devices"

tag=$$
nsA=smwgA$tag nsB=smwgB$tag
ifA=smwa$tag ifB=smwb$tag # at most 15 bytes
vethA=smva$tag vethB=smvb$tag
portA=$((40000 + tag % 10000)) portB=$((50000 + tag % 10000))
tmpdir wg

inA() { ip netns exec "$nsA" "$@"; }
inB() { ip netns exec "$nsB" "$@"; }

# ---- set up -----------------------------------------------------------------
netns_pair "$nsA" "$nsB" "$vethA" "$vethB" 192.168.247

umask 077
wg genkey >"$tmp/a.key"
wg genkey >"$tmp/b.key"
wg genpsk >"$tmp/psk"
pubA=$(wg pubkey <"$tmp/a.key")
pubB=$(wg pubkey <"$tmp/b.key")

wg_go "$nsA" "$ifA" "$tmp/wg-go-a.log"
wg_go "$nsB" "$ifB" "$tmp/wg-go-b.log"

inA wg set "$ifA" private-key "$tmp/a.key" listen-port "$portA" \
	peer "$pubB" preshared-key "$tmp/psk" endpoint "192.168.247.2:$portB" \
	allowed-ips 10.77.0.2/32,fd77::2/128,10.99.0.0/16 persistent-keepalive 25
inB wg set "$ifB" private-key "$tmp/b.key" listen-port "$portB" \
	peer "$pubA" preshared-key "$tmp/psk" endpoint "192.168.247.1:$portA" \
	allowed-ips 10.77.0.1/32
ip -n "$nsA" addr add 10.77.0.1/24 dev "$ifA"
ip -n "$nsA" addr add fd77::1/64 dev "$ifA"
ip -n "$nsB" addr add 10.77.0.2/24 dev "$ifB"
ip -n "$nsA" link set "$ifA" up
ip -n "$nsB" link set "$ifB" up

if ! ping_tunnel "$nsA" 10.77.0.2; then
	fail "no traffic through the tunnel"
	inA wg show "$ifA" >&2 || true
	exit 1
fi
inA ping -c 3 -i 0.2 -W 2 10.77.0.2 >/dev/null
[ "$(inA wg show "$ifA" latest-handshakes | cut -f2)" -gt 0 ] || {
	fail "no handshake after ping"
	exit 1
}
ok "tunnel up, handshake done"

# A wg-quick file for A (names a peer in a comment, as exporters accept),
# and sparkmon configs that point at it.
cat >"$tmp/$ifA.conf" <<EOF
[Interface]
Address = 10.77.0.1/24
ListenPort = $portA
PrivateKey = $(cat "$tmp/a.key")
SaveConfig = false

[Peer]
# friendly_name = beta-box
PublicKey = $pubB
PresharedKey = $(cat "$tmp/psk")
AllowedIPs = 10.77.0.2/32
EOF
cat >"$tmp/a.conf" <<EOF
[wireguard]
interfaces = $ifA
wg_quick_file = $tmp/%i.conf
EOF
cat >"$tmp/b.conf" <<EOF
[wireguard]
interfaces = $ifB
wg_quick_file =

[peer alpha-server]
public_key = $pubA
required = yes
EOF

# ---- field by field against wg show dump --------------------------------------
# wg: private public port fwmark / public psk endpoint ips handshake rx tx keepalive
# sparkmon: the same with the interface name in front and keys it never
# holds as (hidden).
compare_side() {
	local ns=$1 ifname=$2 conf=$3 ours theirs
	ours=$(ip netns exec "$ns" "$SPARKMON" -c "$conf" wireguard)
	theirs=$(ip netns exec "$ns" wg show "$ifname" dump)
	printf '%s\n' "$ours" >"$tmp/ours.$ifname"
	printf '%s\n' "$theirs" >"$tmp/theirs.$ifname"
	[ "$(wc -l <"$tmp/ours.$ifname")" = "$(wc -l <"$tmp/theirs.$ifname")" ] ||
		{ fail "$ifname: line counts differ"; cat "$tmp/ours.$ifname" "$tmp/theirs.$ifname" >&2; return; }
	# The interface line.
	IFS=$'\t' read -r o_if o_priv o_pub o_port o_fwmark <<<"$(head -1 "$tmp/ours.$ifname")"
	IFS=$'\t' read -r t_priv t_pub t_port t_fwmark <<<"$(head -1 "$tmp/theirs.$ifname")"
	[ "$o_if" = "$ifname" ] || fail "$ifname: interface name '$o_if'"
	[ "$o_priv" = "(hidden)" ] || fail "$ifname: private key column is not (hidden)"
	[ "$o_pub" = "$t_pub" ] || fail "$ifname: public key '$o_pub' != '$t_pub'"
	[ "$o_port" = "$t_port" ] || fail "$ifname: listen port '$o_port' != '$t_port'"
	[ "$o_fwmark" = "$t_fwmark" ] || fail "$ifname: fwmark '$o_fwmark' != '$t_fwmark'"
	# The peer lines, matched by public key.
	while IFS=$'\t' read -r t_pub t_psk t_ep t_ips t_hs t_rx t_tx t_ka; do
		local line
		line=$(awk -F'\t' -v k="$t_pub" 'NR > 1 && $2 == k' "$tmp/ours.$ifname")
		[ -n "$line" ] || { fail "$ifname: peer $t_pub missing"; continue; }
		IFS=$'\t' read -r o_if o_pub o_psk o_ep o_ips o_hs o_rx o_tx o_ka <<<"$line"
		[ "$o_psk" = "(hidden)" ] || fail "$ifname: preshared key column is not (hidden)"
		[ "$o_ep" = "$t_ep" ] || fail "$ifname: endpoint '$o_ep' != '$t_ep'"
		[ "$(tr , '\n' <<<"$o_ips" | sort)" = "$(tr , '\n' <<<"$t_ips" | sort)" ] ||
			fail "$ifname: allowed ips '$o_ips' != '$t_ips'"
		[ "$o_hs" = "$t_hs" ] || fail "$ifname: handshake '$o_hs' != '$t_hs'"
		[ "$o_hs" -gt 0 ] || fail "$ifname: no handshake seen"
		# Keepalives may flow between the two reads: a few packets' worth.
		for pair in "rx:$o_rx:$t_rx" "tx:$o_tx:$t_tx"; do
			IFS=: read -r what o t <<<"$pair"
			d=$((o > t ? o - t : t - o))
			[ "$d" -le 1024 ] || fail "$ifname: $what bytes $o vs $t"
			[ "$o" -gt 0 ] || fail "$ifname: $what bytes are 0"
		done
		[ "$o_ka" = "$t_ka" ] || fail "$ifname: keepalive '$o_ka' != '$t_ka'"
	done < <(tail -n +2 "$tmp/theirs.$ifname")
	ok "$ifname: sparkmon wireguard matches wg show dump"
}
compare_side "$nsA" "$ifA" "$tmp/a.conf"
compare_side "$nsB" "$ifB" "$tmp/b.conf"

# ---- the JSON area ------------------------------------------------------------
inA "$SPARKMON" -c "$tmp/a.conf" wireguard --json >"$tmp/a.json"
jq -e --arg ifname "$ifA" --arg pub "$pubA" --arg peer "$pubB" --argjson port "$portA" '
	.interfaces | length == 1 and
	(.[0] | .name == $ifname and .backend == "userspace" and .exists and .up and
	 .public_key == $pub and .listen_port == $port and .wg_quick_listen_port == $port and
	 (.addresses | any(. == "10.77.0.1/24")) and
	 (.peers | length == 1) and
	 (.peers[0] | .public_key == $peer and .name == "beta-box" and .state == "up" and
	  (.allowed_ips | sort == ["10.77.0.2/32", "10.99.0.0/16", "fd77::2/128"]) and
	  .persistent_keepalive_seconds == 25 and .latest_handshake_age_seconds >= 0))
' "$tmp/a.json" >/dev/null && ok "JSON area of $ifA complete, name from the wg-quick file" ||
	{ fail "JSON area of $ifA"; cat "$tmp/a.json" >&2; }

# ---- checks -------------------------------------------------------------------
set +e
inB "$SPARKMON" -c "$tmp/b.conf" check --json --only wireguard >"$tmp/b-check.json"
code=$?
set -e
jq -e '
	([.checks[] | select(.id == "wireguard.interface") | .status] == ["ok"]) and
	([.checks[] | select(.id == "wireguard.peers") | .summary] == ["1 peer, 1 up"]) and
	([.checks[] | select(.id == "wireguard.peers") | .status] == ["ok"]) and
	(.wireguard.interfaces[0].peers[0].name == "alpha-server") and
	(.wireguard.interfaces[0].peers[0].required == true)
' "$tmp/b-check.json" >/dev/null && [ "$code" = 0 ] && ok "checks OK on $ifB (exit $code)" ||
	{ fail "checks on $ifB (exit $code)"; cat "$tmp/b-check.json" >&2; }

set +e
inA "$SPARKMON" -c "$tmp/a.conf" check --only wireguard >"$tmp/a-check.txt"
code=$?
set -e
grep -q "^SPARKMON OK - 3 of 3 checks OK | 'wireguard_peers'=1;;;0 'wireguard_peers_up'=1;;;0;1" \
	"$tmp/a-check.txt" && [ "$code" = 0 ] && ok "check text and perfdata on $ifA" ||
	{ fail "check text on $ifA (exit $code)"; cat "$tmp/a-check.txt" >&2; }

# The router forwards another port than the interface listens on.
sed "s/^ListenPort = .*/ListenPort = 51820/" "$tmp/$ifA.conf" >"$tmp/$ifA.conf.new"
mv "$tmp/$ifA.conf.new" "$tmp/$ifA.conf"
set +e
inA "$SPARKMON" -c "$tmp/a.conf" check --only wireguard.listen_port >"$tmp/port.txt"
code=$?
set -e
[ "$code" = 2 ] && grep -q "CRITICAL wireguard.listen_port: $ifA listens on UDP $portA, expected 51820" \
	"$tmp/port.txt" && ok "listen port mismatch is CRITICAL" ||
	{ fail "listen port mismatch (exit $code)"; cat "$tmp/port.txt" >&2; }

# A required peer that is not configured on the interface.
cat >>"$tmp/b.conf" <<EOF

[peer ghost]
public_key = $(wg genkey | wg pubkey)
required = yes
EOF
set +e
inB "$SPARKMON" -c "$tmp/b.conf" check --only wireguard.peers >"$tmp/ghost.txt"
code=$?
set -e
[ "$code" = 2 ] && grep -q "required ghost (.*) is not a peer of any watched interface" "$tmp/ghost.txt" &&
	ok "missing required peer is CRITICAL" || { fail "missing required peer (exit $code)"; cat "$tmp/ghost.txt" >&2; }

# Without privileges the socket refuses us: UNKNOWN with the hint, never OK.
chmod 755 "$tmp"
chmod 644 "$tmp/a.conf"
set +e
inA setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$SPARKMON" -c "$tmp/a.conf" check --only wireguard.peers >"$tmp/noperm.txt"
code=$?
set -e
# A userspace socket is a file permission matter: the hint names
# CAP_DAC_OVERRIDE, not CAP_NET_ADMIN.
[ "$code" = 3 ] && grep -q "UNKNOWN wireguard.peers: .*not permitted.*CAP_DAC_OVERRIDE" "$tmp/noperm.txt" &&
	ok "unprivileged: UNKNOWN with the CAP_DAC_OVERRIDE hint" ||
	{ fail "unprivileged run (exit $code)"; cat "$tmp/noperm.txt" >&2; }

# Status report: interface, peer with name and state, endpoint, traffic.
inB "$SPARKMON" -c "$tmp/b.conf" status >"$tmp/status.txt" || true
grep -q "interface $ifB: userspace, up, addresses 10.77.0.2/24" "$tmp/status.txt" &&
	grep -Eq "alpha-server +up +required +192.168.247.1:$portA " "$tmp/status.txt" &&
	ok "status report shows the interface and the named peer" ||
	{ fail "status report"; cat "$tmp/status.txt" >&2; }

# ---- no secret anywhere -------------------------------------------------------
# Every output sparkmon produced, against any 8-byte piece of every secret
# (raw, hex, base64): the commands' outputs, and the daemon's (both metrics
# formats, the status document, the page, its history data, its log).
inA "$SPARKMON" -c "$tmp/a.conf" status >"$tmp/a-status.txt" || true
inA "$SPARKMON" -c "$tmp/a.conf" check --json >"$tmp/a-full.json" || true
hport=$(free_port)
{
	cat "$tmp/a.conf"
	printf '[general]\ninterval = 1s\n[http]\nlisten = 127.0.0.1:%s\n' "$hport"
} >"$tmp/serve.conf"
serve "$tmp/serve.conf" "$tmp/serve.log" "$nsA"
base=http://127.0.0.1:$hport
wait_http -n "$nsA" "$base/metrics" -f
sleep 2 # a few rounds, so that the history has points
inA curl -sf "$base/metrics" >"$tmp/serve-metrics.txt" || fail "no /metrics"
inA curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' "$base/metrics" \
	>"$tmp/serve-metrics.om" || fail "no OpenMetrics"
inA curl -sf "$base/status.json" >"$tmp/serve-status.json" || fail "no /status.json"
inA curl -sf "$base/" >"$tmp/serve-page.html" || fail "no page"
inA curl -sf "$base/api/history" >"$tmp/serve-history-names.json" || fail "no /api/history"
series=$(jq -r '[.series[].name] | join(",")' "$tmp/serve-history-names.json")
[ -n "$series" ] || fail "the history has no series"
inA curl -sf --get --data-urlencode "series=$series" "$base/api/history" \
	>"$tmp/serve-history.json" || fail "no /api/history?series=..."
grep -q "wireguard_peer_receive_bytes_total{device=\"$ifA\"" "$tmp/serve-metrics.txt" ||
	fail "the daemon's metrics lack the peer: nothing real was searched"
grep -q "^# TYPE wireguard_peer_receive_bytes counter" "$tmp/serve-metrics.om" ||
	fail "the daemon's OpenMetrics lack the peer"
kill "$serve_pid" 2>/dev/null || true
leaks=0
for secret in "$tmp/a.key" "$tmp/b.key" "$tmp/psk"; do
	if ! hits=$(key_leaks "$(cat "$secret")" "$tmp"/ours.* "$tmp"/*.json "$tmp"/*.txt \
		"$tmp"/serve-*.om "$tmp"/serve-page.html "$tmp"/serve.log); then
		fail "a piece of $(basename "$secret") appears: $hits"
		leaks=$((leaks + 1))
	fi
done
[ "$leaks" = 0 ] && ok "no piece of a private or preshared key in any output, metrics, page, history or log"

# ---- an interface that goes down ------------------------------------------------
ip -n "$nsA" link set "$ifA" down
set +e
inA "$SPARKMON" -c "$tmp/a.conf" check --only wireguard.interface >"$tmp/down.txt"
code=$?
set -e
[ "$code" = 2 ] && grep -q "CRITICAL wireguard.interface: $ifA is down (fix: systemctl start wg-quick@$ifA" \
	"$tmp/down.txt" && ok "a down interface is CRITICAL" ||
	{ fail "down interface (exit $code)"; cat "$tmp/down.txt" >&2; }

finish
