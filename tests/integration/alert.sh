#!/bin/sh
# Alerts that reach a person, once per change. A real VPN path (three
# network namespaces, wireguard-go, a MASQUERADE rule) is broken and
# repaired for real in the server namespace: ip_forward set to 0 through
# the namespace's /proc/sys, the MASQUERADE rule deleted, the required peer
# removed. A receiver in the "internet" namespace (python3 http.server)
# plays ntfy, Gotify and a Slack webhook for cron-style `sparkmon check
# --changes` runs, and sparkmon's own JSON for the daemon.
#
# Asserted: runs print nothing while nothing changes; each transition
# gives exactly one line and one notification per receiver, with the right
# text and headers; a shortened remind gives a reminder; a recovery says
# RECOVERED; a receiver that hangs, answers 500 or is down costs a log
# line and a retry at the next run, and leaves the exit code (the plain
# check's) and the run's time (a liveness bound) alone; a corrupt state
# file is reported and replaced; the daemon sends the same transitions;
# no token of a URL appears in any output, log or page.
set -eu
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/vpn_path.sh"
need_tools ip wg wireguard-go iptables python3 jq curl timeout
need_root "network namespaces, iptables, wireguard-go"

tmpdir alert
t_logs="$tmp/check.err $tmp/serve.log $tmp/rx.log"
vpn_path_setup al
srv=$vp_server
rx=198.51.100.2:8080
masq="POSTROUTING -s 10.100.0.0/24 -o $vp_uplink -j MASQUERADE"
ip netns exec "$srv" iptables -t nat -A $masq

# ---- the receiver ------------------------------------------------------------
# One JSON line per request in $tmp/rx.log; $tmp/mode/<service> says how
# to answer (ok, 500, hang: no answer for 30 s).
mkdir "$tmp/mode"
cat >"$tmp/rx.py" <<'PY'
import http.server, json, os, sys, time
log, modes = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        svc = self.path.split("/")[1]
        try:
            mode = open(os.path.join(modes, svc)).read().strip()
        except FileNotFoundError:
            mode = "ok"
        with open(log, "a") as f:
            f.write(json.dumps({"svc": svc, "mode": mode, "path": self.path,
                                "headers": dict(self.headers),
                                "body": body.decode()}) + "\n")
        if mode == "hang":
            time.sleep(30)
            return
        self.send_response(500 if mode == "500" else 200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("198.51.100.2", 8080), H).serve_forever()
PY
touch "$tmp/rx.log"
rx_start() {
	ip netns exec "$vp_inet" python3 "$tmp/rx.py" "$tmp/rx.log" "$tmp/mode" &
	rx_pid=$!
	kill_at_exit "$rx_pid"
	for _ in $(seq 50); do
		ip netns exec "$srv" curl -s -o /dev/null -X POST "http://$rx/probe" && return 0
		sleep 0.1
	done
	die "the receiver does not answer"
}
rx_start

# delivered SVC [JQ-FILTER]: how many requests SVC answered with 200 (that
# also match the filter).
delivered() {
	jq -s --arg s "$1" "[.[] | select(.svc == \$s and .mode == \"ok\") | select(${2:-true})] | length" \
		"$tmp/rx.log"
}
# last SVC FIELD: a field of the last request SVC received.
last() {
	jq -rs --arg s "$1" "[.[] | select(.svc == \$s)] | last | $2" "$tmp/rx.log"
}

# ---- cron-style runs ------------------------------------------------------------
mkdir "$tmp/state" "$tmp/state-d"
config() { # config FILE STATE_DIR REMIND NOTIFY-LINES
	cat >"$1" <<EOF
[general]
interval = 1s
state_dir = $2
[wireguard]
interfaces = $vp_wg
wg_quick_file =
[peer laptop]
public_key = $vp_client_pub
required = yes
[firewall]
nft =
[endpoint]
ip_urls =
[gpu]
nvidia_smi = /nonexistent/nvidia-smi
[ssh]
enabled = no
[http]
listen = 127.0.0.1:19586
listen_wireguard = no
[alert]
remind = $3
timeout = 1s
$4
EOF
}
notify="notify = ntfy http://$rx/ntfy/alerts-SECRETTOKEN1
notify = gotify http://$rx/gotify/message?token=SECRETTOKEN2
notify = slack http://$rx/slack/services/T0/B0/SECRETTOKEN3"
config "$tmp/cron.conf" "$tmp/state" 1h "$notify"
config "$tmp/remind.conf" "$tmp/state" 2s "$notify"
only=forwarding.ipv4,firewall.masquerade,wireguard.peers

# run [CONF]: `sparkmon check --changes` in the server namespace, as cron
# would run it; $rc, its output in $out, its time in $ms.
n_run=0
run() {
	n_run=$((n_run + 1))
	t0=$(date +%s%N)
	rc=0
	ip netns exec "$srv" timeout 60 "$SPARKMON" -c "${1:-$tmp/cron.conf}" check --changes \
		--only "$only" >"$tmp/out.$n_run" 2>"$tmp/err.$n_run" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -ne 124 ] || die "check --changes did not end within 60 s"
	out=$(cat "$tmp/out.$n_run")
	cat "$tmp/err.$n_run" >>"$tmp/check.err"
}
# plain_rc: the exit code of the same check without --changes.
plain_rc() {
	prc=0
	ip netns exec "$srv" "$SPARKMON" -c "$tmp/cron.conf" check -q --only "$only" \
		>/dev/null 2>&1 || prc=$?
	echo "$prc"
}
# quiet WHY: a run prints nothing and sends nothing.
quiet() {
	before=$(wc -l <"$tmp/rx.log")
	run
	[ -z "$out" ] || fail "$1: printed: $out"
	[ "$(wc -l <"$tmp/rx.log")" = "$before" ] || fail "$1: sent a notification"
}
# once ID TEXT: each of the three receivers has exactly one delivered
# message with TEXT about ID, the ntfy one with the right headers.
once() {
	for s in ntfy gotify slack; do
		n=$(delivered "$s" ".body | contains(\"$2\")")
		[ "$n" = 1 ] || fail "$s received '$2' $n times"
	done
	case $2 in
	RECOVERED*) want_prio=default ;;
	STILL*) want_prio=high ;;
	*) want_prio=urgent ;;
	esac
	[ "$(last ntfy '.headers.Priority')" = "$want_prio" ] ||
		fail "ntfy Priority for $1 is $(last ntfy '.headers.Priority'), not $want_prio"
	last ntfy '.headers.Title' | grep -q "^sparkmon .*$1" ||
		fail "ntfy Title does not name $1: $(last ntfy '.headers.Title')"
	last gotify '.body | fromjson | .message' | grep -q "$2" ||
		fail "gotify message is not JSON with '$2'"
	last slack '.body | fromjson | .text' | grep -q "$2" ||
		fail "slack text is not JSON with '$2'"
	[ "$(last gotify '.headers["Content-Type"]')" = application/json ] ||
		fail "gotify Content-Type"
}

run
[ "$rc" = 0 ] && [ -z "$out" ] || die "baseline: rc $rc, printed: $out $(cat "$tmp/err.$n_run")"
ok "baseline: all selected checks OK, nothing printed"
for i in 1 2 3; do
	quiet "an unchanged run ($i)"
	sleep 1
done
ok "cron-style runs a second apart print and send nothing while nothing changes"

# ip_forward off, through the namespace's own /proc/sys.
ip netns exec "$srv" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward'
run
[ "$rc" = 2 ] || fail "ip_forward off: exit $rc, not 2"
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && case $out in "CRITICAL forwarding.ipv4: "*) true ;; *) false ;; esac ||
	fail "ip_forward off: printed '$out'"
once forwarding.ipv4 "CRITICAL forwarding.ipv4:"
quiet "after ip_forward off"
quiet "after ip_forward off, again"
ok "ip_forward off: one line, one notification per receiver (ntfy, Gotify, Slack)"

# The MASQUERADE rule deleted.
ip netns exec "$srv" iptables -t nat -D $masq
run
case $out in *"firewall.masquerade"*) ;; *) fail "masquerade gone: printed '$out'" ;; esac
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "masquerade gone: more than one line: $out"
m=$(printf '%s' "$out" | cut -d' ' -f1)
line=$out
once firewall.masquerade "$m firewall.masquerade:"
quiet "after the rule was deleted"
ok "MASQUERADE deleted: '$line'"

# A shortened remind: everything still not OK, once.
sleep 2
run "$tmp/remind.conf"
printf '%s\n' "$out" | grep -q '^STILL CRITICAL forwarding.ipv4 (for ' &&
	printf '%s\n' "$out" | grep -q "^STILL $m firewall.masquerade" ||
	fail "reminder: printed '$out'"
once forwarding.ipv4 "STILL CRITICAL forwarding.ipv4"
run "$tmp/remind.conf"
[ -z "$out" ] || fail "a second reminder right after the first: $out"
ok "remind = 2s: one reminder of both, then quiet"

# Receivers that hang and answer 500 while ip_forward recovers.
echo hang >"$tmp/mode/ntfy"
echo 500 >"$tmp/mode/gotify"
ip netns exec "$srv" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
run
want=$(plain_rc)
[ "$rc" = "$want" ] || fail "with failing receivers: exit $rc, the plain check's is $want"
[ "$ms" -lt 15000 ] || fail "with failing receivers the run took $ms ms"
case $out in "RECOVERED forwarding.ipv4 (was CRITICAL for "*) ;; *) fail "recovery printed '$out'" ;; esac
[ "$(delivered slack '.body | contains("RECOVERED forwarding.ipv4")')" = 1 ] ||
	fail "slack did not get the recovery"
grep -q "notification to http://$rx/… failed after 1 attempt (.*timed out.*); its 1 change kept" \
	"$tmp/err.$n_run" || fail "no log line for the hanging receiver: $(cat "$tmp/err.$n_run")"
grep -q "notification to http://$rx/… failed after 3 attempts (HTTP status 500)" "$tmp/err.$n_run" ||
	fail "no log line for the receiver answering 500: $(cat "$tmp/err.$n_run")"
[ "$(grep -c '^pending' "$tmp/state/alerts")" = 2 ] || fail "the two undelivered are not pending"
ok "hang and 500: exit $rc as the plain check, ${ms} ms, logged, kept pending; slack got it"

# Down: nobody listens. Nothing changed: nothing printed, the pending tried.
kill "$rx_pid"
wait "$rx_pid" 2>/dev/null || true
rm -f "$tmp/mode/ntfy" "$tmp/mode/gotify"
run
[ -z "$out" ] || fail "receiver down: printed '$out'"
[ "$(grep -c "failed after [1-3] attempts\? (.*[Cc]onnect" "$tmp/err.$n_run")" = 2 ] ||
	fail "receiver down: not two log lines: $(cat "$tmp/err.$n_run")"
[ "$ms" -lt 15000 ] || fail "receiver down: the run took $ms ms"
ok "receiver down: nothing printed, both retries logged, ${ms} ms"

# Back: the next run delivers what was kept, once.
rx_start
run
[ -z "$out" ] || fail "receiver back: printed '$out'"
once forwarding.ipv4 "RECOVERED forwarding.ipv4"
[ "$(grep -c '^pending' "$tmp/state/alerts")" = 0 ] || fail "still pending after delivery"
quiet "after the retry"
ok "receiver back: the kept recovery delivered once to each, nothing printed"

# The rule back.
ip netns exec "$srv" iptables -t nat -A $masq
run
case $out in "RECOVERED firewall.masquerade"*) ;; *) fail "masquerade back: printed '$out'" ;; esac
once firewall.masquerade "RECOVERED firewall.masquerade"
ok "MASQUERADE back: RECOVERED"

# A corrupt state file: reported, replaced, and what is not OK is news again.
printf 'sparkmon-alerts 1\ncheck\tforwarding.ipv4\tbroken\n' >"$tmp/state/alerts"
run
grep -q "$tmp/state/alerts: not a sparkmon alert state (corrupt or cut); ignored and replaced" \
	"$tmp/err.$n_run" || fail "corrupt state not reported: $(cat "$tmp/err.$n_run")"
head -1 "$tmp/state/alerts" | grep -qx 'sparkmon-alerts 1' && tail -1 "$tmp/state/alerts" | grep -qx end ||
	fail "corrupt state not replaced"
[ "$rc" = 0 ] || fail "corrupt state: exit $rc"
quiet "after the corrupt state was replaced"
ok "a corrupt state file is reported and replaced"

# ---- the daemon -----------------------------------------------------------------------
config "$tmp/serve.conf" "$tmp/state-d" 1h "notify = json http://$rx/json/hook-SECRETTOKEN4"
serve "$tmp/serve.conf" "$tmp/serve.log" "$srv"
wait_http -n "$srv" http://127.0.0.1:19586/healthz
# changes ID KIND: how many daemon messages hold a change of ID of KIND.
changes() {
	jq -s --arg id "$1" --arg k "$2" '[.[] | select(.svc == "json" and .mode == "ok") |
		.body | fromjson | .changes[] | select(.check == $id and .kind == $k)] | length' \
		"$tmp/rx.log"
}
# wait_change ID KIND [N]: up to 10 s for the daemon to have sent it N
# times (1).
wait_change() {
	for _ in $(seq 100); do
		[ "$(changes "$1" "$2")" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	die "the daemon sent no '$2' of $1"
}
sleep 3 # its first rounds: whatever is not OK here goes out once
ip netns exec "$srv" wg set "$vp_wg" peer "$vp_client_pub" remove
wait_change wireguard.peers new
ip netns exec "$srv" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward'
wait_change forwarding.ipv4 new
ip netns exec "$srv" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
wait_change forwarding.ipv4 recovered
ip netns exec "$srv" wg set "$vp_wg" peer "$vp_client_pub" allowed-ips "$vp_client4/32"
ping_tunnel "$vp_client" 10.100.0.1 || fail "the tunnel did not come back"
wait_change wireguard.peers recovered
sleep 3
for c in "wireguard.peers new" "forwarding.ipv4 new" "forwarding.ipv4 recovered" \
	"wireguard.peers recovered"; do
	# shellcheck disable=SC2086 # two words
	[ "$(changes $c)" = 1 ] || fail "the daemon sent '$c' $(changes $c) times"
done
grep -q "notification sent to http://$rx/… " "$tmp/serve.log" ||
	fail "the daemon logged no notification"
ok "daemon: the required peer removed and back, ip_forward off and on: one message each"

# cron beside the daemon, on the daemon's state: what the daemon reported
# is not reported again.
ip netns exec "$srv" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward'
wait_change forwarding.ipv4 new 2
before=$(wc -l <"$tmp/rx.log")
run "$tmp/serve.conf"
[ -z "$out" ] && [ "$(wc -l <"$tmp/rx.log")" = "$before" ] ||
	fail "cron on the daemon's state reported again: '$out'"
ip netns exec "$srv" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
ok "cron on the daemon's state file: nothing the daemon reported goes out twice"

# ---- no token anywhere ----------------------------------------------------------------
ip netns exec "$srv" curl -s http://127.0.0.1:19586/status.json >"$tmp/status.json"
ip netns exec "$srv" curl -s http://127.0.0.1:19586/ >"$tmp/page.html"
"$SPARKMON" -c "$tmp/cron.conf" config >"$tmp/config.out"
"$SPARKMON" -c "$tmp/serve.conf" config >>"$tmp/config.out"
grep -q "notify = gotify http://$rx/…" "$tmp/config.out" || fail "config does not show the URL redacted"
# shellcheck disable=SC2086 # the file list
if grep -l SECRETTOKEN "$tmp"/out.* "$tmp"/err.* "$tmp/serve.log" "$tmp/status.json" \
	"$tmp/page.html" "$tmp/config.out" "$tmp/state/alerts" "$tmp/state-d/alerts"; then
	fail "a token appears above"
else
	ok "no token in $n_run runs' output and logs, the daemon's log, status.json, the page, config"
fi
# The process facing the network holds no notify URL: its memory, read
# whole through /proc/PID/mem, has no token, also after a reload (whose
# configuration bytes come from the collector).
kill -HUP "$serve_pid"
for _ in $(seq 50); do
	grep -q "reload: configuration reloaded" "$tmp/serve.log" && break
	sleep 0.1
done
grep -q "reload: configuration reloaded" "$tmp/serve.log" || fail "no reload in the daemon's log"
if python3 - "$serve_pid" <<'PY'; then
import re, sys
pid = sys.argv[1]
found = False
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
        if not m:
            continue
        lo, hi = int(m.group(1), 16), int(m.group(2), 16)
        if hi - lo > 1 << 28:
            continue  # a sanitizer's shadow: reserved, not data
        tail = b""
        for at in range(lo, hi, 1 << 20):
            try:
                mem.seek(at)
                chunk = tail + mem.read(min(1 << 20, hi - at))
            except (OSError, ValueError, OverflowError):
                break
            if b"SECRETTOKEN4" in chunk:
                print("token in", line.strip())
                found = True
                break
            tail = chunk[-16:]
sys.exit(1 if found else 0)
PY
	ok "the web process's memory holds no notify URL token"
else
	fail "the web process's memory holds the notify URL's token"
fi
finish
