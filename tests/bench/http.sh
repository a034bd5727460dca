#!/bin/sh
# HTTP benchmark (not part of make test): wrk against sparkmon's /metrics
# (text and OpenMetrics) and /status.json, each plain and gzip'ed, while it
# watches a wireguard-go device with 1000 peers
# (in a network namespace of its own), side by side in the same run with
# tests/bench/fixed.c, a minimal libmicrohttpd program serving a fixed
# buffer of the same size (the ceiling for this library on this machine).
# Prints requests/s, p99 latency, the ratios, the peak RSS of both, and the
# peak PSS of sparkmon's two processes together (web and collector, from
# /proc/PID/smaps_rollup, so that their shared pages count once) beside the
# reference's.
#   tests/bench/http.sh build/sparkmon [seconds] [connections] [peers]
set -eu
bin=$(realpath "$1")
secs=${2:-5}
conns=${3:-16}
npeers=${4:-1000}
for tool in wrk wg wireguard-go ip perl curl cc; do
	command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespace, TUN device)" >&2; exit 1; }
tag=$$
ns=smbench$tag
ifname=smbw$tag
tmp=$(mktemp -d /tmp/sparkmon-bench.XXXXXX)
cleanup() {
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -f "/var/run/wireguard/$ifname.sock"
	rm -rf "$tmp"
}
trap cleanup EXIT
in_ns() { ip netns exec "$ns" "$@"; }
cc -O2 -o "$tmp/fixed" "$(dirname "$0")/fixed.c" -lmicrohttpd
cc -O2 -o "$tmp/gzip" "$(dirname "$0")/gzip.c" -lz -ldeflate

# A wireguard-go device with $npeers peers (random public keys, one /32
# each, half of them with an endpoint), set in one `wg setconf`.
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns wireguard-go "$ifname" >"$tmp/wg-go.log" 2>&1
for _ in $(seq 50); do [ -S "/var/run/wireguard/$ifname.sock" ] && break; sleep 0.1; done
{
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' "$(wg genkey)" $((40000 + tag % 10000))
	perl -MMIME::Base64 -e 'srand(42); for my $i (1 .. $ARGV[0]) {
		my $k = encode_base64(join("", map { chr(int(rand(256))) } 1 .. 32), "");
		printf "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.%d/32\n", $k, 80 + int($i / 65536),
			int($i / 256) % 256, $i % 256;
		printf "Endpoint = 198.51.100.%d:%d\n", $i % 250 + 1, 20000 + $i if $i % 2 }' "$npeers"
} >"$tmp/wg.conf"
in_ns wg setconf "$ifname" "$tmp/wg.conf"
ip -n "$ns" addr add 10.79.255.1/16 dev "$ifname"
ip -n "$ns" link set "$ifname" up
[ "$(in_ns wg show "$ifname" peers | wc -l)" = "$npeers" ] || { echo "wg setconf failed" >&2; exit 1; }

port=19791
printf '[general]\ninterval = 5s\n[wireguard]\ninterfaces = %s\n[http]\nlisten = 127.0.0.1:%s\nmax_connections = 256\nmax_connections_per_ip = 256\n' \
	"$ifname" "$port" >"$tmp/sparkmon.conf"
# ip netns exec runs the command as its child: the shell records its own
# pid and becomes sparkmon, so that the pid is sparkmon's.
in_ns sh -c 'echo $$ >"$0"; exec "$1" -c "$2" serve' "$tmp/pid" "$bin" "$tmp/sparkmon.conf" \
	2>"$tmp/sparkmon.log" &
for _ in $(seq 1 50); do
	in_ns curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break
	sleep 0.1
done
spid=$(cat "$tmp/pid")
cpid=$(pgrep -P "$spid" | head -1)
# Peak PSS, sampled every 0.1 s while the benchmark runs: PIDS... -> kB.
pss() { cat $(for p in "$@"; do echo "/proc/$p/smaps_rollup"; done) 2>/dev/null | awk '/^Pss:/ {s += $2} END {print s + 0}'; }
sample_pss() { # out-file pid...
	out=$1
	shift
	peak=0
	while kill -0 "$1" 2>/dev/null; do
		now=$(pss "$@")
		[ "$now" -gt "$peak" ] && peak=$now && echo "$peak" >"$out"
		sleep 0.1
	done
}
sample_pss "$tmp/pss.sparkmon" "$spid" $cpid &
n=$(in_ns curl -sf "http://127.0.0.1:$port/metrics" | grep -c '^wireguard_peer_receive_bytes_total{')
[ "$n" = "$npeers" ] || { echo "sparkmon sees $n peers, not $npeers" >&2; exit 1; }

run() { # url [wrk-option...] -> "req/s p99_ms"
	url=$1
	shift
	in_ns wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" "$url" | awk '
		/Requests\/sec/ {rps=$2}
		/ 99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p99=v}
		END {printf "%s %s\n", rps, p99}'
}

# Each output plain and gzip'ed (Accept-Encoding: gzip), each beside the
# reference serving a buffer of the same size: for gzip, the very body
# sparkmon sent, as Content-Encoding: gzip.
om='application/openmetrics-text;version=1.0.0'
# The gzip copies are made from the rendering after the first request for
# one: ask for each, then wait for a round (5 s).
for accept in '*/*' "$om"; do
	in_ns curl -sf -o /dev/null -H "Accept: $accept" -H 'Accept-Encoding: gzip' \
		"http://127.0.0.1:$port/metrics"
done
for _ in $(seq 100); do
	in_ns curl -sf -D - -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/status.json" |
		grep -qi '^content-encoding: gzip' && break
	sleep 0.1
done
echo "sparkmon watching $ifname with $npeers peers; wrk -t2 -c$conns -d${secs}s"
printf '%-14s %-4s %8s %12s %9s %12s %9s %7s %7s\n' path enc bytes sparkmon_rps p99_ms fixed_rps \
	p99_ms rps% p99x
fport=19792
f_hwms=""
for what in "/metrics text" "/metrics om" "/status.json json"; do
	set -f
	set -- $what
	set +f
	path=$1 kind=$2
	accept='*/*'
	[ "$kind" = om ] && accept=$om
	for enc in plain gzip; do
		ae=identity
		[ "$enc" = gzip ] && ae=gzip
		in_ns curl -sf -H "Accept: $accept" -H "Accept-Encoding: $ae" \
			"http://127.0.0.1:$port$path" >"$tmp/body"
		[ -z "${KEEP_BODIES:-}" ] || cp "$tmp/body" "$KEEP_BODIES/$kind.$enc"
		size=$(wc -c <"$tmp/body")
		[ "$enc" = plain ] && cp "$tmp/body" "$tmp/plain.$kind"
		gz_flag=""
		[ "$enc" = gzip ] && gz_flag=gzip
		in_ns sh -c 'echo $$ >"$0"; exec "$1" "$2" "$3" $4' "$tmp/fpid" "$tmp/fixed" "$fport" \
			"$tmp/body" "$gz_flag" &
		fjob=$!
		sleep 0.3
		fpid=$(cat "$tmp/fpid")
		sample_pss "$tmp/pss.fixed$fport" "$fpid" &
		set -- $(run "http://127.0.0.1:$port$path" -H "Accept: $accept" -H "Accept-Encoding: $ae")
		s_rps=$1 s_p99=$2
		set -- $(run "http://127.0.0.1:$fport/")
		f_rps=$1 f_p99=$2
		f_hwm=$(awk '/VmHWM/ {print $2}' "/proc/$fpid/status")
		kill "$fpid"
		wait "$fjob" 2>/dev/null || true
		f_hwms="$f_hwms $kind.$enc: $f_hwm kB"
		f_psss="${f_psss:-} $kind.$enc: $(cat "$tmp/pss.fixed$fport" 2>/dev/null || echo 0) kB"
		fport=$((fport + 1))
		label=$path
		[ "$kind" = om ] && label="$path(OM)"
		printf '%-14s %-4s %8s %12s %9s %12s %9s %7s %7s\n' "$label" "$enc" "$size" \
			"$s_rps" "$s_p99" "$f_rps" "$f_p99" \
			"$(awk -v a="$s_rps" -v b="$f_rps" 'BEGIN {printf "%.0f", 100 * a / b}')" \
			"$(awk -v a="$s_p99" -v b="$f_p99" 'BEGIN {printf "%.2f", a / b}')"
	done
done
echo "fixed's peak RSS (VmHWM) serving the same body:$f_hwms"
echo "sparkmon peak RSS (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$spid/status)," \
	"now (VmRSS): $(awk '/VmRSS/ {print $2, $3}' /proc/$spid/status)," \
	"threads: $(awk '/Threads/ {print $2}' /proc/$spid/status)"
echo "peak PSS of sparkmon's web ($spid) and collector (${cpid:-none}) together: $(cat "$tmp/pss.sparkmon") kB;" \
	"the reference's:$f_psss"
# The CPU time of one compression of each body, zlib against libdeflate
# (the one sparkmon links), as tests/bench/gzip.c measures it.
for kind in text om json; do
	echo "one compression of the $kind body:"
	"$tmp/gzip" "$tmp/plain.$kind" 21 | sed 's/^/  /'
done
# SMAPS=file keeps sparkmon's memory map, to see where the RSS lies.
[ -z "${SMAPS:-}" ] || cp "/proc/$spid/smaps" "$SMAPS"
