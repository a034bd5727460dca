#!/bin/sh
# HTTP under attack (not part of make test): a well-behaved client asks for
# /metrics one request after another (each on its own connection, from its
# own loopback address) for SECONDS against the idle daemon, then during
# each attack of tests/abuse/ in turn, in the same run; prints requests/s,
# p50 and p99 for each, and the ratios against idle. The attacks:
#   slowloris  1000 connections from 50 addresses + 16 from one, trickling
#   churn      connect-and-close from 5000 addresses, over and over
#   garbage    malformed requests, 1 MB headers and 100 KB URLs, in a loop
#   guessing   64 wrong passwords at once from one address (a second daemon
#              with basic authentication; the client's login is remembered)
# Needs root (many 127.x.y.z source addresses, a raised descriptor limit).
#   tests/bench/http_abuse.sh build/sparkmon [seconds]
set -eu
bin=$(realpath "$1")
secs=${2:-10}
for tool in cc curl perl; do
	command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (source addresses, descriptor limit)" >&2; exit 1; }
ulimit -n 8192
tmp=$(mktemp -d /tmp/sparkmon-bench-abuse.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cc -O2 -Wall -Wextra -Werror -o "$tmp/abuse" "$(dirname "$0")/../abuse/abuse.c"
abuse=$tmp/abuse
free_port() {
	perl -MIO::Socket::INET -e \
		'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0)->sockport'
}
start() { # NAME PORT [extra [http] lines] -> waits for /metrics
	cat >"$tmp/$1.conf" <<CONF
[general]
interval = 1s
[http]
listen = 127.0.0.1:$2
listen_wireguard = no
allow_wireguard = no
${3:-}
CONF
	"$bin" -c "$tmp/$1.conf" serve 2>"$tmp/$1.log" &
	pids="$pids $!"
	for _ in $(seq 50); do
		curl -sf -o /dev/null ${4:+-H "$4"} "http://127.0.0.1:$2/metrics" && return 0
		sleep 0.1
	done
	echo "$1: the daemon does not answer" >&2
	exit 1
}
port=$(free_port)
start plain "$port"
hash=$(perl -e 'print crypt("s3cret", "\$2b\$12\$abcdefghijklmnopqrstuu")')
right="Authorization: Basic $(printf admin:s3cret | base64)"
aport=$(free_port)
start auth "$aport" "auth_user = admin
auth_bcrypt = $hash" "$right"

measure() { # LABEL PORT [HEADER]
	r=$("$abuse" bench 127.0.0.1 "$2" 127.99.0.1 "$secs" ${3:+"$3"})
	echo "$1 $r" >>"$tmp/results"
}
# Each attack runs a little longer than the measurement it surrounds.
attack_secs=$((secs + 3))
measure idle "$port"
"$abuse" slow 127.0.0.1 "$port" 127.40 50 20 "$attack_secs" 3000 >/dev/null &
a1=$!
"$abuse" slow 127.0.0.1 "$port" 127.41 1 16 "$attack_secs" 3000 >/dev/null &
a2=$!
sleep 2
measure slowloris "$port"
wait "$a1" "$a2"
(
	end=$(($(date +%s) + attack_secs))
	i=0
	while [ "$(date +%s)" -lt "$end" ] && [ $i -lt 200 ]; do
		"$abuse" churn 127.0.0.1 "$port" 127.51 5000 >/dev/null || true
		i=$((i + 1))
	done
) &
a1=$!
sleep 1
measure churn "$port"
wait "$a1"
head -c 1000000 /dev/zero | tr '\0' a >"$tmp/big"
(
	end=$(($(date +%s) + attack_secs))
	i=0
	while [ "$(date +%s)" -lt "$end" ] && [ $i -lt 5000 ]; do
		printf 'garbage\r\n\r\n' | "$abuse" raw 127.0.0.1 "$port" 127.60.0.1 500 >/dev/null
		{ printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: '; cat "$tmp/big"; printf '\r\n\r\n'; } |
			"$abuse" raw 127.0.0.1 "$port" 127.60.0.2 500 >/dev/null
		{ printf 'GET /'; head -c 100000 "$tmp/big"; printf ' HTTP/1.1\r\n\r\n'; } |
			"$abuse" raw 127.0.0.1 "$port" 127.60.0.3 500 >/dev/null
		i=$((i + 1))
	done
) &
a1=$!
sleep 1
measure garbage "$port"
wait "$a1"
measure idle-auth "$aport" "$right"
wrong="Authorization: Basic $(printf admin:guess | base64)"
"$abuse" guess 127.0.0.1 "$aport" 127.70.0.1 64 "$attack_secs" "$wrong" >/dev/null &
a1=$!
sleep 1
measure guessing "$aport" "$right"
wait "$a1"

# LABEL requests N ok N rps R p50_us X p99_us Y max_us Z
awk '
	{ rps[$1] = $7; p50[$1] = $9; p99[$1] = $11; mx[$1] = $13; ok[$1] = $5; n[$1] = $3; order[++k] = $1 }
	END {
		printf "%-10s %8s %7s %7s %8s %8s %8s %8s %8s\n", "client", "requests", "non-200", "req/s", "p50 ms", "p99 ms", "max ms", "req/s", "p99"
		printf "%-10s %8s %7s %7s %8s %8s %8s %8s %8s\n", "during", "", "", "", "", "", "", "vs idle", "vs idle"
		for (i = 1; i <= k; i++) {
			a = order[i]; base = (a == "guessing" || a == "idle-auth") ? "idle-auth" : "idle"
			printf "%-10s %8d %7d %7d %8.2f %8.2f %8.1f %7.0f%% %7.1fx\n", a, n[a], n[a] - ok[a], rps[a], p50[a] / 1000, p99[a] / 1000, mx[a] / 1000, 100 * rps[a] / rps[base], p99[a] / p99[base]
		}
	}' "$tmp/results"
for d in plain auth; do
	pid=$(pgrep -f "$tmp/$d.conf" | head -1 || true)
	[ -z "$pid" ] || echo "$d daemon: peak RSS $(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status") KiB, descriptors now $(ls "/proc/$pid/fd" | wc -l)"
done
