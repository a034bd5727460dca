#!/bin/sh
# The HTTP face of `sparkmon serve` against real curl: every route and
# method, unknown paths, request bodies, an oversized header, basic auth
# right and wrong, TLS, a client outside the allow-list (from a second
# network namespace), SIGHUP with a broken file, and SIGTERM within a second.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools curl openssl perl ip
need_root "a second network namespace"

tmpdir http
t_fail_fast=yes t_logs="$tmp/*.log"
ns=smhttp$$

# status URL [curl options] -> prints the HTTP status code
code() {
	url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' "$@" "$url" || true
}

expect() { # expected actual what
	[ "$1" = "$2" ] || fail "$3: expected $1, got $2"
	ok "$3 -> $2"
}

port=$(free_port)
base=http://127.0.0.1:$port
cat >"$tmp/plain.conf" <<CONF
[general]
interval = 1s
[http]
listen = 127.0.0.1:$port
CONF
serve "$tmp/plain.conf" "$tmp/plain.log"
pid=$serve_pid
wait_http "$base/status.json" -f

# ---- routes and methods ---------------------------------------------------
for path in / /app.js /style.css /metrics /status.json /api/history /api/events /healthz; do
	expect 200 "$(code "$base$path")" "GET $path"
	expect 200 "$(code "$base$path" -I)" "HEAD $path"
	expect 405 "$(code "$base$path" -X POST)" "POST $path"
	expect 405 "$(code "$base$path" -X DELETE)" "DELETE $path"
done
curl -s -D "$tmp/h" -o /dev/null -X PUT "$base/metrics"
grep -qi '^Allow: GET, HEAD' "$tmp/h" || fail "405 without Allow: GET, HEAD"
ok "405 carries Allow"
for path in /nope /metrics/ /status.json/x /../etc/passwd /index.html; do
	expect 404 "$(code "$base$path")" "GET $path"
done

# HEAD: headers with the body's length, no body.
len=$(curl -s -I "$base/metrics" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-length"{print $2}')
[ -n "$len" ] && [ "$len" -gt 100 ] || fail "HEAD /metrics without a Content-Length"
[ -z "$(curl -s -I "$base/metrics" | tr -d '\r' | sed '1,/^$/d')" ] || fail "HEAD sent a body"
ok "HEAD has Content-Length $len and no body"

# Content types and negotiation.
ct=$(curl -s -o /dev/null -w '%{content_type}' "$base/metrics")
expect "text/plain; version=0.0.4; charset=utf-8" "$ct" "metrics content type"
ct=$(curl -s -o /dev/null -w '%{content_type}' \
	-H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
	"$base/metrics")
expect "application/openmetrics-text; version=1.0.0; charset=utf-8" "$ct" "openmetrics content type"
curl -s -H 'Accept: application/openmetrics-text' "$base/metrics" | tail -1 | grep -qx '# EOF' ||
	fail "OpenMetrics output does not end with # EOF"
ok "OpenMetrics ends with # EOF"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$base/status.json")
expect "application/json" "$ct" "status.json content type"
curl -s "$base/" | grep -q '<title>sparkmon</title>' || fail "/ is not the page"
curl -s -D - -o /dev/null "$base/" | grep -qi "^Content-Security-Policy: default-src 'none'" ||
	fail "/ without a Content-Security-Policy"
ok "page served with a CSP"

# /status.json is the document `sparkmon check --json` prints: same keys.
keys_http=$(curl -s "$base/status.json" | perl -MJSON::PP -e 'local $/; print join(",", sort keys %{decode_json(<STDIN>)})')
keys_cli=$("$SPARKMON" -c "$tmp/plain.conf" check --json | perl -MJSON::PP -e 'local $/; print join(",", sort keys %{decode_json(<STDIN>)})' || true)
expect "$keys_cli" "$keys_http" "status.json keys equal check --json keys"

# History: the list, then a series with values.
curl -s "$base/api/history" | grep -q '"name":"memory.used_bytes"' || fail "history lists no memory.used_bytes"
curl -s "$base/api/history?series=memory.used_bytes" | grep -q '"values":\[.*[0-9]' ||
	fail "history series has no values"
ok "history lists and returns series"

# Request bodies are refused.
expect 413 "$(code "$base/metrics" -X GET --data-binary 'x=1')" "GET with a body"
expect 413 "$(code "$base/metrics" -X GET -H 'Transfer-Encoding: chunked' --data-binary 'abc')" \
	"GET with a chunked body"

# An oversized header (the per-connection memory limit is 32 KiB).
big=$(head -c 40000 /dev/zero | tr '\0' a)
c=$(code "$base/metrics" -H "X-Big: $big")
case $c in 4[0-9][0-9]) ok "oversized header -> $c" ;; *) fail "oversized header answered $c" ;; esac
expect 200 "$(code "$base/healthz")" "still serving after the oversized header"

# SIGHUP with a broken file: logged, old configuration kept, still serving.
cp "$tmp/plain.conf" "$tmp/plain.conf.good"
printf '[general]\ninterval = soon\n' >>"$tmp/plain.conf"
kill -HUP "$pid"
sleep 0.5
grep -q "keeping the old one" "$tmp/plain.log" || fail "bad reload not logged"
expect 200 "$(code "$base/healthz")" "serving after a bad reload"
cp "$tmp/plain.conf.good" "$tmp/plain.conf"
kill -HUP "$pid"
sleep 0.5
grep -q "configuration reloaded" "$tmp/plain.log" || fail "good reload not logged"
ok "SIGHUP: bad file kept the old configuration, good file reloaded"

# SIGTERM: gone within a second.
start=$(date +%s%N)
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do
	[ $(( $(date +%s%N) - start )) -lt 1000000000 ] || fail "still running 1 s after SIGTERM"
	sleep 0.02
done
wait "$pid" || fail "exit status $? after SIGTERM"
ok "SIGTERM: stopped in $(( ($(date +%s%N) - start) / 1000000 )) ms"

# ---- basic auth and TLS -----------------------------------------------------
hash=$(perl -e 'print crypt("s3cret", "\$2b\$05\$abcdefghijklmnopqrstuu")')
case $hash in '$2b$05$'*) ;; *) fail "this libcrypt cannot make bcrypt hashes" ;; esac
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
tport=$(free_port)
cat >"$tmp/tls.conf" <<CONF
[general]
interval = 1s
[http]
listen = 127.0.0.1:$tport
auth_user = admin
auth_bcrypt = $hash
tls_cert = $tmp/cert.pem
tls_key = $tmp/key.pem
CONF
serve "$tmp/tls.conf" "$tmp/tls.log"
tbase=https://127.0.0.1:$tport
wait_http "$tbase/healthz" --cacert "$tmp/cert.pem"
expect 401 "$(code "$tbase/metrics" --cacert "$tmp/cert.pem")" "TLS, no credentials"
curl -s -D - -o /dev/null --cacert "$tmp/cert.pem" "$tbase/metrics" |
	grep -qi '^WWW-Authenticate: Basic realm="sparkmon"' || fail "401 without WWW-Authenticate"
# Each wrong password from its own address: an address that guessed
# wrong waits (429) before its next check (tests/abuse/auth.sh).
expect 401 "$(code "$tbase/metrics" --cacert "$tmp/cert.pem" -u admin:wrong --interface 127.0.0.2)" "wrong password"
expect 401 "$(code "$tbase/metrics" --cacert "$tmp/cert.pem" -u root:s3cret --interface 127.0.0.3)" "wrong user"
expect 200 "$(code "$tbase/metrics" --cacert "$tmp/cert.pem" -u admin:s3cret)" "right credentials"
expect 200 "$(code "$tbase/status.json" --cacert "$tmp/cert.pem" -u admin:s3cret)" "right credentials, cached"
# A remembered login admits those credentials only.
expect 401 "$(code "$tbase/metrics" --cacert "$tmp/cert.pem" -u admin:wrong --interface 127.0.0.4)" "wrong password after a login"
expect 401 "$(code "$tbase/metrics" --cacert "$tmp/cert.pem" -u root:s3cret --interface 127.0.0.5)" "wrong user after a login"
c=$(code "http://127.0.0.1:$tport/healthz")
[ "$c" != 200 ] || fail "plain HTTP answered on the TLS port"
ok "plain HTTP on the TLS port -> $c"
curl -s --cacert "$tmp/cert.pem" -u admin:s3cret "$tbase/metrics" | grep -q '^sparkmon_build_info' ||
	fail "no metrics over TLS"
ok "metrics over TLS with basic auth"

# ---- allow-list, from a second network namespace -----------------------------
# The peer end is made in the namespace: deleting it removes the pair.
netns_add "$ns"
ip link add "smh$$a" type veth peer name "smh$$b" netns "$ns"
ip addr add 10.231.7.1/24 dev "smh$$a"
ip link set "smh$$a" up
ip -n "$ns" addr add 10.231.7.2/24 dev "smh$$b"
ip -n "$ns" addr add 10.231.7.3/24 dev "smh$$b"
ip -n "$ns" link set "smh$$b" up
aport=$(free_port)
cat >"$tmp/acl.conf" <<CONF
[general]
interval = 1s
[http]
listen = 127.0.0.1:$aport, 10.231.7.1:$aport
allow = 127.0.0.0/8, 10.231.7.3/32
CONF
serve "$tmp/acl.conf" "$tmp/acl.log"
wait_http "http://127.0.0.1:$aport/healthz"
c=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
	--interface 10.231.7.3 "http://10.231.7.1:$aport/healthz" || true)
expect 200 "$c" "client 10.231.7.3 (allowed) from the second namespace"
c=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
	--interface 10.231.7.2 "http://10.231.7.1:$aport/healthz" || true)
expect 000 "$c" "client 10.231.7.2 (not allowed) from the second namespace"
finish
