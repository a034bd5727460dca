#!/bin/sh
# Every probe fails at once in a running `sparkmon serve`: the programs it
# runs are missing, the root it reads /proc from is empty, no WireGuard
# interface exists, the public-IP URL refuses (a closed loopback port).
# The daemon keeps serving: every check in /status.json is UNKNOWN with a
# reason (or absent where what it watches is not set up), none is OK,
# /metrics is answered, and /healthz is 200 as the loop itself runs.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools curl jq timeout

tmpdir fault-all-probes
t_fail_fast=yes t_logs=$tmp/sparkmon.log
mkdir -p "$tmp/root" "$tmp/state"
port=$(free_port)
closed=$(free_port)
cat >"$tmp/sparkmon.conf" <<EOF
[general]
interval = 1s
root = $tmp/root
state_dir = $tmp/state
[gpu]
nvidia_smi = $tmp/missing/nvidia-smi
expected = yes
interval = 1s
[wireguard]
interfaces = fap$$
[firewall]
iptables_save = $tmp/missing/iptables-save
ip6tables_save = $tmp/missing/ip6tables-save
nft = $tmp/missing/nft
[endpoint]
interval = 10s
ip_urls = http://127.0.0.1:$closed/
connect_timeout = 500ms
timeout = 1s
[ssh]
enabled = no
[http]
listen = 127.0.0.1:$port
EOF
serve "$tmp/sparkmon.conf" "$tmp/sparkmon.log"
base=http://127.0.0.1:$port
wait_http "$base/healthz"

# Wait until every probe has run at least once (none is not_run).
for _ in $(seq 1 100); do
	curl -sf --max-time 2 "$base/status.json" >"$tmp/doc.json" 2>/dev/null || true
	left="no document"
	[ -s "$tmp/doc.json" ] && jq -e .probes "$tmp/doc.json" >/dev/null 2>&1 ||
		{ sleep 0.1 && continue; }
	left=$(jq -r '[("memory", "forwarding", "gpu", "wireguard", "firewall", "endpoint") as $p |
		select((.probes[$p].status // "not_run") == "not_run") | $p] | join(" ")' \
		"$tmp/doc.json")
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || die "probes never ran: $left"
jq -r '.probes | to_entries[] | "probe \(.key): \(.value.status) \(.value.error // "")"' \
	"$tmp/doc.json"

# The probes that read files or run programs failed (memory and
# forwarding from the empty root, iptables-save missing); the GPU's missing
# nvidia-smi is "no GPU here", judged by gpu.available; the WireGuard and
# endpoint probes ran and found nothing (their checks say so).
for p in memory forwarding firewall; do
	st=$(jq -r --arg p "$p" '.probes[$p].status' "$tmp/doc.json")
	err=$(jq -r --arg p "$p" '.probes[$p].error // ""' "$tmp/doc.json")
	[ "$st" = failed ] || [ "$st" = timed_out ] || fail "probe $p is '$st', not failed"
	[ -n "$err" ] || fail "probe $p failed without a reason"
done

# check_all: each check UNKNOWN with a summary, but gpu.available and
# wireguard.interface, CRITICAL (a GPU is expected; the configured
# interface does not exist), and wireguard.peers, which counts the peers
# of the interfaces that exist (none); the ones each probe has are there.
check_all() {
	bad=$(jq -r '.checks[] | select(.id != "wireguard.peers") |
		select(.status == "ok" or (.status != "unknown" and
		.id != "gpu.available" and .id != "wireguard.interface") or
		(.summary | length) == 0) | "\(.id)=\(.status): \(.summary)"' "$1")
	[ -z "$bad" ] || fail "checks not UNKNOWN with a reason: $bad"
	for id in memory.available forwarding.ipv4 wireguard.interface firewall.forward \
		endpoint.public_ip gpu.available; do
		jq -e --arg id "$id" '.checks[] | select(.id == $id)' "$1" >/dev/null ||
			fail "check $id absent"
	done
	g=$(jq -r '.checks[] | select(.id == "gpu.available") | "\(.status): \(.summary)"' "$1")
	case $g in
	critical:*"$tmp/missing/nvidia-smi"*) ;;
	*) fail "gpu.available is not CRITICAL naming the missing nvidia-smi: $g" ;;
	esac
	w=$(jq -r '.checks[] | select(.id == "wireguard.interface") | "\(.status): \(.summary)"' "$1")
	case $w in
	critical:*"fap$$ does not exist"*) ;;
	*) fail "wireguard.interface is not CRITICAL naming fap$$: $w" ;;
	esac
	o=$(jq -r '.status' "$1")
	[ "$o" != ok ] || fail "overall status OK"
}
check_all "$tmp/doc.json"
jq -r '.checks[] | "\(.id)=\(.status): \(.summary)"' "$tmp/doc.json"
ok "every check UNKNOWN with its reason (gpu.available, wireguard.interface CRITICAL)"

# Over several rounds the daemon keeps serving and the loop stays alive.
for round in 1 2 3 4 5; do
	sleep 1
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/healthz")
	[ "$code" = 200 ] || fail "round $round: /healthz answered $code"
	curl -sf --max-time 2 "$base/status.json" >"$tmp/doc.json" ||
		fail "round $round: /status.json not served"
	check_all "$tmp/doc.json"
	curl -sf --max-time 2 "$base/metrics" >"$tmp/metrics.txt" ||
		fail "round $round: /metrics not served"
	grep -q '^sparkmon_probe_' "$tmp/metrics.txt" || fail "round $round: no probe metrics"
done
kill -0 "$serve_pid" 2>/dev/null || fail "sparkmon serve exited"
ok "5 rounds: /healthz 200, /status.json and /metrics served, serve alive"
finish
