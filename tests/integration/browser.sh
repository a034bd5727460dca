#!/bin/sh
# Headless Chromium (Debian's package) loads the status page from a running
# `sparkmon serve`; the rendered DOM must show the checks with their
# traffic lights, the memory table and the history plots. A screenshot is
# left under the build folder for a person to look at.
set -eu
: "${SPARKMON:?path to the sparkmon binary}"
for tool in chromium curl perl; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/sparkmon-browser.XXXXXX)
shots=$(dirname "$SPARKMON")/screenshots
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	[ -f "$tmp/sparkmon.log" ] && tail -20 "$tmp/sparkmon.log" >&2
	exit 1
}
ok() { echo "ok: $*"; }
free_port() {
	perl -MIO::Socket::INET -e \
	    'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0)->sockport'
}

port=$(free_port)
printf '[general]\ninterval = 1s\n[http]\nlisten = 127.0.0.1:%s\n' "$port" >"$tmp/sparkmon.conf"
"$SPARKMON" -c "$tmp/sparkmon.conf" serve 2>"$tmp/sparkmon.log" &
pids="$pids $!"
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/status.json" && break; sleep 0.1; done
sleep 2 # a few rounds of history

chrome() {
	profile=$1
	shift
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --no-first-run --disable-sync --disable-dev-shm-usage \
		--user-data-dir="$tmp/profile-$profile" --virtual-time-budget=4000 "$@" 2>>"$tmp/chromium.log"
}

chrome dom --dump-dom "http://127.0.0.1:$port/" >"$tmp/dom.html" || fail "chromium failed"
dom=$tmp/dom.html
grep -q 'data-loaded="yes"' "$dom" || fail "the page never finished loading its data"
ok "page loaded its data"
n=$(grep -o 'class="check [a-z]*"' "$dom" | wc -l)
want=$(curl -sf "http://127.0.0.1:$port/status.json" |
	perl -MJSON::PP -e 'local $/; print scalar @{decode_json(<STDIN>)->{checks}}')
[ "$n" -eq "$want" ] && [ "$n" -gt 0 ] || fail "$n checks rendered, status.json has $want"
ok "$n checks rendered, as many as /status.json has"
grep -q 'data-check="memory.available"' "$dom" || fail "memory.available check missing"
grep -q 'class="light [a-z]*"' "$dom" || fail "no traffic lights"
ok "traffic lights present"
grep -q '<td>Mem:</td>' "$dom" || fail "memory table missing"
ok "memory table present"
grep -q 'data-series="memory.used_bytes"' "$dom" || fail "memory history plot missing"
grep -q '<polyline' "$dom" || fail "plots have no lines"
ok "history plots present with lines"
if grep -q '<script>' "$dom"; then fail "an inline script appeared in the DOM"; fi

mkdir -p "$shots"
for mode in light dark; do
	flag=""
	[ "$mode" = dark ] && flag=--force-dark-mode
	chrome "shot-$mode" $flag --window-size=1200,1400 --screenshot="$shots/status-$mode.png" \
		"http://127.0.0.1:$port/" >/dev/null || fail "screenshot failed"
	[ -s "$shots/status-$mode.png" ] || fail "no screenshot written"
done
chrome shot-phone --window-size=390,1600 --screenshot="$shots/status-phone.png" \
	"http://127.0.0.1:$port/" >/dev/null || fail "phone screenshot failed"
ok "screenshots in $shots"
echo "browser: all passed"
