#!/bin/sh
# `sparkmon serve` is two processes (DESIGN.md, trust boundaries), checked
# on a live daemon polling a wireguard-go interface configured with known
# keys, with a wg-quick file that holds them:
# - the web process (the one started; it answers HTTP) has no capability,
#   no_new_privs and a seccomp filter, and only the fds it needs;
# - the collector (its child, "sparkmon-probes") reads the device, with
#   no capability beyond those the unit and its documented drop-ins give;
# - neither process's memory holds any 8-byte window of the private or
#   preshared key, raw, base64 or hex (the scan reads every mapping of
#   /proc/PID/maps through /proc/PID/mem, after several polls);
# - killing the collector stops the web process, killing the web process
#   stops the collector; a collector that stops sending (SIGSTOP) turns
#   /healthz to 503 within two poll intervals.
# That the sandbox refuses the credentials folder and netlink sockets is
# shown on the sandbox itself (tests/unit/test_sandbox.c).
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools wireguard-go wg ip curl python3 jq
need_root "network namespaces, TUN devices, reading another process's memory"

tag=$$
ns=smps$tag
ifname=smps$tag # at most 15 bytes
tmpdir privsep
t_logs=$tmp/sparkmon.log
scan="python3 $(dirname "$0")/lib/secretscan.py"
port=$(free_port)
in_ns() { ip netns exec "$ns" "$@"; }
status_of() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

netns_add "$ns"
umask 077
wg genkey >"$tmp/own.key"
wg genpsk >"$tmp/psk"
peer_pub=$(wg genkey | wg pubkey)
wg_go "$ns" "$ifname" "$tmp/wg-go.log"
in_ns wg set "$ifname" private-key "$tmp/own.key" listen-port $((40000 + tag % 10000)) \
	peer "$peer_pub" preshared-key "$tmp/psk" allowed-ips 10.82.0.2/32
ip -n "$ns" addr add 10.82.0.1/24 dev "$ifname"
ip -n "$ns" link set "$ifname" up
cat >"$tmp/$ifname.conf" <<EOF
[Interface]
Address = 10.82.0.1/24
PrivateKey = $(cat "$tmp/own.key")
PostUp = iptables -A FORWARD -i %i -j ACCEPT

[Peer]
PublicKey = $peer_pub
PresharedKey = $(cat "$tmp/psk")
AllowedIPs = 10.82.0.2/32
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
wait_http -n "$ns" "http://127.0.0.1:$port/healthz" -f
web=$(in_ns sh -c "ss -Hltnp 'sport = :$port'" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
collector=$(pgrep -P "$web" || true)
[ -n "$web" ] && [ -n "$collector" ] || die "web process '$web', collector '$collector'"
ok "web process $web listens; collector $collector is its child"

# ---- the web process gave everything up --------------------------------------
[ "$(status_of "$web" CapEff)" = 0000000000000000 ] || fail "web CapEff $(status_of "$web" CapEff)"
[ "$(status_of "$web" CapPrm)" = 0000000000000000 ] || fail "web CapPrm $(status_of "$web" CapPrm)"
[ "$(status_of "$web" CapAmb)" = 0000000000000000 ] || fail "web CapAmb $(status_of "$web" CapAmb)"
[ "$(status_of "$web" NoNewPrivs)" = 1 ] || fail "web NoNewPrivs $(status_of "$web" NoNewPrivs)"
[ "$(status_of "$web" Seccomp)" = 2 ] || fail "web Seccomp $(status_of "$web" Seccomp)"
ok "web process: CapEff 0000000000000000, NoNewPrivs 1, Seccomp 2"
[ "$(cat "/proc/$collector/comm")" = sparkmon-probes ] || fail "collector named '$(cat "/proc/$collector/comm")'"
[ "$(status_of "$collector" Seccomp)" = 0 ] || fail "the collector is filtered"
# Started as root, the collector keeps only what the unit grants and its
# documented drop-ins add: CAP_DAC_OVERRIDE, CAP_NET_ADMIN, CAP_NET_RAW.
[ "$(status_of "$collector" CapEff)" = 0000000000003002 ] ||
	fail "collector CapEff $(status_of "$collector" CapEff)"
[ "$(status_of "$collector" CapBnd)" = 0000000000003002 ] ||
	fail "collector CapBnd $(status_of "$collector" CapBnd)"
ok "collector: CapEff and CapBnd 0000000000003002"
# Its files: stdin/out/err, the collector's socket, listeners, epoll; no
# file of the file system.
files=$(for fd in /proc/"$web"/fd/*; do
	[ "${fd##*/}" -gt 2 ] && readlink "$fd"
done | grep '^/' || true)
[ -z "$files" ] || fail "the web process holds files: $files"
ok "web process holds no file beyond stdin, stdout and stderr"

# ---- a reload reads a replaced configuration --------------------------------------
# Editors and configuration tools write a new file and rename it over the
# old one: the web process (which evaluates the checks) must read it too.
mem_status() {
	in_ns curl -sf "http://127.0.0.1:$port/status.json" |
		jq -r '.checks[] | select(.id == "memory.available") | .status'
}
[ "$(mem_status)" = ok ] || fail "memory.available is '$(mem_status)' before the reload"
{ cat "$tmp/sparkmon.conf"; printf '[memory]\nwarning_below = 99.99%%\ncritical_below = 99.98%%\n'; } \
	>"$tmp/sparkmon.conf.new"
mv "$tmp/sparkmon.conf.new" "$tmp/sparkmon.conf"
kill -HUP "$web"
for _ in $(seq 30); do
	[ "$(mem_status)" = critical ] && break
	sleep 0.1
done
[ "$(mem_status)" = critical ] && ok "a configuration renamed into place is read on SIGHUP" ||
	fail "after the reload memory.available is '$(mem_status)'; log: $(tail -3 "$tmp/sparkmon.log")"

# ---- no key in memory ---------------------------------------------------------
sleep 3 # several polls of the device, each reply with both keys
curl_ns() { in_ns curl -sf "http://127.0.0.1:$port/$1" >"$tmp/out-$1" || fail "no /$1"; }
curl_ns status.json
curl_ns metrics
if $scan "$tmp/own.key" "$tmp/psk" -- "pid:$web" "pid:$collector" "$tmp/out-status.json" \
	"$tmp/out-metrics" "$tmp/sparkmon.log" 2>"$tmp/scan.err"; then
	ok "no window of the private or preshared key in either process's memory ($(tail -1 "$tmp/scan.err"))"
else
	fail "a key is in memory"
fi
# Control: the scan finds the keys where they are, in wireguard-go's memory.
wggo=$(pgrep -f "^wireguard-go $ifname\$" | head -1)
if [ -z "$wggo" ] || $scan "$tmp/psk" -- "pid:$wggo" >/dev/null 2>&1; then
	fail "control: the scan does not find the preshared key in wireguard-go ('$wggo')"
fi

# ---- either side dying is noticed ------------------------------------------------
kill -STOP "$collector"
code=
for _ in $(seq 30); do # 3 s: two intervals and some
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/healthz" || true)
	[ "$code" = 503 ] && break
	sleep 0.1
done
[ "$code" = 503 ] && ok "a stopped collector: /healthz 503" || fail "a stopped collector: /healthz $code"
kill -CONT "$collector"
kill -KILL "$collector"
for _ in $(seq 30); do
	kill -0 "$web" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$web" 2>/dev/null; then
	fail "the web process outlived its collector"
else
	grep -q "the collector was killed by signal 9; stopping" "$tmp/sparkmon.log" &&
		ok "a killed collector stops the web process, with a log line" ||
		fail "no log line for the killed collector"
fi

# And the other way round: a killed web process takes its collector along.
port2=$(free_port)
sed "s/^listen = .*/listen = 127.0.0.1:$port2/" "$tmp/sparkmon.conf" >"$tmp/second.conf"
serve "$tmp/second.conf" "$tmp/second.log" "$ns"
wait_http -n "$ns" "http://127.0.0.1:$port2/healthz" -f
web2=$(in_ns sh -c "ss -Hltnp 'sport = :$port2'" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
collector2=$(pgrep -P "$web2" || true)
[ -n "$collector2" ] || die "no collector under $web2"
kill -KILL "$web2"
for _ in $(seq 30); do
	kill -0 "$collector2" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$collector2" 2>/dev/null && fail "the collector outlived its web process" ||
	ok "a killed web process takes its collector along"

finish
