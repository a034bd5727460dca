#!/bin/sh
# Bad requests get their status at once and cost nothing after: garbage
# (a first line that is no request line: 400), a 1 MB header, a 100 KB
# URL, Content-Length 10^12 on a GET, HTTP/0.9, a bad header line,
# pipelined requests, a request sent one byte per packet.
# After each, the next request is served, and nothing a client sent comes
# back in an answer. Host names (DNS rebinding): a wrong Host is 421; the
# address connected to (IPv4, [IPv6], with or without the port),
# localhost and a name of [http] hostnames are 200.
set -eu
. "$(dirname "$0")/lib/abuse.sh"
need_tools ip
ip -6 addr show dev lo | grep -q '::1' || die "no ::1 on lo: the IPv6 listener cannot be tested"
port=$(free_port)
listen="127.0.0.1:$port, [::1]:$port"
# 127.61.0.0/16 is outside the allow-list: it gets no answer at all.
extra_http="hostnames = sparkmon.example, GPU-box
allow = 127.0.0.1/32, 127.60.0.0/16, ::1/128"
abuse_setup malformed
base=http://127.0.0.1:$port

next_served() { # what: the next request from the same address is a 200
	"$abuse" get 127.0.0.1 "$port" 127.60.0.1 1 2000 >/dev/null ||
		fail "after $1: the next request was not served"
}

# The whole answer must arrive within 2 s and the connection be closed
# (else "open"): nothing waits for a timeout.
req() { printf '%b' "$1"; }
ok_req='GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'

req "$ok_req" | expect_raw "a plain request" "200 closed" 127.60.0.1 2000
req 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nbad header line\r\n\r\n' |
	expect_raw "a header line without a colon" "400 closed" 127.60.0.1 2000
next_served "a bad header line"
req 'GET /healthz FOO/1.1\r\nHost: 127.0.0.1\r\n\r\n' |
	expect_raw "an unknown protocol version" "400 closed" 127.60.0.1 2000
next_served "an unknown version"
req 'GET /healthz\r\n\r\n' | expect_raw "HTTP/0.9" "400 closed" 127.60.0.1 2000
next_served "HTTP/0.9"
req 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000000\r\n\r\n' |
	expect_raw "Content-Length 10^12 on a GET" "413 closed" 127.60.0.1 2000
next_served "Content-Length 10^12"
{
	printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: '
	head -c 1000000 /dev/zero | tr '\0' a
	printf '\r\n\r\n'
} | expect_raw "a 1 MB header" "431 closed" 127.60.0.1 2000
next_served "a 1 MB header"
{
	printf 'GET /'
	head -c 100000 /dev/zero | tr '\0' a
	printf ' HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
} | expect_raw "a 100 KB URL" "414 closed" 127.60.0.1 2000
next_served "a 100 KB URL"
req 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' |
	expect_raw "two pipelined requests" "200 closed" 127.60.0.1 2000
next_served "pipelined requests"
req "$ok_req" | expect_raw "a request one byte per packet" "200 closed" 127.60.0.1 3000 bytewise
next_served "a request one byte per packet"
# Garbage: a first line that can be no request line is 400 and closed at
# once, whatever the HTTP library would make of it.
req 'garbage\r\n\r\n' | expect_raw "garbage" "400 closed" 127.60.0.1 2000
next_served "garbage"
req '\000\001\002garbage\r\n\r\n' | expect_raw "garbage after a NUL" "400 closed" 127.60.0.1 2000
next_served "garbage after a NUL"
req '\001\002\003\004\005\006\007\010\013\014\016\r\n\r\n' |
	expect_raw "a line of control bytes" "400 closed" 127.60.0.1 2000
next_served "a line of control bytes"
req 'get\r\n\r\n' | expect_raw "a lowercase method alone" "400 closed" 127.60.0.1 2000
next_served "a lowercase method alone"
{
	head -c 2048 /dev/zero | tr '\0' g
	printf '\r\n\r\n'
} | expect_raw "a line of 2 KiB without a space" "400 closed" 127.60.0.1 2000
next_served "a line of 2 KiB without a space"
# A client outside the allow-list gets nothing, garbage or not.
req 'garbage\r\n\r\n' | expect_raw "garbage from a refused address" "closed" 127.61.0.1 2000
req "$ok_req" | expect_raw "a request from a refused address" "closed" 127.61.0.1 2000

# Nothing sent is echoed: a marker in each part of a bad request.
for r in 'GET /ECHOMARK HTTP/1.1\r\nHost: 127.0.0.1\r\nX-ECHOMARK: ECHOMARK\r\n\r\n' \
	'GET /healthz HTTP/1.1\r\nHost: ECHOMARK.example\r\n\r\n' \
	'GET /ECHOMARK FOO/1.1\r\nECHOMARK\r\n\r\n' \
	'ECHOMARK ECHOMARK ECHOMARK\r\n\r\n' '\000ECHOMARK\r\n\r\n' 'ECHOMARK\r\n\r\n'; do
	printf '%b' "$r" | "$abuse" raw 127.0.0.1 "$port" 127.60.0.1 2000 dump >>"$tmp/answers"
done
grep -q 'HTTP/1.1 4' "$tmp/answers" || fail "no answers to look at"
code_of() { # URL [curl options]
	u=$1
	shift
	curl -s -o "$tmp/body" -w '%{http_code}' -m 5 "$@" "$u" || true
}
c=$(code_of "$base/ECHOMARK-path" -H 'X-ECHOMARK: ECHOMARK')
expect_code() { [ "$1" = "$2" ] || fail "$3: expected $1, got $2"; ok "$3 -> $2"; }
expect_code 404 "$c" "unknown path"
cat "$tmp/body" >>"$tmp/answers"
grep -q ECHOMARK "$tmp/answers" && fail "an answer echoes the request: $(grep ECHOMARK "$tmp/answers")"
ok "no answer echoes the request"

# ---- Host ------------------------------------------------------------------
expect_code 421 "$(code_of "$base/status.json" -H 'Host: evil.example')" "Host: evil.example"
expect_code 421 "$(code_of "$base/metrics" -H "Host: evil.example:$port")" "Host: evil.example:port"
expect_code 421 "$(code_of "$base/metrics" -H "Host: 127.0.0.2:$port")" "Host: another loopback address"
expect_code 421 "$(code_of "$base/metrics" -H "Host: [::1]:$port")" "Host: [::1] on the IPv4 listener"
expect_code 421 "$(code_of "$base/metrics" -H "Host: sparkmon.example.evil")" "Host: a configured name as a prefix"
expect_code 421 "$(code_of "$base/metrics" -H "Host: 127.0.0.1:port")" "Host: a port that is not a number"
expect_code 200 "$(code_of "$base/metrics")" "Host: 127.0.0.1:port"
expect_code 200 "$(code_of "$base/metrics" -H 'Host: 127.0.0.1')" "Host: 127.0.0.1"
expect_code 200 "$(code_of "$base/metrics" -H "Host: localhost:$port")" "Host: localhost:port"
expect_code 200 "$(code_of "$base/metrics" -H 'Host: LOCALHOST.')" "Host: LOCALHOST."
expect_code 200 "$(code_of "$base/metrics" -H 'Host: sparkmon.example')" "Host: a configured name"
expect_code 200 "$(code_of "$base/metrics" -H "Host: gpu-box:$port")" "Host: a configured name, other case, port"
expect_code 200 "$(code_of "http://[::1]:$port/metrics")" "Host: [::1]:port"
expect_code 200 "$(code_of "http://[::1]:$port/metrics" -H 'Host: [::1]')" "Host: [::1]"
expect_code 200 "$(code_of "http://[::1]:$port/metrics" -H 'Host: [0:0::1]')" "Host: [0:0::1]"
expect_code 421 "$(code_of "http://[::1]:$port/metrics" -H "Host: 127.0.0.1:$port")" "Host: 127.0.0.1 on the IPv6 listener"
expect_code 421 "$(code_of "http://[::1]:$port/metrics" -H 'Host: [::1')" "Host: [::1 unclosed"

# A hostnames entry that is not a DNS name is a configuration error.
printf '[http]\nhostnames = good.example, a..b\n' >"$tmp/bad.conf"
if "$SPARKMON" -c "$tmp/bad.conf" config >/dev/null 2>"$tmp/bad.err"; then
	fail "hostnames = a..b accepted"
fi
grep -q 'bad.conf:2: hostnames: not a list of DNS names' "$tmp/bad.err" ||
	fail "hostnames = a..b: $(cat "$tmp/bad.err")"
ok "hostnames = a..b refused with its line"
finish
