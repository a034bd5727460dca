#!/bin/sh
# Compressed answers: /metrics (both formats) and /status.json come gzip'ed
# to a client whose Accept-Encoding allows it, from the rendering after the
# first such request on (no copy is made that nobody reads), and the body
# inflates (gzip -d, not our code) to exactly the plain one of the same
# rendering; a client that does not ask, or refuses gzip with q=0, gets the
# plain text; both say Vary: Accept-Encoding.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools curl gzip cmp

tmpdir http_gzip
t_fail_fast=yes t_logs=$tmp/sparkmon.log
port=$(free_port)
# Only an interface of its own (absent): other tests' wireguard-go devices
# come and go.
printf '[general]\ninterval = 2s\n[wireguard]\ninterfaces = smgz%s\n[http]\nlisten = 127.0.0.1:%s\n[endpoint]\nip_urls =\n[ssh]\nenabled = no\n' \
	"$$" "$port" >"$tmp/sparkmon.conf"
serve "$tmp/sparkmon.conf" "$tmp/sparkmon.log"
base=http://127.0.0.1:$port
wait_http "$base/status.json" -f
om='application/openmetrics-text;version=1.0.0'

# fetch NAME PATH ACCEPT ACCEPT-ENCODING: body in $tmp/NAME, headers in $tmp/NAME.h
fetch() {
	if [ -n "$4" ]; then
		curl -sf --max-time 5 -D "$tmp/$1.h" -H "Accept: $3" -H "Accept-Encoding: $4" \
			"$base$2" >"$tmp/$1" || fail "$2 ($4): no answer"
	else
		curl -sf --max-time 5 -D "$tmp/$1.h" -H "Accept: $3" "$base$2" >"$tmp/$1" ||
			fail "$2: no answer"
	fi
}
header() { grep -i "^$2:" "$tmp/$1.h" | tr -d '\r' | sed 's/^[^:]*: *//'; }

# Nobody has asked for gzip yet: the first request gets the plain text and
# asks for copies from the next rendering on (a round every 2 s).
fetch first /metrics '*/*' gzip
[ -z "$(header first content-encoding)" ] || fail "a gzip copy before anyone asked for one"
fetch first /metrics "$om" gzip
fetch first /status.json '*/*' gzip
for _ in $(seq 60); do
	fetch first /status.json '*/*' gzip
	[ "$(header first content-encoding)" = gzip ] && break
	sleep 0.1
done
[ "$(header first content-encoding)" = gzip ] || fail "no gzip copy 6 s after it was asked for"
ok "the first gzip request gets the plain text, the next rendering has the copy"

for what in "metrics /metrics */*" "om /metrics $om" "status /status.json */*"; do
	set -f # */* is an Accept value, not a pattern
	# shellcheck disable=SC2086 # NAME PATH ACCEPT
	set -- $what
	set +f
	name=$1 path=$2 accept=$3
	# The plain and the gzip'ed body of one rendering (a round may fall
	# between the two requests: then again).
	for _ in 1 2 3 4 5; do
		fetch "$name.plain" "$path" "$accept" ""
		fetch "$name.gz" "$path" "$accept" "gzip, deflate, br"
		gzip -dc <"$tmp/$name.gz" >"$tmp/$name.inflated" 2>/dev/null || true
		cmp -s "$tmp/$name.inflated" "$tmp/$name.plain" && break
	done
	[ -z "$(header "$name.plain" content-encoding)" ] ||
		fail "$path without Accept-Encoding: Content-Encoding $(header "$name.plain" content-encoding)"
	[ "$(header "$name.plain" vary)" = Accept-Encoding ] ||
		fail "$path plain: Vary '$(header "$name.plain" vary)'"
	[ "$(header "$name.gz" content-encoding)" = gzip ] ||
		fail "$path asked with gzip: Content-Encoding '$(header "$name.gz" content-encoding)'"
	[ "$(header "$name.gz" vary)" = Accept-Encoding ] ||
		fail "$path gzip: Vary '$(header "$name.gz" vary)'"
	[ "$(header "$name.gz" content-type)" = "$(header "$name.plain" content-type)" ] ||
		fail "$path gzip: Content-Type '$(header "$name.gz" content-type)'"
	gzip -dc <"$tmp/$name.gz" >"$tmp/$name.inflated" || fail "$path: the gzip body does not inflate"
	cmp -s "$tmp/$name.inflated" "$tmp/$name.plain" ||
		fail "$path: the gzip body inflates to something else than the plain one"
	plain=$(wc -c <"$tmp/$name.plain") packed=$(wc -c <"$tmp/$name.gz")
	[ "$packed" -lt "$plain" ] || fail "$path: gzip $packed bytes, plain $plain"
	ok "$path ($accept): gzip $packed bytes inflates to the plain $plain bytes; Vary: Accept-Encoding on both"
	# Refused or not offered: plain.
	for enc in "gzip;q=0" "gzip;q=0.000, *" "*;q=0" "identity" "deflate, br"; do
		fetch "$name.no" "$path" "$accept" "$enc"
		[ -z "$(header "$name.no" content-encoding)" ] ||
			fail "$path with Accept-Encoding '$enc': Content-Encoding $(header "$name.no" content-encoding)"
		[ "$(head -c 20 "$tmp/$name.no")" = "$(head -c 20 "$tmp/$name.plain")" ] ||
			fail "$path with Accept-Encoding '$enc': not the plain text"
	done
	ok "$path: plain for gzip;q=0, '*;q=0', identity, deflate/br"
	# "*" stands for gzip; HEAD says the compressed length.
	fetch "$name.any" "$path" "$accept" "*"
	[ "$(header "$name.any" content-encoding)" = gzip ] || fail "$path with '*': not gzip"
	curl -sfI --max-time 5 -H "Accept: $accept" -H "Accept-Encoding: gzip" "$base$path" |
		tr -d '\r' >"$tmp/$name.head"
	len=$(awk -F': *' 'tolower($1) == "content-length" {print $2}' "$tmp/$name.head")
	grep -qix 'content-encoding: gzip' "$tmp/$name.head" && [ "${len:-0}" -gt 0 ] &&
		[ "$len" -lt "$plain" ] || fail "$path HEAD with gzip: $(cat "$tmp/$name.head")"
done
# The OpenMetrics copy is its own, not the text format's.
grep -q '^# EOF$' "$tmp/om.inflated" || fail "the gzip OpenMetrics body has no # EOF"
cmp -s "$tmp/om.inflated" "$tmp/metrics.inflated" && fail "both formats inflate to the same body"
ok "'*' gets gzip, HEAD gives the compressed length; each format has its own compressed copy"
finish
