#!/bin/sh
# The connection caps count across all listening addresses: with two
# listeners, max_connections_per_ip = 4 and max_connections = 6, a client
# address holding 2 slow connections on each listener is refused a fifth
# on either while another address is served; at the global cap, a newcomer
# from an address with no connection closes the oldest unanswered one of
# the busiest address and is served at once.
set -eu
. "$(dirname "$0")/lib/abuse.sh"
port=$(free_port)
listen="127.0.0.1:$port, 127.0.0.2:$port"
extra_http="max_connections = 6
max_connections_per_ip = 4
request_timeout = 20s"
abuse_setup caps

slow() { # HOST SRC-PREFIX PER SECONDS: PER slow connections from SRC-PREFIX.0.1
	"$abuse" slow "$1" "$port" "$2" 1 "$3" "$4" 3000 >/dev/null &
	kill_at_exit $!
}
# 127.110.0.1: 2 slow connections on each listener (4 of the 6).
slow 127.0.0.1 127.110 2 8
slow 127.0.0.2 127.110 2 8
sleep 1
req() { # HOST: a request naming it
	printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1"
}
req 127.0.0.2 | "$abuse" raw 127.0.0.2 "$port" 127.110.0.1 2000 >"$tmp/fifth"
[ "$(cat "$tmp/fifth")" = closed ] ||
	fail "a fifth connection from an address at its cap: expected refused, got $(cat "$tmp/fifth")"
ok "a fifth connection from an address holding 4 over two listeners: refused"
req 127.0.0.2 | "$abuse" raw 127.0.0.2 "$port" 127.111.0.9 2000 >"$tmp/other"
[ "$(cat "$tmp/other")" = "200 closed" ] ||
	fail "another address below the caps: expected '200 closed', got $(cat "$tmp/other")"
ok "another address meanwhile: 200"
# 127.111.0.1: 2 more, 6 in all: the global cap.
slow 127.0.0.1 127.111 2 8
sleep 1
req 127.0.0.2 | "$abuse" raw 127.0.0.2 "$port" 127.112.0.1 2000 >"$tmp/newcomer"
[ "$(cat "$tmp/newcomer")" = "200 closed" ] ||
	fail "a newcomer at the global cap: expected '200 closed', got $(cat "$tmp/newcomer")"
ok "a newcomer at the global cap of 6 (over two listeners): 200 at once"
finish
