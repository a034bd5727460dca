# Runs inside the test VM (busybox sh) as `sh /scenario OUT DATA`: the wall
# clock stepped under a serving daemon. Stepping the clock is harmless here:
# the guest's clock is its own.
#
# A kernel WireGuard pair (wg0 in namespace "a", wg1 in "b", a real
# handshake, persistent keepalive, pings through it twice a second),
# `sparkmon serve` in "a" watching wg0 with wg1's peer required, polling
# every second. Two runs of the daemon:
#   steps: started at today's time; the clock goes back an hour, then
#          forward a day;
#   1970:  the clock set to 1970 before the devices are made and the daemon
#          starts (a board without a real-time clock); then NTP's first
#          sync steps it to today.
# Around each step /status.json is sampled every half second; at the end of
# each phase /api/history (the status series and the peer's) and
# /api/events, in <phase>.history.json (fetched at <phase>.history.time)
# and <phase>.events.json. Every sample is OUT/<phase>.<n>.status.json with the guest's
# wall clock at the time in <phase>.<n>.time; a line "@@mark <phase>" goes
# into the daemon's log as each phase begins. tests/integration/clock_kernel.sh
# reads them on the host.
out=$1
set -u

fail() {
	echo "scenario: $*" >&2
	exit 1
}

# busybox sh runs its own applets before PATH: iproute2 for `ip netns`.
ip() {
	/usr/sbin/ip "$@"
}

run() {
	"$@" || fail "'$*' failed with $?"
}

port=19587

run ip netns add a
run ip netns add b
run ip link add va netns a type veth peer name vb netns b
for ns in a b; do
	run ip -n $ns link set lo up
done
run ip -n a addr add 10.98.0.1/24 dev va
run ip -n b addr add 10.98.0.2/24 dev vb
run ip -n a link set va up
run ip -n b link set vb up

umask 077
wg genkey >/tmp/a.key || fail "wg genkey"
wg genkey >/tmp/b.key || fail "wg genkey"
umask 022
pub_a=$(wg pubkey </tmp/a.key)
pub_b=$(wg pubkey </tmp/b.key)

# A fresh pair, handshaking now. Fresh devices, because a responder
# refuses an initiation whose timestamp (the initiator's wall clock) is not
# after the last one it took from that peer: after the clock went back,
# the old pair would not handshake again until the clock caught up.
make_pair() {
	ip -n a link del wg0 2>/dev/null
	ip -n b link del wg1 2>/dev/null
	run ip -n a link add wg0 type wireguard
	run ip -n b link add wg1 type wireguard
	run ip netns exec a wg set wg0 private-key /tmp/a.key listen-port 51820 \
		peer "$pub_b" endpoint 10.98.0.2:51821 allowed-ips 10.97.0.2/32
	run ip netns exec b wg set wg1 private-key /tmp/b.key listen-port 51821 \
		peer "$pub_a" endpoint 10.98.0.1:51820 allowed-ips 10.97.0.1/32 \
		persistent-keepalive 25
	run ip -n a addr add 10.97.0.1/24 dev wg0
	run ip -n b addr add 10.97.0.2/24 dev wg1
	run ip -n a link set wg0 up
	run ip -n b link set wg1 up
	ip netns exec b ping -c 2 -W 5 10.97.0.1 >>"$out/ping.txt" 2>&1 ||
		fail "ping through the tunnel failed"
}

cat >/tmp/serve.conf <<CONF
[general]
interval = 1s
[wireguard]
interfaces = wg0
[peer b]
public_key = $pub_b
required = yes
[http]
listen = 127.0.0.1:$port
[endpoint]
ip_urls =
CONF

# The peer's series, their names percent-encoded for the query.
enc_b=$(printf '%s' "$pub_b" | sed 's/%/%25/g; s/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
series="status"
for s in handshake_age_seconds rx_bytes_per_second tx_bytes_per_second; do
	series="$series,wg.wg0.$enc_b.$s"
done

fetch() { # path file
	ip netns exec a httpget $port "$1" >"$2" 2>>"$out/httpget.err" || {
		echo "httpget $1 failed" >>"$out/httpget.err"
		rm -f "$2"
	}
}

# N samples of /status.json, half a second apart.
sample() { # phase count
	i=0
	while [ $i -lt "$2" ]; do
		i=$((i + 1))
		fetch /status.json "$out/$1.$i.status.json"
		date +%s >"$out/$1.$i.time"
		sleep 0.5
	done
}

# Waits until the daemon serves a reading of wg0 with the handshake.
wait_ready() { # phase
	tries=0
	while [ $tries -lt 120 ]; do
		tries=$((tries + 1))
		fetch /status.json /tmp/ready.json
		grep -q '"latest_handshake_age_seconds":[0-9]' /tmp/ready.json 2>/dev/null &&
			grep -q '"wireguard.peers"' /tmp/ready.json && return 0
		sleep 0.5
	done
	fail "$1: the daemon served no reading of wg0 with a handshake"
}

mark() { # phase
	echo "$1 at $(cut -d' ' -f1 /proc/uptime) s"
	echo "@@mark $1" >>"$log"
}

end_phase() { # phase
	fetch "/api/history?series=$series" "$out/$1.history.json"
	date +%s >"$out/$1.history.time"
	fetch /api/events "$out/$1.events.json"
}

start_daemon() { # log
	log=$1
	: >"$log"
	# Not through ip(): a function in the background is a subshell, and
	# $! would be that shell rather than the daemon.
	/usr/sbin/ip netns exec a sparkmon -c /tmp/serve.conf serve >>"$log" 2>&1 &
	daemon=$!
	# Traffic through the tunnel, for the history's rates.
	/usr/sbin/ip netns exec b ping -q -i 0.5 -s 400 10.97.0.1 >/dev/null 2>&1 &
	pinger=$!
}

stop_daemon() {
	kill "$pinger"
	kill "$daemon"
	wait "$daemon"
	echo $? >"$log.rc"
	wait "$pinger"
}

# ---- steps while serving ---------------------------------------------------
echo "scenario at $(cut -d' ' -f1 /proc/uptime) s"
make_pair
start_daemon "$out/steps.log"
wait_ready steps
mark pre
sample pre 3
mark back
run date -s "@$(($(date +%s) - 3600))" >/dev/null
sample back 5
end_phase back
mark fwd
run date -s "@$(($(date +%s) + 86400))" >/dev/null
sample fwd 5
end_phase fwd
stop_daemon
echo "stopped at $(cut -d' ' -f1 /proc/uptime) s"

# ---- a start at 1970, then NTP --------------------------------------------
today=$(($(date +%s) - 86400 + 3600))
run date -s @1000 >/dev/null
make_pair
start_daemon "$out/1970.log"
wait_ready 1970
mark boot1970
sample boot1970 3
end_phase boot1970
mark ntp
run date -s "@$today" >/dev/null
sample ntp 5
end_phase ntp
stop_daemon

echo "scenario done at $(cut -d' ' -f1 /proc/uptime) s"
