#!/bin/sh
# The Prometheus path end to end, with the real programs: two servers
# ("Sparks"), each running `sparkmon serve` in its own network namespace
# behind its own wireguard-go interface; in the client's namespace a real
# Prometheus scrapes both through the tunnels (10.100.0.1:19586 from a
# static target, 10.101.0.1:19586 from a file_sd target), evaluates the
# shipped alerts.yml (only its `for:` shortened) and sends to a real
# Alertmanager run with the shipped alertmanager.yml (its webhook receiver
# uncommented, its waits shortened), which posts to a webhook receiver
# written for the test (lib/webhook.py).
#
# Things broken for real on server A: ip_forward set to 0, the MASQUERADE
# rule deleted, a required peer's tunnel torn down, nvidia-smi hanging,
# then the daemon stopped. Each makes its alert arrive with the check, the
# summary and the fix, for A only; each repair brings a `resolved`.
set -eu
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/vpn_path.sh"
need_tools prometheus prometheus-alertmanager amtool promtool python3 jq curl ip iptables \
	wg wireguard-go
need_root "network namespaces, TUN devices, iptables"

here=$(cd "$(dirname "$0")" && pwd)
pkg=$here/../../packaging/prometheus
bin=$(cd "$here/../fixtures/gpu/bin" && pwd)
tmpdir alerts_e2e
t_fail_fast=yes
t_logs="$tmp/sparkmon-*.log $tmp/prometheus.log $tmp/alertmanager.log $tmp/webhook.log"
t_die_also='echo "--- webhook:"; tail -c 3000 "$tmp/hooks.jsonl" 2>/dev/null'

# ---- server A: the path of lib/vpn_path.sh, plus a second client ----------------
vpn_path_setup ae
nsA=$vp_server client=$vp_client
ip netns exec "$nsA" iptables -A FORWARD -i "$vp_wg" -j ACCEPT
masq="POSTROUTING -o $vp_uplink -j MASQUERADE"
# shellcheck disable=SC2086 # the rule's words
ip netns exec "$nsA" iptables -t nat -A $masq

# The phone: a second peer, required, on its own interface in the client's
# namespace. Its persistent keepalive makes it shake hands at once.
phone_if=smae$$p
(umask 077 && wg genkey >"$tmp/phone.key")
phone_pub=$(wg pubkey <"$tmp/phone.key")
wg_go "$client" "$phone_if" "$tmp/wg-phone.log"
ip -n "$client" link set "$phone_if" up
phone_up() {
	ip netns exec "$nsA" wg set "$vp_wg" peer "$phone_pub" allowed-ips 10.100.0.3/32
	ip netns exec "$client" wg set "$phone_if" private-key "$tmp/phone.key" \
		peer "$vp_server_pub" endpoint "192.168.246.2:$vp_port" \
		allowed-ips 10.100.0.1/32 persistent-keepalive 1
}
phone_down() {
	ip netns exec "$client" wg set "$phone_if" peer "$vp_server_pub" remove
	ip netns exec "$nsA" wg set "$vp_wg" peer "$phone_pub" remove
}
phone_up

# ---- server B: its own namespace, underlay, tunnel and uplink (a veth to nowhere)
nsB=smae$$b wgB=wgae$$b wgcB=smae$$j
portB=$((vp_port + 1))
netns_add "$nsB"
ip link add "smae$$v" netns "$client" type veth peer name "smae$$w" netns "$nsB"
ip -n "$client" addr add 192.168.245.1/24 dev "smae$$v"
ip -n "$nsB" addr add 192.168.245.2/24 dev "smae$$w"
ip -n "$client" link set "smae$$v" up
ip -n "$nsB" link set "smae$$w" up
ip -n "$nsB" link add upB type veth peer name upBp
ip -n "$nsB" addr add 203.0.113.1/24 dev upB
ip -n "$nsB" link set upB up
ip -n "$nsB" link set upBp up
ip -n "$nsB" route add default via 203.0.113.2
ip netns exec "$nsB" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$nsB" iptables -A FORWARD -i "$wgB" -j ACCEPT
ip netns exec "$nsB" iptables -t nat -A POSTROUTING -o upB -j MASQUERADE
(umask 077 && wg genkey >"$tmp/b.key" && wg genkey >"$tmp/bc.key")
b_pub=$(wg pubkey <"$tmp/b.key")
bc_pub=$(wg pubkey <"$tmp/bc.key")
wg_go "$nsB" "$wgB" "$tmp/wg-b.log"
wg_go "$client" "$wgcB" "$tmp/wg-bc.log"
ip netns exec "$nsB" wg set "$wgB" private-key "$tmp/b.key" listen-port "$portB" \
	peer "$bc_pub" allowed-ips 10.101.0.2/32
ip -n "$nsB" addr add 10.101.0.1/24 dev "$wgB"
ip -n "$nsB" link set "$wgB" up
ip -n "$client" addr add 10.101.0.2/32 dev "$wgcB"
ip -n "$client" link set "$wgcB" up
ip -n "$client" route add 10.101.0.0/24 dev "$wgcB"
ip netns exec "$client" wg set "$wgcB" private-key "$tmp/bc.key" \
	peer "$b_pub" endpoint "192.168.245.2:$portB" allowed-ips 10.101.0.0/24 \
	persistent-keepalive 5
ping_tunnel "$client" 10.101.0.1 || die "no traffic through B's tunnel"

# ---- the two daemons --------------------------------------------------------------
# A's nvidia-smi hangs while $tmp/hang exists (a wedged driver).
printf '#!/bin/sh\n[ -e "%s/hang" ] && exec sleep 30\nexec "%s/nvidia-smi-h100" "$@"\n' \
	"$tmp" "$bin" >"$tmp/nvidia-smi"
chmod +x "$tmp/nvidia-smi"

# conf NAME WG SMI PORT ADDRESS UPLINK [PEER-SECTION]: a configuration and
# the interface's wg-quick file.
conf() {
	mkdir -p "$tmp/state-$1"
	cat >"$tmp/$2.conf" <<EOF
[Interface]
Address = $5
ListenPort = $4
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o $6 -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o $6 -j MASQUERADE
EOF
	cat >"$tmp/$1.conf" <<EOF
[general]
interval = 1s
state_dir = $tmp/state-$1
[forwarding]
check_persistent = no
[gpu]
nvidia_smi = $3
expected = yes
interval = 1s
timeout = 500ms
[wireguard]
interfaces = $2
wg_quick_file = $tmp/%i.conf
[endpoint]
ip_urls =
[ssh]
enabled = no
[http]
listen = 127.0.0.1:19586
${7:-}
EOF
}
conf a "$vp_wg" "$tmp/nvidia-smi" "$vp_port" 10.100.0.1/24 "$vp_uplink" \
	"$(printf '[peer phone]\npublic_key = %s\nrequired = yes' "$phone_pub")"
conf b "$wgB" "$bin/nvidia-smi-h100" "$portB" 10.101.0.1/24 upB
serve "$tmp/a.conf" "$tmp/sparkmon-a.log" "$nsA"
pidA=$serve_pid
serve "$tmp/b.conf" "$tmp/sparkmon-b.log" "$nsB"
A=10.100.0.1:19586 B=10.101.0.1:19586
wait_http -n "$client" "http://$A/healthz" -f
wait_http -n "$client" "http://$B/healthz" -f

# ---- webhook, Alertmanager, Prometheus in the client's namespace -----------------
inC() { ip netns exec "$client" "$@"; }
: >"$tmp/hooks.jsonl"
inC python3 "$here/lib/webhook.py" 127.0.0.1 9095 "$tmp/hooks.jsonl" 2>"$tmp/webhook.log" &
kill_at_exit $!

# The shipped Alertmanager file: its webhook uncommented, its waits short.
sed -e '/^    # webhook_configs:/,$ s/^    # \(webhook_configs:\|  - url: \|    send_resolved:\)/    \1/' \
	-e 's/^\(  group_wait:\).*/\1 1s/' -e 's/^\(  group_interval:\).*/\1 1s/' \
	"$pkg/alertmanager.yml" >"$tmp/alertmanager.yml"
grep -q '^      - url: http://127.0.0.1:9095/alert$' "$tmp/alertmanager.yml" ||
	die "alertmanager.yml: its webhook receiver could not be uncommented"
out=$(amtool check-config "$tmp/alertmanager.yml" 2>&1) || die "amtool check-config: $out"
inC prometheus-alertmanager --config.file="$tmp/alertmanager.yml" \
	--storage.path="$tmp/am" --web.listen-address=127.0.0.1:9093 \
	--cluster.listen-address= >"$tmp/alertmanager.log" 2>&1 &
kill_at_exit $!

# The shipped rules, their expressions as they are; only `for:` is short.
sed 's/^\( *for:\) .*/\1 2s/' "$pkg/alerts.yml" >"$tmp/alerts.yml"
mkdir "$tmp/targets"
printf '[{"targets": ["%s"], "labels": {"server": "spark-b"}}]\n' "$B" >"$tmp/targets/b.json"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: ['$tmp/alerts.yml']
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:9093']
scrape_configs:
  - job_name: sparkmon
    static_configs:
      - targets: ['$A']
        labels:
          server: spark-a
    file_sd_configs:
      - files: ['$tmp/targets/*.json']
EOF
out=$(promtool check config "$tmp/prometheus.yml" 2>&1) || die "promtool check config: $out"
inC prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom" \
	--web.listen-address=127.0.0.1:9090 >"$tmp/prometheus.log" 2>&1 &
kill_at_exit $!

# query EXPR: the values of the result, one "instance value" per line.
query() {
	inC curl -sf --max-time 2 --get --data-urlencode "query=$1" \
		http://127.0.0.1:9090/api/v1/query 2>/dev/null |
		jq -r '.data.result[] | "\(.metric.instance) \(.value[1])"' 2>/dev/null | sort
}
# wait_query EXPR WANT SECONDS: until query EXPR prints WANT (lines joined by ';').
wait_query() {
	t_end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -le "$t_end" ]; do
		got=$(query "$1" | paste -sd ';')
		[ "$got" = "$2" ] && return 0
		sleep 0.3
	done
	die "$1 = '$got', expected '$2'"
}

# Both servers scraped through their tunnels, every check that matters
# here OK, the phone's handshake seen.
wait_query 'up{job="sparkmon"}' "$A 1;$B 1" 30
watched='check=~"forwarding.ipv4|firewall.masquerade|wireguard.peers|gpu.available"'
wait_query "count by (instance) (sparkmon_check_status{$watched} == 0)" "$A 4;$B 4" 20
ok "Prometheus scrapes both servers through WireGuard (static and file_sd targets), their checks OK"

# Recording rules on real scrapes: one series per server.
wait_query 'instance:wireguard_peers_up:count' "$A 2;$B 1" 10
wait_query 'instance:nvidia_smi_temperature_gpu:max' "$A 34;$B 34" 10
got=$(query 'instance:sparkmon_memory_available:ratio > 0 < 1' | wc -l)
[ "$got" = 2 ] || fail "instance:sparkmon_memory_available:ratio: $got of 2 servers in (0, 1)"
ok "recording rules per server: peers up (A 2, B 1), GPU temperature max, memory available ratio"

# ---- notifications ------------------------------------------------------------
# hooks_from LINE: the alerts of every notification after line LINE, one
# compact JSON object per line.
hooks_from() {
	tail -n +"$(($1 + 1))" "$tmp/hooks.jsonl" | jq -c '.alerts[]'
}
# wait_alert LINE NAME STATUS SECONDS: until an alert NAME for server A
# with STATUS (firing|resolved) arrives after line LINE; prints it.
wait_alert() {
	t_end=$(($(date +%s) + $4))
	while [ "$(date +%s)" -le "$t_end" ]; do
		hit=$(hooks_from "$1" | jq -c --arg n "$2" --arg s "$3" --arg i "$A" \
			'select(.labels.alertname == $n and .status == $s and .labels.instance == $i)' |
			tail -1)
		[ -n "$hit" ] && {
			echo "$hit"
			return 0
		}
		sleep 0.3
	done
	die "no $3 $2 for $A at the webhook within $4 s"
}
# expect_alert JSON CHECK FIX: the alert names CHECK (label, "" for none),
# has a summary naming server A, and FIX in its description.
expect_alert() {
	name=$(echo "$1" | jq -r .labels.alertname)
	[ "$(echo "$1" | jq -r '.labels.check // ""')" = "$2" ] ||
		fail "$name: check '$(echo "$1" | jq -r .labels.check)', expected '$2'"
	echo "$1" | jq -e --arg i "$A" '.annotations.summary | contains($i)' >/dev/null ||
		fail "$name: summary without the server: $(echo "$1" | jq -c .annotations)"
	echo "$1" | jq -e --arg f "$3" '.annotations.description | contains($f)' >/dev/null ||
		fail "$name: no '$3' in its description: $(echo "$1" | jq -c .annotations)"
	echo "$1" | jq -e '.labels.server == "spark-a" and .labels.severity == "critical"' >/dev/null ||
		fail "$name: labels $(echo "$1" | jq -c .labels)"
}

# Four things broken at once on A; none of them stops the scrape.
breaks="IPForwardOff NATRuleMissing WireGuardRequiredPeerDown GPUUnavailable"
mark=$(wc -l <"$tmp/hooks.jsonl")
start=$(date +%s)
ip netns exec "$nsA" sysctl -qw net.ipv4.ip_forward=0
# shellcheck disable=SC2086
ip netns exec "$nsA" iptables -t nat -D $masq
phone_down
touch "$tmp/hang"
a=$(wait_alert "$mark" IPForwardOff firing 30)
expect_alert "$a" forwarding.ipv4 "sysctl -w net.ipv4.ip_forward=1"
a=$(wait_alert "$mark" NATRuleMissing firing 30)
expect_alert "$a" firewall.masquerade "wg-quick down/up"
a=$(wait_alert "$mark" WireGuardRequiredPeerDown firing 30)
expect_alert "$a" wireguard.peers "sparkmon check names it"
a=$(wait_alert "$mark" GPUUnavailable firing 30)
expect_alert "$a" gpu.available "Run nvidia-smi on the server"
ok "ip_forward 0, MASQUERADE gone, phone's tunnel down, nvidia-smi hanging: 4 alerts at the webhook in $(($(date +%s) - start)) s, each with its check, summary and fix"
n=$(hooks_from "$mark" | jq -r '.labels.instance' | sort -u | paste -sd ' ')
[ "$n" = "$A" ] || fail "alerts for '$n', only $A is broken"
ok "nothing for server B"

# Repaired: each sends `resolved`.
mark2=$(wc -l <"$tmp/hooks.jsonl")
start=$(date +%s)
ip netns exec "$nsA" sysctl -qw net.ipv4.ip_forward=1
# shellcheck disable=SC2086
ip netns exec "$nsA" iptables -t nat -A $masq
phone_up
rm "$tmp/hang"
for name in $breaks; do
	wait_alert "$mark2" "$name" resolved 30 >/dev/null
done
ok "repaired: resolved for $breaks in $(($(date +%s) - start)) s"

# One notification per server: each names one instance only.
bad=$(tail -n +"$((mark + 1))" "$tmp/hooks.jsonl" |
	jq -r 'select((.alerts | map(.labels.instance) | unique | length) != 1) | .groupKey')
[ -z "$bad" ] || fail "notifications mixing servers: $bad"
ok "each notification is about one server (grouped by instance)"

# sparkmon itself gone: a dead monitor must not look like a healthy server.
mark=$(wc -l <"$tmp/hooks.jsonl")
start=$(date +%s)
kill "$pidA"
wait "$pidA" 2>/dev/null || true
a=$(wait_alert "$mark" SparkmonDown firing 30)
expect_alert "$a" "" "systemctl status sparkmon"
ok "daemon on A stopped: SparkmonDown (up == 0) at the webhook in $(($(date +%s) - start)) s"
serve "$tmp/a.conf" "$tmp/sparkmon-a.log" "$nsA"
wait_alert "$mark" SparkmonDown resolved 30 >/dev/null
ok "daemon restarted: SparkmonDown resolved"
n=$(hooks_from 0 | jq -r --arg b "$B" 'select(.labels.instance == $b) | .labels.alertname' |
	sort -u | paste -sd ' ')
for name in $breaks SparkmonDown; do
	case " $n " in *" $name "*) fail "$name arrived for server B, which was never broken" ;; esac
done
ok "server B: none of these alerts (it had: ${n:-none})"
finish
