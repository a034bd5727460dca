#!/bin/sh
# Slow clients cannot starve the others: 1000 slowloris connections from 50
# addresses and 16 from a single one (each a partial request, then a
# header line every 3 s) against the default limits, while another allowed
# address asks 20 times for /metrics: each answer is a 200 within 2 s.
# When the attack stops, the slots are free at once: the next request is
# answered, and no descriptor is left behind.
set -eu
. "$(dirname "$0")/lib/abuse.sh"
abuse_setup slowloris
base_fds=$(fd_count)

"$abuse" slow 127.0.0.1 "$port" 127.40 50 20 14 3000 >"$tmp/crowd.out" &
crowd=$!
kill_at_exit "$crowd"
"$abuse" slow 127.0.0.1 "$port" 127.41 1 16 14 3000 >"$tmp/single.out" &
single=$!
kill_at_exit "$single"
sleep 3
"$abuse" get 127.0.0.1 "$port" 127.42.0.1 20 2000 >"$tmp/get.out" ||
	fail "a request during the attack was not a 200 within 2 s: $(tr '\n' ' ' <"$tmp/get.out")"
ok "20 requests during the attack: 200, slowest $(sort -n -k2 "$tmp/get.out" | tail -1 | cut -d' ' -f2) ms"
kill -0 "$crowd" && kill -0 "$single" || fail "the attack ended before the requests did"
wait "$crowd" "$single"
ok "attack: $(cat "$tmp/crowd.out" "$tmp/single.out" | tr '\n' ' ')"

# At once after the attack: answered, and the slots and descriptors back.
"$abuse" get 127.0.0.1 "$port" 127.40.0.1 1 2000 >/dev/null ||
	fail "no answer right after the attack, from an attacking address"
ok "answered right after the attack, from an attacking address"
for _ in $(seq 20); do
	[ "$(fd_count)" -le "$base_fds" ] && break
	sleep 0.1
done
[ "$(fd_count)" -le "$base_fds" ] || fail "descriptors: $base_fds before, $(fd_count) after"
ok "descriptors back to $base_fds"
finish
