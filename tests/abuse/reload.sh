#!/bin/sh
# SIGHUP applies [http]: a tightened allow-list refuses the removed network
# on its next connection, a new certificate (written over the old files)
# is served, a new listening address is served and one no longer listed
# is not, basic authentication and host names take effect; requests keep
# being answered throughout, with no moment where an address that stays
# is not served; the log names the keys that changed, never their values.
# TLS speaks 1.2 and 1.3 only.
set -eu
. "$(dirname "$0")/lib/abuse.sh"
need_tools openssl
tmpdir abuse-reload
t_fail_fast=yes t_logs="$tmp/serve.log"
mkcert() { # CN -> $tmp/CN.pem, $tmp/CN.key
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/$1.key" -out "$tmp/$1.pem" 2>/dev/null
}
mkcert first
mkcert second
mkcert third
cp "$tmp/first.pem" "$tmp/cert.pem"
cp "$tmp/first.key" "$tmp/key.pem"
port=$(free_port)
port2=$(free_port)
conf() { # LISTEN ALLOW [more [http] lines]
	cat >"$tmp/serve.conf" <<CONF
[general]
interval = 1s
[http]
listen = $1
listen_wireguard = no
allow = $2
allow_wireguard = no
tls_cert = $tmp/cert.pem
tls_key = $tmp/key.pem
${3:-}
CONF
}
conf "127.0.0.1:$port" "127.0.0.0/8"
serve "$tmp/serve.conf" "$tmp/serve.log"
pid=$serve_pid

code() { # PORT SRC [curl options]
	p=$1 src=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' -m 3 --cacert "$tmp/ca.pem" --interface "$src" "$@" \
		"https://127.0.0.1:$p/healthz" || true
}
subject() { # PORT
	openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}
cat "$tmp/first.pem" "$tmp/second.pem" "$tmp/third.pem" >"$tmp/ca.pem"
wait_http "https://127.0.0.1:$port/healthz" --cacert "$tmp/ca.pem"

expect() { [ "$1" = "$2" ] || fail "$3: expected $1, got $2"; ok "$3 -> $2"; }
expect 200 "$(code "$port" 127.91.0.1)" "before: client 127.91.0.1"
expect first "$(subject "$port")" "before: certificate"
expect 200 "$(code "$port" 127.0.0.1 --tlsv1.2 --tls-max 1.2)" "TLS 1.2"
expect 200 "$(code "$port" 127.0.0.1 --tlsv1.3)" "TLS 1.3"
openssl s_client -connect "127.0.0.1:$port" -tls1_1 </dev/null >"$tmp/tls11" 2>&1 &&
	fail "TLS 1.1 was accepted"
ok "TLS 1.1 refused"

# Requests all along the reload, from an address that stays allowed.
(
	end=$(($(date +%s) + 6))
	n=0
	while [ "$(date +%s)" -lt "$end" ] && [ $n -lt 400 ]; do
		echo "$(code "$port" 127.0.0.1)"
		n=$((n + 1))
	done
) >"$tmp/during" &
during=$!
kill_at_exit "$during"
sleep 1
cat "$tmp/second.pem" >"$tmp/cert.pem"
cat "$tmp/second.key" >"$tmp/key.pem"
conf "127.0.0.1:$port, 127.0.0.1:$port2" "127.0.0.1/32, ::1/128"
kill -HUP "$pid"
sleep 3
expect 000 "$(code "$port" 127.91.0.1)" "after: client 127.91.0.1 (its network removed)"
expect 200 "$(code "$port" 127.0.0.1)" "after: client 127.0.0.1"
expect second "$(subject "$port")" "after: certificate on the address that stayed"
expect second "$(subject "$port2")" "after: certificate on the new address"
expect 200 "$(code "$port2" 127.0.0.1)" "after: the new address"
wait "$during"
bad=$(grep -cv '^200$' "$tmp/during" || true)
[ "$bad" = 0 ] || fail "during the reload: $bad of $(wc -l <"$tmp/during") requests not 200: $(sort "$tmp/during" | uniq -c | tr '\n' ' ')"
ok "during the reload: $(wc -l <"$tmp/during") requests, each 200"
grep -q 'reload: \[http\] changed: listen allow (certificate files)' "$tmp/serve.log" ||
	fail "the reload did not log what changed: $(grep reload: "$tmp/serve.log" | tr '\n' ' ')"
ok "logged: $(grep -o 'reload: \[http\] changed:.*' "$tmp/serve.log")"

# The first address no longer listed: not served; the second still is.
# Basic authentication and a host name, turned on by the same reload.
hash=$(perl -e 'print crypt("s3cret", "\$2b\$05\$abcdefghijklmnopqrstuu")')
conf "127.0.0.1:$port2" "127.0.0.1/32" "auth_user = admin
auth_bcrypt = $hash
hostnames = gpu.example"
kill -HUP "$pid"
sleep 3
expect 000 "$(code "$port" 127.0.0.1)" "an address no longer listed"
expect 401 "$(code "$port2" 127.0.0.1)" "the address still listed, without a login"
expect 200 "$(code "$port2" 127.0.0.1 -u admin:s3cret)" "the address still listed, with a login"
expect 200 "$(code "$port2" 127.0.0.1 -u admin:s3cret -H 'Host: gpu.example')" "a host name added"
expect 421 "$(code "$port2" 127.0.0.1 -u admin:s3cret -H 'Host: other.example')" "a host name not added"
grep -q 'reload: \[http\] changed: listen allow hostnames auth_user auth_bcrypt$' "$tmp/serve.log" ||
	fail "the second reload did not log what changed: $(grep 'changed:' "$tmp/serve.log" | tr '\n' ' ')"
grep -q 's3cret\|abcdefghijklmnopqrstuu' "$tmp/serve.log" && fail "the log shows the password or its hash"
ok "logged: $(grep -o 'reload: \[http\] changed:.*' "$tmp/serve.log" | tail -1), no secret"

# A renewed certificate moved into place (certbot's and most tools' way: a
# new file renamed over the old name) and a configuration an editor saved
# by rename: both read on the next SIGHUP.
cp "$tmp/third.pem" "$tmp/cert.pem.new"
cp "$tmp/third.key" "$tmp/key.pem.new"
mv "$tmp/cert.pem.new" "$tmp/cert.pem"
mv "$tmp/key.pem.new" "$tmp/key.pem"
sed 's/^hostnames = .*/hostnames = gpu.example, renamed.example/' "$tmp/serve.conf" >"$tmp/serve.conf.new"
mv "$tmp/serve.conf.new" "$tmp/serve.conf"
kill -HUP "$pid"
sleep 3
expect third "$(subject "$port2")" "a certificate renamed into place"
expect 200 "$(code "$port2" 127.0.0.1 -u admin:s3cret -H 'Host: renamed.example')" "a configuration renamed into place"
finish
