#!/bin/sh
# The endpoint probe against a local HTTP server (busybox httpd on
# loopback, started here): plain IP, garbage, IPv6 text, a huge body, a slow
# answer past the timeout, a 500, a refused connection; the state file round
# trip and change detection; the HTTP helper (sparkmon-fetch: the daemon
# links no libcurl, a missing or non-executable helper is named, none is
# needed without URLs); no network at all. Only addresses this test creates
# are contacted.
set -eu
: "${SPARKMON:?path of the sparkmon binary}"
. "$(dirname "$0")/lib/common.sh"
need_tools busybox ip unshare ldd
busybox httpd --help 2>&1 | grep -q -i usage || die "busybox has no httpd applet"
tmpdir endpoint
ns="smep$$"

www="$tmp/www"
mkdir -p "$www/cgi-bin" "$tmp/state"
printf '203.0.113.7\n' >"$www/ip.txt"
printf '203.0.113.8\r\n' >"$www/ip2.txt"
printf '<html><body>Your IP: 203.0.113.7</body></html>\n' >"$www/garbage.txt"
printf '2001:db8::7\n' >"$www/v6.txt"
head -c 200000 /dev/zero | tr '\0' '1' >"$www/huge.txt"
cat >"$www/cgi-bin/slow" <<'CGI'
#!/bin/sh
sleep 5
printf 'Content-Type: text/plain\r\n\r\n203.0.113.7\n'
CGI
cat >"$www/cgi-bin/err500" <<'CGI'
#!/bin/sh
printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n203.0.113.7\n'
CGI
chmod +x "$www/cgi-bin/slow" "$www/cgi-bin/err500"

# A port of our own: try a few until httpd stays up on one.
port=""
for try in 1 2 3 4 5 6 7 8; do
	p=$((20000 + ($$ * 7 + try * 131) % 30000))
	busybox httpd -f -p "127.0.0.1:$p" -h "$www" &
	pid=$!
	sleep 0.3
	if kill -0 "$pid" 2>/dev/null; then
		kill_at_exit "$pid"
		port=$p
		break
	fi
done
[ -n "$port" ] || die "could not start busybox httpd"
base="http://127.0.0.1:$port"
# A port where nothing listens: the one after ours, checked to be refused.
refused="http://127.0.0.1:$((port + 1))/ip.txt"

# config NAME IP_URLS [EXTRA LINES]
config() {
	printf '[general]\nstate_dir = %s\n[endpoint]\nip_urls = %s\ntimeout = 2s\nconnect_timeout = 1s\n%s\n' \
		"$tmp/state" "$2" "${3:-}" >"$tmp/$1.conf"
}

# expect CONF STATUS TEXT [CHECK]: the check's line in the status report.
expect() {
	check=${4:-endpoint.public_ip}
	out=$("$SPARKMON" -c "$tmp/$1.conf" status 2>&1 || true)
	line=$(printf '%s\n' "$out" | grep -E "^  [A-Z]+ +$check " || true)
	case "$line" in
	"  $2 "*"$3"*) echo "ok: $1 $check $2" ;;
	*) fail "$1 $check: expected $2 with '$3', got: ${line:-<no line>}" ;;
	esac
}

expect_exit() { # CONF CODE
	rc=0
	"$SPARKMON" -c "$tmp/$1.conf" check --only endpoint >/dev/null 2>&1 || rc=$?
	[ "$rc" = "$2" ] && echo "ok: $1 exit $2" || fail "$1: exit code $rc, expected $2"
}

echo "-- plain IP, remembered in the state file"
config plain "$base/ip.txt"
expect plain OK "public IP is 203.0.113.7, remembered now"
[ -f "$tmp/state/public-ip" ] && head -n1 "$tmp/state/public-ip" | grep -qx 203.0.113.7 ||
	fail "state file not written: $(cat "$tmp/state/public-ip" 2>&1)"
expect plain OK "public IP is 203.0.113.7, unchanged since"
expect_exit plain 0

echo "-- the address changed"
config changed "$base/ip2.txt"
expect changed WARNING "public IP changed from 203.0.113.7"
expect changed WARNING "to 203.0.113.8"
expect_exit changed 1
# Still remembered until acknowledged.
head -n1 "$tmp/state/public-ip" | grep -qx 203.0.113.7 || fail "state file overwritten on change"

echo "-- expected_public_ip"
config expected "$base/ip.txt" "expected_public_ip = 203.0.113.9"
expect expected CRITICAL "public IP is 203.0.113.7, expected 203.0.113.9"
expect_exit expected 2
config expected_ok "$base/ip.txt" "expected_public_ip = 203.0.113.7"
expect expected_ok OK "as expected"

echo "-- the endpoint's DNS name resolves elsewhere"
config dns "$base/ip.txt" "expected_public_ip = 203.0.113.7
hostname = localhost:51820"
expect dns CRITICAL "localhost resolves to 127.0.0.1, but the public IP is 203.0.113.7"

echo "-- answers that are not an IPv4 address"
config garbage "$base/garbage.txt"
expect garbage UNKNOWN "not an IPv4 address"
config v6 "$base/v6.txt"
expect v6 UNKNOWN "IPv6"
config huge "$base/huge.txt"
expect huge UNKNOWN "larger than 1024 bytes"
config e500 "$base/cgi-bin/err500"
expect e500 UNKNOWN "HTTP status 500"
config refused "$refused"
expect refused UNKNOWN "127.0.0.1"
expect_exit refused 3

echo "-- a slow server is cut at the timeout"
config slow "$base/cgi-bin/slow"
start=$(date +%s)
expect slow UNKNOWN "imed out"
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 4 ] || fail "slow server: took ${elapsed}s with a 2s timeout"

echo "-- URLs are tried in order until one answers"
config order "$refused $base/garbage.txt $base/ip.txt"
expect order OK "public IP is 203.0.113.7"
"$SPARKMON" -c "$tmp/order.conf" check --json >"$tmp/order.json" 2>/dev/null || true
grep -qF "\"source_url\": \"http://127.0.0.1:$port/ip.txt\"" "$tmp/order.json" ||
	fail "order: source_url is not the third URL"
# URLs and paths as people write them: json-c's "\/" escape is switched off.
grep -qF '\/' "$tmp/order.json" && fail "check --json writes '/' as '\\/'"

echo "-- reachability URLs"
config probes "$base/ip.txt" "probes = $base/ip.txt $base/cgi-bin/err500 $refused"
expect probes WARNING "2 of 3 URLs not reached" endpoint.probes
expect probes WARNING "HTTP status 500" endpoint.probes
config probes_ok "$base/ip.txt" "probes = $base/ip.txt"
expect probes_ok OK "1 URL reached" endpoint.probes

echo "-- the HTTP requests run in sparkmon-fetch; the daemon links no libcurl"
fetch="$(dirname "$SPARKMON")/sparkmon-fetch"
libs=$(ldd "$SPARKMON") || fail "ldd $SPARKMON failed"
if printf '%s\n' "$libs" | grep -E 'lib(curl|ssl|crypto)\.so'; then
	fail "$SPARKMON links libcurl or OpenSSL (above)"
else
	echo "ok: ldd sparkmon: no libcurl, libssl, libcrypto ($(printf '%s\n' "$libs" | wc -l) libraries)"
fi
if [ -x "$fetch" ] && ldd "$fetch" | grep -q 'libcurl\.so'; then
	echo "ok: ldd sparkmon-fetch: libcurl"
else
	fail "no $fetch linking libcurl next to $SPARKMON"
fi

# The copy of the binary alone in a folder: no helper next to it. Whatever
# is installed at the compiled-in path is hidden by a tmpfs in a private
# mount namespace, so that the case holds on a machine with sparkmon
# installed too.
installed=$(LC_ALL=C grep -aoE '/[ -~]*/lib/sparkmon/sparkmon-fetch' "$SPARKMON" | head -n 1)
[ -n "$installed" ] || fail "no compiled-in .../lib/sparkmon/sparkmon-fetch path in $SPARKMON"
alone=$(mkdir "$tmp/alone" && cd "$tmp/alone" && pwd -P)
cp "$SPARKMON" "$alone/sparkmon"
run_alone() { # CONF: the copy's check --only endpoint; output in $out, exit code in $rc
	rc=0
	if [ -e "$installed" ]; then
		out=$(unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs "$1" && shift && exec "$@"' \
			sh "$(dirname "$installed")" "$alone/sparkmon" -c "$tmp/$1.conf" check --only endpoint 2>&1) || rc=$?
	else
		out=$("$alone/sparkmon" -c "$tmp/$1.conf" check --only endpoint 2>&1) || rc=$?
	fi
}
missing="endpoint probe failed: sparkmon-fetch not found: neither $alone/sparkmon-fetch nor $installed is an executable file"
run_alone plain
case "$rc:$out" in
"3:SPARKMON UNKNOWN - endpoint.public_ip: $missing"*) echo "ok: no helper: UNKNOWN naming both places" ;;
*) fail "no helper: exit $rc: $out" ;;
esac
printf '#!/bin/sh\nexit 0\n' >"$alone/sparkmon-fetch"
chmod 0644 "$alone/sparkmon-fetch"
run_alone plain
case "$rc:$out" in
"3:SPARKMON UNKNOWN - endpoint.public_ip: $missing"*) echo "ok: helper not executable: UNKNOWN naming both places" ;;
*) fail "helper not executable: exit $rc: $out" ;;
esac
# Nothing to fetch, no helper needed.
config nourls ""
run_alone nourls
case "$rc:$out" in
*"probe failed"*) fail "no URLs: the helper was looked for: $out" ;;
# An empty ip_urls switches endpoint.public_ip off: with no probes either,
# nothing selected applies, which check --only says as UNKNOWN.
"3:SPARKMON UNKNOWN - selection: none of the selected checks applies here: endpoint.public_ip, endpoint.probes"*)
	echo "ok: no URLs: no helper needed, public-IP check off" ;;
*) fail "no URLs: exit $rc: $out" ;;
esac
# Copied together, they work from anywhere.
rm -f "$alone/sparkmon-fetch"
cp "$fetch" "$alone/sparkmon-fetch"
run_alone plain
case "$rc:$out" in
"0:SPARKMON OK - "*) echo "ok: the helper next to the copied binary is used" ;;
*) fail "helper next to the copy: exit $rc: $out" ;;
esac

echo "-- no network at all: UNKNOWN with the curl error, quickly"
netns_add "$ns"
config nonet "http://203.0.113.1/ http://[2001:db8::1]/"
start=$(date +%s)
out=$(ip netns exec "$ns" "$SPARKMON" -c "$tmp/nonet.conf" check --only endpoint 2>&1) && rc=0 || rc=$?
elapsed=$(($(date +%s) - start))
[ "$rc" = 3 ] || fail "no network: exit $rc: $out"
case "$out" in *"public IP unknown"*"2 URLs failed"*) echo "ok: no network UNKNOWN" ;; *) fail "no network: $out" ;; esac
[ "$elapsed" -le 3 ] || fail "no network: took ${elapsed}s"

echo "-- a broken state file is reported, not trusted"
printf 'not an address\n' >"$tmp/state/public-ip"
expect plain OK "not remembered"

finish
