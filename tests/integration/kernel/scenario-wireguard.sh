# Runs inside the test VM (busybox sh) as `sh /scenario OUT DATA`.
#
# Two network namespaces joined by veth, a kernel WireGuard interface in each
# (wg0 in "a", wg1 in "b"), configured with `wg set`; ping through the tunnel
# so that a real handshake happens. wg0 has 300 peers, and its real peer has
# 1256 allowed IPs: more than one netlink dump message can hold (at most
# 32 KiB), so the dump spans many messages and that peer is continued in the
# next one. Then, per namespace: `wg show dump`, sparkmon's JSON, `wg show
# dump` again (the host compares them), sparkmon without CAP_NET_ADMIN, and
# a device deleted between discovery and dump. Last, in a namespace c, a
# 2000-peer device read by the probe while it changes.
out=$1
set -u

fail() {
	echo "scenario: $*" >&2
	exit 1
}

# busybox sh runs its own applets before PATH: iproute2 (for `ip netns`) and
# util-linux setpriv (for --reuid) need their full paths.
ip() {
	/usr/sbin/ip "$@"
}

run() {
	"$@" || fail "'$*' failed with $?"
}

# N distinct public keys, one a line. 30 random bytes are exactly 40 base64
# characters; "AAA=" appends two zero bytes, which makes a 32-byte key.
random_keys() {
	head -c $(($1 * 30)) /dev/urandom | base64 | tr -d '\n' | fold -w 40 | sed 's/$/AAA=/'
}

run ip netns add a
run ip netns add b
run ip link add va netns a type veth peer name vb netns b
for ns in a b; do
	run ip -n $ns link set lo up
done
run ip -n a addr add 10.99.0.1/24 dev va
run ip -n b addr add 10.99.0.2/24 dev vb
run ip -n a link set va up
run ip -n b link set vb up

umask 077
wg genkey >/tmp/a.key || fail "wg genkey"
wg genkey >/tmp/b.key || fail "wg genkey"
wg genpsk >/tmp/psk || fail "wg genpsk"
pub_a=$(wg pubkey </tmp/a.key)
pub_b=$(wg pubkey </tmp/b.key)
# The host asserts that none of these reaches sparkmon's output.
cat /tmp/a.key /tmp/b.key /tmp/psk >"$out/secrets"
umask 022

# The real peer's allowed IPs: its tunnel address, 255 IPv4 /24s, 1000
# IPv6 /64s.
allowed="10.100.0.2/32"
i=0
while [ $i -lt 255 ]; do
	allowed="$allowed,10.200.$i.0/24"
	i=$((i + 1))
done
allowed="$allowed,$(awk 'BEGIN { for (i = 0; i < 1000; i++) printf "%sfd10:0:0:%x::/64", (i ? "," : ""), i }')"

# 299 more peers on wg0, with a mix of what a peer can have: IPv4 and IPv6
# endpoints (unreachable ones, so that no counter moves), one link-local
# endpoint with a zone, keepalives, one or two allowed IPs.
random_keys 299 >/tmp/peers
awk '{
	i = NR
	printf "peer %s allowed-ips 10.128.%d.%d/32", $1, int(i / 256), i % 256
	if (i % 3 == 0) printf ",fd00:128::%x/128", i
	if (i % 4 == 0) printf " endpoint 192.0.2.%d:%d", i % 250 + 1, 20000 + i
	else if (i % 4 == 1) printf " endpoint [2001:db8::%x]:51820", i
	if (i % 5 == 0) printf " persistent-keepalive 25"
	if (i == 7) printf " endpoint [fe80::1%%va]:51899"
	printf "\n"
}' /tmp/peers >/tmp/peer-args

run ip -n a link add wg0 type wireguard
run ip -n b link add wg1 type wireguard
run ip netns exec a wg set wg0 private-key /tmp/a.key listen-port 51820 fwmark 0x5a \
	peer "$pub_b" preshared-key /tmp/psk endpoint 10.99.0.2:51821 allowed-ips "$allowed"
# shellcheck disable=SC2046
run ip netns exec a wg set wg0 $(cat /tmp/peer-args)
run ip netns exec b wg set wg1 private-key /tmp/b.key listen-port 51821 \
	peer "$pub_a" preshared-key /tmp/psk endpoint 10.99.0.1:51820 \
	allowed-ips 10.100.0.1/32 persistent-keepalive 25
run ip -n a addr add 10.100.0.1/24 dev wg0
run ip -n b addr add 10.100.0.2/24 dev wg1
run ip -n a link set wg0 up
run ip -n b link set wg1 up

# Real traffic: the first packet triggers the handshake.
ip netns exec b ping -c 3 -W 5 10.100.0.1 >"$out/ping.txt" 2>&1 || fail "ping through the tunnel failed"

npeers=$(ip netns exec a wg show wg0 peers | wc -l)
[ "$npeers" -ge 300 ] || fail "wg0 has $npeers peers, want 300"

# A config that reads every WireGuard interface of the namespace.
printf '[general]\ninterval = 10s\n' >/tmp/sparkmon.conf

snapshot() { # ns if
	ip netns exec "$1" wg show "$2" dump >"$out/$2.before" || fail "wg show $2 dump"
	if [ -x /usr/bin/sparkmon ]; then
		ip netns exec "$1" sparkmon -c /tmp/sparkmon.conf check --only wireguard --json \
			>"$out/$2.json" 2>"$out/$2.json.err"
		echo $? >"$out/$2.json.rc"
	fi
	ip netns exec "$1" wg show "$2" dump >"$out/$2.after" || fail "wg show $2 dump"
}
snapshot a wg0
snapshot b wg1

if [ -x /usr/bin/sparkmon ]; then
	ip netns exec a sparkmon -c /tmp/sparkmon.conf check --only wireguard \
		>"$out/check.txt" 2>&1
	echo $? >"$out/check.rc"
	ip netns exec a sparkmon -c /tmp/sparkmon.conf status >"$out/status.txt" 2>&1
	echo $? >"$out/status.rc"

	# Without CAP_NET_ADMIN the kernel refuses the dump (EPERM).
	for fmt in json text; do
		flag=""
		[ $fmt = json ] && flag=--json
		ip netns exec a /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all --bounding-set=-all \
			sparkmon -c /tmp/sparkmon.conf check --only wireguard $flag \
			>"$out/noperm.$fmt" 2>"$out/noperm.$fmt.err"
		echo $? >"$out/noperm.$fmt.rc"
	done
fi

# With sparkmon_capture=1 on the kernel command line (tests/fuzz/
# capture-seeds.sh): the replies to the probe's dumps, as its reader got
# them, for the fuzzing corpus; base64, as the results port carries text.
capture() { # ns ifname name max
	ip netns exec "$1" wgpoll capture "$2" "/tmp/$3" "$4" >>"$out/capture.log" 2>&1 &&
		base64 "/tmp/$3" >"$out/$3.b64"
}
if [ -n "${sparkmon_capture:-}" ] && [ -x /usr/bin/wgpoll ]; then
	capture a wg0 wgkernel-wg0 0
	capture b wg1 wgkernel-wg1 0
fi

# A device that goes away between discovery and dump: wgpoll looks it up,
# waits until it is deleted, then dumps it.
if [ -x /usr/bin/wgpoll ]; then
	run ip -n a link add wgx type wireguard
	mkfifo /tmp/go
	ip netns exec a wgpoll race wgx /tmp/go >"$out/race.txt" 2>&1 &
	pid=$!
	# wgpoll opens the fifo for reading once it has found the device.
	exec 3>/tmp/go
	run ip -n a link del wgx
	echo go >&3
	exec 3>&-
	wait $pid
	echo $? >"$out/race.rc"
fi

# The live daemon's memory: `sparkmon serve` polls wg0 (its private key, a
# preshared key) for a few rounds, then memscan (lib/memscan.c on the host)
# reads every mapping of both of its processes; the host reads the result.
if [ -x /usr/bin/sparkmon ] && [ -x /usr/bin/memscan ]; then
	printf '[general]\ninterval = 1s\n[wireguard]\ninterfaces = wg0\n[http]\nlisten = 127.0.0.1:19599\n[endpoint]\nip_urls =\n' \
		>/tmp/serve.conf
	ip netns exec a sparkmon -c /tmp/serve.conf serve >"$out/serve.log" 2>&1 &
	web=$!
	sleep 8
	collector=none
	for s in /proc/[0-9]*/stat; do
		# pid (comm) state ppid ...: the comm has no blank.
		read -r spid scomm sstate sppid srest <"$s" 2>/dev/null || continue
		[ "$sppid" = "$web" ] && collector=$spid
	done
	echo "$collector" >"$out/memscan.collector"
	memscan /tmp/a.key /tmp/psk -- "$web" "$collector" >"$out/memscan.txt" 2>&1
	echo $? >"$out/memscan.rc"
	kill "$web"
	wait "$web"
fi

# ---- a device that changes while it is dumped ------------------------------
# wgc (namespace c) has 2000 peers, no private key (no handshake work per
# peer) and no endpoints: its dump spans many messages. A loop takes the
# peer at the head of the list out and adds it back, which puts it at the
# tail: every state it leaves the device in has all 2000 peers, or all but
# the one being moved. A dump the kernel marked NLM_F_DUMP_INTR mixes two
# states: a peer read before it moved is read again at the tail, or the
# dump ends early at the peer it was about to go on from. wgpoll runs the
# probe on the device meanwhile, a few reads at a time: first while `wg
# set` makes the changes, with a pause between them, until a read whose
# dumps were interrupted gave a clean one on a later try; then while
# wgpoll churn makes them back to back (no process per change), until a
# read whose every dump was interrupted gave up with an error. Each read
# becomes one line of churn.txt, which the host checks: its interrupted
# dumps, peers, peers read twice, peers not on the device, peers missing
# and error.
churn_reads() { # phase: appends a batch of reads to churn.txt
	ip netns exec c wgpoll reads 4 >/tmp/reads 2>>"$out/churn.err" ||
		echo "wgpoll reads failed with $?" >>"$out/churn.err"
	awk -v phase="$1" '
		FILENAME == ARGV[1] { valid[$1] = 1; nvalid++; next }
		function flush() {
			if (run == "") return
			printf "read %s.%s interrupted=%s peers=%d twice=%d unknown=%d missing=%d error=%s\n",
				phase, run, intr, peers, twice, unknown, nvalid - distinct, err
		}
		$1 == "read" {
			flush()
			run = $2; intr = $4; sub(/^interrupted=/, "", intr)
			err = $0; sub(/.* error=/, "", err)
			peers = twice = unknown = distinct = 0
			split("", seen)
			next
		}
		$1 == "peer" {
			peers++
			if (!($2 in valid)) unknown++
			else if ($2 in seen) twice++
			else { seen[$2] = 1; distinct++ }
		}
		END { flush() }' /tmp/churn-keys /tmp/reads >/tmp/churn-batch
	cat /tmp/churn-batch >>"$out/churn.txt"
}

churn_phase() { # name until-pattern changer...
	name=$1 until=$2
	shift 2
	rm -f /tmp/churn-stop
	ip netns exec c "$@" >>"$out/churn.changes" 2>>"$out/churn.err" &
	churner=$!
	batch=0
	while [ $batch -lt 10 ]; do
		batch=$((batch + 1))
		churn_reads "$name.$batch"
		grep -q -- "$until" /tmp/churn-batch && break
	done
	# The first messages of a dump the changes interrupted.
	if [ -n "${sparkmon_capture:-}" ] && [ "$name" = fast ]; then
		for _ in 1 2 3 4 5; do
			capture c wgc wgkernel-interrupted 2
			tail -n 1 "$out/capture.log" | grep -q 'flagged=1' && break
		done
	fi
	touch /tmp/churn-stop
	wait "$churner"
	echo "$name $?" >>"$out/churn.rc"
}

if [ -x /usr/bin/wgpoll ]; then
	echo "churn: start at $(cut -d' ' -f1 /proc/uptime) s"
	run ip netns add c
	run ip -n c link set lo up
	run ip -n c link add wgc type wireguard
	random_keys 2000 >/tmp/churn-keys
	awk '{ printf "peer %s allowed-ips 10.%d.%d.%d/32\n", $1, 64 + int(NR / 65536),
		int(NR / 256) % 256, NR % 256 }' /tmp/churn-keys >/tmp/churn-peers
	# shellcheck disable=SC2046
	run ip netns exec c wg set wgc $(cat /tmp/churn-peers)
	run ip -n c link set wgc up
	: >"$out/churn.txt"
	: >"$out/churn.err"
	cat >/tmp/churn.sh <<'CHURN'
n=0
while :; do
	while read -r _ key _ ips; do
		[ -e /tmp/churn-stop ] && echo "wg set changes=$n" && exit 0
		wg set wgc peer "$key" remove || exit 1
		wg set wgc peer "$key" allowed-ips "$ips" || exit 1
		n=$((n + 2))
		sleep 0.05
	done </tmp/churn-peers
done
CHURN
	churn_phase slow 'interrupted=[1-9].* error=-$' sh /tmp/churn.sh
	churn_phase fast ' error=[^-]' wgpoll churn wgc /tmp/churn-peers 0 /tmp/churn-stop
	echo "churn: end at $(cut -d' ' -f1 /proc/uptime) s"
fi

echo "scenario done"
