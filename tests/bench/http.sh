#!/bin/sh
# HTTP benchmark (not part of make test): wrk against sparkmon's /metrics
# and /status.json, side by side in the same run with tests/bench/fixed.c,
# a minimal libmicrohttpd program serving a fixed buffer of the same size.
# Prints requests/s, p99 latency, the ratio, and sparkmon's peak RSS.
#   tests/bench/http.sh build/sparkmon [seconds] [connections]
set -eu
bin=$(realpath "$1")
secs=${2:-5}
conns=${3:-16}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/sparkmon-bench.XXXXXX)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/fixed" "$(dirname "$0")/fixed.c" -lmicrohttpd
port=19791
printf '[general]\ninterval = 5s\n[http]\nlisten = 127.0.0.1:%s\nmax_connections = 256\nmax_connections_per_ip = 256\n' \
	"$port" >"$tmp/sparkmon.conf"
"$bin" -c "$tmp/sparkmon.conf" serve 2>"$tmp/sparkmon.log" &
spid=$!
pids="$spid"
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break; sleep 0.1; done

run() { # url -> "req/s p99_ms"
	wrk -t2 -c"$conns" -d"${secs}s" --latency "$1" | awk '
		/Requests\/sec/ {rps=$2}
		/ 99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p99=v}
		END {printf "%s %s\n", rps, p99}'
}

printf '%-14s %8s %12s %9s %12s %9s %7s\n' path bytes sparkmon_rps p99_ms fixed_rps p99_ms ratio
fport=19792
for path in /metrics /status.json; do
	curl -sf "http://127.0.0.1:$port$path" >"$tmp/body"
	size=$(wc -c <"$tmp/body")
	"$tmp/fixed" "$fport" "$tmp/body" &
	fpid=$!
	pids="$pids $fpid"
	sleep 0.3
	set -- $(run "http://127.0.0.1:$port$path")
	s_rps=$1 s_p99=$2
	set -- $(run "http://127.0.0.1:$fport/")
	f_rps=$1 f_p99=$2
	kill "$fpid"
	wait "$fpid" 2>/dev/null || true
	fport=$((fport + 1))
	printf '%-14s %8s %12s %9s %12s %9s %7s\n' "$path" "$size" "$s_rps" "$s_p99" "$f_rps" "$f_p99" \
		"$(awk -v a="$s_rps" -v b="$f_rps" 'BEGIN {printf "%.2f", a / b}')"
done
echo "sparkmon peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$spid/status)"
