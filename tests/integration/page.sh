#!/bin/sh
# The status page in headless Chromium (Debian's package) against `sparkmon
# serve` watching a real remote-access path (tests/integration/lib/
# vpn_path.sh: a wireguard-go tunnel, forwarding, the wg-quick PostUp rules
# in iptables). Through the rendered DOM: the drawn path has its hops with
# the forwarding and firewall hop OK, then red once the MASQUERADE rule is
# removed (and the client, asked, no longer reaches the internet); the
# overall status band turns red; the change appears in the timeline (and
# in /api/events with its old state); the plots have time and value axes
# and a gap where the daemon stood still.
# Chromium's network log shows no request to any origin but the daemon's;
# no content security policy violation is reported; the page (HTML, CSS,
# JS) weighs under 60 KB. Over the DevTools protocol (lib/page_actions.py)
# the page is used at 360 px: a hop tapped opens its checks, a plot tapped
# gives its readout, the copy button puts the fix on the clipboard (with
# the clipboard API and with its fallback), the range switches, dark mode
# applies. Screenshots at 390x844 and 1280x800, light and dark, with the
# path whole and broken, are left under the build folder.
set -eu
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/vpn_path.sh"
need_tools chromium curl jq ip wg wireguard-go iptables ping python3
need_root "network namespaces, TUN devices, iptables"

tmpdir page
t_fail_fast=yes t_logs="$tmp/sparkmon.log $tmp/chromium.log"
shots=$(realpath "$(dirname "$SPARKMON")")/screenshots
vpn_path_setup PG
inS() { ip netns exec "$vp_server" "$@"; }
# The wg-quick PostUp lines of the guide.
inS iptables -A FORWARD -i "$vp_wg" -j ACCEPT
inS iptables -t nat -A POSTROUTING -o "$vp_uplink" -j MASQUERADE
vpn_path_reaches 4 || die "the client does not reach the internet through the tunnel"
ok "path up: the client reaches the internet through the tunnel"

port=$((20000 + $$ % 10000))
url=http://127.0.0.1:$port
# No SSH, no public-IP lookup, no look at the boot files (this machine's
# own /etc): the path's own checks decide the status. Ten minutes of
# history keep a point per second.
cat >"$tmp/sparkmon.conf" <<CONF
[general]
interval = 1s
state_dir = $tmp
[forwarding]
check_persistent = no
[wireguard]
interfaces = $vp_wg
[endpoint]
ip_urls =
[ssh]
enabled = no
[history]
retention = 10m
[http]
listen = 127.0.0.1:$port
CONF
serve "$tmp/sparkmon.conf" "$tmp/sparkmon.log" "$vp_server"
wait_http -n "$vp_server" "$url/status.json" -f

# check_is ID STATUS: waits (up to 10 s) for /status.json to give the check
# that status.
check_is() {
	for _ in $(seq 50); do
		s=$(inS curl -sf "$url/status.json" | jq -r --arg id "$1" \
			'.checks[] | select(.id == $id) | .status')
		[ "$s" = "$2" ] && return 0
		sleep 0.2
	done
	die "$1 is '$s' in /status.json, not $2"
}
check_is firewall.masquerade ok
check_is wireguard.interface ok
# A few points of history, then 3 s in which the web process stands still
# (the collector's messages wait in the socket): steps without points, a
# gap in every plot.
sleep 2
kill -STOP "$serve_pid"
sleep 3
kill -CONT "$serve_pid"
sleep 2

chrome() { chromium_page "$vp_server" "$@"; }
# dom NAME [FLAG...]: the rendered page in $tmp/NAME.html, its network log
# in $tmp/NAME.netlog.
dom() {
	name=$1
	shift
	chrome "$name" --log-net-log="$tmp/$name.netlog" --net-log-capture-mode=Default "$@" \
		--dump-dom "$url/" >"$tmp/$name.html" || die "chromium failed"
	grep -q 'data-loaded="yes"' "$tmp/$name.html" || die "$name: the page never loaded its data"
}
has() {
	grep -q -- "$2" "$tmp/$1.html" || die "$1: the page has no $3"
}
hop_status() {
	sed -n "s/.*data-hop=\"$2\" data-status=\"\([a-z]*\)\".*/\1/p" "$tmp/$1.html" | head -1
}
# part NAME START END: the page's text from START to the first END after it.
part() {
	perl -0ne 'BEGIN { ($s, $e) = splice(@ARGV, 0, 2) }
		my $i = index($_, $s); next if $i < 0; my $j = index($_, $e, $i + length $s);
		print substr($_, $i, ($j < 0 ? length($_) : $j) - $i)' "$2" "$3" "$tmp/$1.html"
}
band_now() {
	sed -n 's/.*data-series="status" data-now="\([a-z]*\)".*/\1/p' "$tmp/$1.html" | head -1
}
# One browser to act on the page over the DevTools protocol, for the whole
# test (lib/page_actions.py).
dport=$((40000 + $$ % 10000))
chromium_in "$vp_server" act --remote-debugging-port="$dport" about:blank &
kill_at_exit $!
actions() {
	inS timeout 60 python3 "$(dirname "$0")/lib/page_actions.py" "$dport" "$url" "$@"
}
# shoot NAME: the four screenshots.
shoot() {
	mkdir -p "$shots"
	actions shots "$shots/page-$1" || die "screenshots of $1 failed"
}

# ---- the path whole ----------------------------------------------------------------
dom whole
for h in client internet public uplink firewall wireguard peers machine; do
	has whole "data-hop=\"$h\"" "hop $h"
done
# The router hop is drawn only when /status.json has a router area (or a
# router check that is not OK).
inS curl -sf "$url/status.json" >"$tmp/status.json"
if jq -e '.router or any(.checks[]; (.id | startswith("router.")) and .status != "ok")' \
	"$tmp/status.json" >/dev/null; then
	has whole 'data-hop="router"' "router hop"
elif grep -q 'data-hop="router"' "$tmp/whole.html"; then
	die "a router hop without a router area in /status.json"
fi
[ "$(hop_status whole firewall)" = ok ] || die "forwarding + firewall hop is '$(hop_status whole firewall)', not ok"
[ "$(hop_status whole wireguard)" = ok ] || die "WireGuard hop is '$(hop_status whole wireguard)'"
[ "$(hop_status whole peers)" = ok ] || die "peers hop is '$(hop_status whole peers)'"
grep -q ">$vp_uplink</text>" "$tmp/whole.html" || die "the uplink hop does not name $vp_uplink"
before=$(band_now whole)
case $before in ok | warning) ok "path whole: hops drawn, firewall hop ok, status band $before" ;;
*) die "the status band is '$before' before anything broke" ;; esac
# Plots: a time axis (HH:MM ticks) and a value axis with units.
has whole 'data-series="memory.used_bytes"' "memory plot"
part whole 'data-series="memory.used_bytes"' '<div class="plot' |
	grep -q 'class="tick"[^>]*>[0-9][0-9]:[0-9][0-9]</text>' || die "memory plot: no time axis"
part whole 'data-series="memory.used_bytes"' '<div class="plot' |
	grep -q 'class="tick"[^>]*>[0-9.]* [KMG]iB</text>' || die "memory plot: no value axis in bytes"
n=$(part whole 'data-series="memory.used_bytes"' '<div class="plot' | grep -o '<polyline' | wc -l)
[ "$n" -ge 2 ] || die "memory plot: $n line(s), no gap where the daemon stood still"
n=$(inS curl -sf "$url/api/history?series=memory.used_bytes" | jq '[.series[0].values[] | select(. == null)] | length')
[ "$n" -ge 1 ] || die "/api/history has no null step for the time the daemon stood still"
has whole 'data-series="peers"' "peers up/down band"
has whole "traffic · last hour" "peer traffic plot"
grep -q 'class="tick"[^>]*>[0-9.]* [KM]*B/s</text>' "$tmp/whole.html" || die "traffic plot: no rate axis"
ok "plots: time axis, value axis with units, a gap where the daemon stood still, peers band, traffic in B/s"
# The check reached OK: first seen so (with others at the start), or later.
grep -q 'class="event ok first" data-checks="[^"]*firewall.masquerade\|data-check="firewall.masquerade" data-to="ok"' \
	"$tmp/whole.html" || die "the timeline does not show firewall.masquerade reaching OK"
shoot whole

# ---- the MASQUERADE rule removed -----------------------------------------------------
inS iptables -t nat -D POSTROUTING -o "$vp_uplink" -j MASQUERADE
if vpn_path_reaches 4; then die "the client still reaches the internet without MASQUERADE"; fi
check_is firewall.masquerade critical
sleep 1.5 # a step of the status series at critical
dom broken
[ "$(hop_status broken firewall)" = critical ] ||
	die "forwarding + firewall hop is '$(hop_status broken firewall)', not critical"
[ "$(hop_status broken wireguard)" = ok ] || die "WireGuard hop went '$(hop_status broken wireguard)'"
has broken 'data-hop="firewall" class="why critical"\|class="why critical" data-hop="firewall"\|data-hop="firewall"[^>]*>.*no MASQUERADE' "summary at the broken hop"
has broken 'id="hop-detail" class="hop-detail" data-hop="firewall"' "fix panel opened at the broken hop"
part broken 'id="hop-detail"' '</section>' | grep -q "<code class=\"fix\">[^<]*POSTROUTING[^<]*MASQUERADE</code><button class=\"copy\"" ||
	die "the fix panel has no MASQUERADE command with a copy button"
ok "path broken: the forwarding + firewall hop red, its summary and fix shown"
[ "$(band_now broken)" = critical ] || die "the status band is '$(band_now broken)', not critical"
ok "status band: $before, then critical"
# Not-OK first: the problems list holds the check, large, before the OK areas.
part broken '<ul id="problems"' 'id="problems-none"' | grep -q 'data-check="firewall.masquerade" data-status="critical"' ||
	die "firewall.masquerade is not among the problems"
has broken '<details class="area" data-area="wireguard">' "the wireguard area folded as OK"
ok "not-OK first: the MASQUERADE check listed as a problem, OK areas folded"
has broken 'data-check="firewall.masquerade" data-to="critical"' "event of the MASQUERADE check turning critical"
inS curl -sf "$url/api/events" >"$tmp/events.json"
jq -e '[.events[] | select(.check == "firewall.masquerade")][0] |
	.from == "ok" and .to == "critical" and (.summary | test("MASQUERADE")) and .time > 0' \
	"$tmp/events.json" >/dev/null || die "/api/events: no ok → critical change of firewall.masquerade: $(cat "$tmp/events.json")"
ok "what changed: firewall.masquerade ok → critical, on the page and in /api/events"
shoot broken

# ---- acting on it as a person on a phone would --------------------------------------
actions act firewall.masquerade || die "acting on the page failed"

# ---- what the browser fetched, what it was told --------------------------------------
# Requests on the page's behalf carry its site as their network isolation
# key or its origin as initiator; the browser's own (component updates, a
# clock, accounts) carry neither, and go nowhere from this namespace.
python3 - "$url" "$tmp"/*.netlog >"$tmp/urls" <<'PY' || die "cannot read the network logs"
import json, sys
base = sys.argv[1]
site = base.rsplit(":", 1)[0]
for path in sys.argv[2:]:
    with open(path) as f:
        log = json.load(f)
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    for e in log["events"]:
        p = e.get("params") or {}
        if names.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        nik = p.get("network_isolation_key", "")
        if p.get("initiator") == base or nik.split(" ")[0] == site:
            print(p["url"])
        elif p.get("initiator") not in (None, "not an origin"):
            print("initiated by " + p["initiator"] + ": " + p["url"])
PY
[ -s "$tmp/urls" ] || die "the network logs hold no request of the page"
other=$(grep -v "^$url/" "$tmp/urls" | sort -u || true)
[ -z "$other" ] || die "requests to other origins: $other"
for p in / /app.js /style.css /status.json /api/history /api/events; do
	grep -qx "$url$p\(?.*\)\{0,1\}" "$tmp/urls" || die "the network log has no request for $p"
done
ok "network log: $(sort -u "$tmp/urls" | wc -l) URLs, every one at $url"
if grep -i 'CONSOLE.*\(Content Security Policy\|Refused to\|Uncaught\)' "$tmp/chromium.log"; then
	die "the browser reported a policy violation or an error"
fi
ok "no content security policy violation, no uncaught error"
weight=0
for p in / /app.js /style.css; do
	n=$(inS curl -sf -o /dev/null -w '%{size_download}' "$url$p")
	weight=$((weight + n))
done
[ "$weight" -lt 61440 ] || die "the page weighs $weight bytes, over 60 KB"
ok "page weight $weight bytes (under 60 KB)"
ok "screenshots in $shots"
finish
