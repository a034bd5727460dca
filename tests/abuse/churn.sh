#!/bin/sh
# 5000 connect-and-close, each from its own loopback address: afterwards
# the web process's resident memory is within 1 MiB of before, its
# descriptors are back to their count before, and a request is answered;
# clients that leave in the middle of a request leave nothing open either.
set -eu
. "$(dirname "$0")/lib/abuse.sh"
abuse_setup churn
# Once, so that what is allocated for the first connections is there before.
"$abuse" churn 127.0.0.1 "$port" 127.50 200 >/dev/null
"$abuse" get 127.0.0.1 "$port" 127.0.0.1 5 2000 >/dev/null
sleep 0.5
base_fds=$(fd_count) base_rss=$(rss_kib)
"$abuse" churn 127.0.0.1 "$port" 127.51 5000 >"$tmp/churn.out" ||
	fail "the client could not connect each time: $(cat "$tmp/churn.out")"
ok "$(cat "$tmp/churn.out")"
for _ in $(seq 20); do
	[ "$(fd_count)" -le "$base_fds" ] && break
	sleep 0.1
done
fds=$(fd_count) rss=$(rss_kib)
[ "$fds" -le "$base_fds" ] || fail "descriptors: $base_fds before, $fds after"
ok "descriptors: $base_fds before, $fds after"
[ $((rss - base_rss)) -le 1024 ] || fail "resident memory: $base_rss KiB before, $rss KiB after"
ok "resident memory: $base_rss KiB before, $rss KiB after"
"$abuse" get 127.0.0.1 "$port" 127.51.0.1 1 2000 >/dev/null || fail "no answer after the churn"
ok "answered after the churn"

# Clients that send the start of a request and leave at once (the bytes
# and the close may reach the HTTP library together): their connections
# are closed long before the request deadline (5 s).
for i in $(seq 20); do
	printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n' |
		"$abuse" raw 127.0.0.1 "$port" "127.52.0.$i" 0 >/dev/null
done
for _ in $(seq 20); do
	[ "$(fd_count)" -le "$base_fds" ] && break
	sleep 0.1
done
fds=$(fd_count)
[ "$fds" -le "$base_fds" ] || fail "descriptors 2 s after 20 clients left mid-request: $base_fds before, $fds after"
ok "descriptors after 20 clients left mid-request: $fds"
finish
