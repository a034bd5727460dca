# Runs inside the test VM (busybox sh) as `sh /scenario OUT DATA`.
#
# For each size, a kernel WireGuard device with that many peers (each with
# an endpoint and one allowed IP, as a server's road-warrior peers have),
# then, on the same device one after the other:
#   wgpoll poll      sparkmon's in-process kernel read (dump + parse)
#   wgpoll probe     the whole WireGuard probe in-process (discovery,
#                    addresses, dump, names, peer states)
#   wgpoll spawn wg  one `wg show <if> dump` process per run
#   wgpoll spawn sparkmon   one whole `sparkmon check --only wireguard` run
# Each prints the CPU time per run; see tests/bench/wireguard_kernel.sh.
out=$1
set -u
sizes=${BENCH_SIZES:-1 100 1000 5000}

fail() {
	echo "bench: $*" >&2
	exit 1
}

# 30 random bytes are 40 base64 characters; "AAA=" makes it a 32-byte key.
random_keys() {
	head -c $(($1 * 30)) /dev/urandom | base64 | tr -d '\n' | fold -w 40 | sed 's/$/AAA=/'
}

(umask 077 && wg genkey >/tmp/key) || fail "wg genkey"
printf '[general]\ninterval = 10s\n' >/tmp/sparkmon.conf

for n in $sizes; do
	dev=wgb$n
	/usr/sbin/ip link add "$dev" type wireguard || fail "ip link add $dev"
	wg set "$dev" private-key /tmp/key listen-port $((40000 + n)) || fail "wg set $dev"
	random_keys "$n" | awk '{
		i = NR
		printf "peer %s endpoint 192.0.2.%d:%d allowed-ips 10.%d.%d.%d/32\n",
		       $1, i % 250 + 1, 20000 + i % 40000, 64 + int(i / 65536), int(i / 256) % 256, i % 256
	}' >/tmp/args
	# A few hundred peers per `wg set`, to stay far from argument limits.
	awk '{ print > ("/tmp/args." int((NR - 1) / 500)) }' /tmp/args
	for f in /tmp/args.*; do
		# shellcheck disable=SC2046
		wg set "$dev" $(cat "$f") || fail "wg set $dev peers"
		rm -f "$f"
	done
	/usr/sbin/ip link set "$dev" up || fail "ip link set $dev up"
	got=$(wg show "$dev" peers | wc -l)
	[ "$got" -eq "$n" ] || fail "$dev has $got peers, want $n"

	# Runs: enough for a stable average, few enough for TCG (one whole
	# sparkmon process costs about 0.3 s of emulated CPU: few of those).
	if [ "$n" -ge 5000 ]; then
		runs=20 wgruns=10
	elif [ "$n" -ge 1000 ]; then
		runs=50 wgruns=20
	else
		runs=200 wgruns=50
	fi
	# One untimed warm-up of each, so that page cache and slab are the same.
	wgpoll poll "$dev" 1 >/dev/null || fail "wgpoll poll $dev"
	wg show "$dev" dump >/dev/null || fail "wg show $dev dump"
	{
		wgpoll poll "$dev" $runs
		wgpoll probe $runs
		wgpoll spawn $wgruns wg show "$dev" dump
		wgpoll spawn 5 sparkmon -c /tmp/sparkmon.conf check --only wireguard --json
	} >>"$out/bench.txt" 2>&1 || fail "measuring $dev"
	/usr/sbin/ip link del "$dev"
done
echo "bench done"
