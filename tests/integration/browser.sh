#!/bin/sh
# Headless Chromium (Debian's package) loads the status page from a running
# `sparkmon serve`; the rendered DOM must show the checks with their
# traffic lights, the memory table, the GPU table (a fake nvidia-smi with an
# H100 and a GB10), the WireGuard peers of a real wireguard-go device (a
# tunnel between two network namespaces, so that there is a handshake and
# traffic) with their names, state, endpoint, handshake age and traffic,
# and the history plots. The daemon and the browser run in the first
# namespace. A peer name made of HTML must show up as text. Screenshots are
# left under the build folder for a person to look at.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools chromium curl perl jq ip wg wireguard-go ping
need_root "network namespaces, TUN devices"

tag=$$
nsA=smbrA$tag nsB=smbrB$tag
ifA=smbra$tag ifB=smbrb$tag # at most 15 bytes
vethA=smbva$tag vethB=smbvb$tag
portA=$((40000 + tag % 10000)) portB=$((50000 + tag % 10000))
tmpdir browser
t_fail_fast=yes t_logs=$tmp/sparkmon.log
shots=$(realpath "$(dirname "$SPARKMON")")/screenshots
fixtures=$(realpath "$(dirname "$0")/../fixtures/gpu")
inA() { ip netns exec "$nsA" "$@"; }
inB() { ip netns exec "$nsB" "$@"; }

# ---- a WireGuard tunnel between two namespaces -------------------------------
netns_pair "$nsA" "$nsB" "$vethA" "$vethB" 192.168.248
umask 077
wg genkey >"$tmp/a.key"
wg genkey >"$tmp/b.key"
wg genkey >"$tmp/c.key"
umask 022
pubA=$(wg pubkey <"$tmp/a.key")
pubB=$(wg pubkey <"$tmp/b.key")
pubC=$(wg pubkey <"$tmp/c.key")
wg_go "$nsA" "$ifA" "$tmp/wg-go-a.log"
wg_go "$nsB" "$ifB" "$tmp/wg-go-b.log"
# B is the named peer that talks; C never does (its endpoint is made up).
inA wg set "$ifA" private-key "$tmp/a.key" listen-port "$portA" \
	peer "$pubB" endpoint "192.168.248.2:$portB" allowed-ips 10.78.0.2/32 \
	peer "$pubC" endpoint "192.0.2.9:51820" allowed-ips 10.78.0.3/32
inB wg set "$ifB" private-key "$tmp/b.key" listen-port "$portB" \
	peer "$pubA" endpoint "192.168.248.1:$portA" allowed-ips 10.78.0.1/32
ip -n "$nsA" addr add 10.78.0.1/24 dev "$ifA"
ip -n "$nsB" addr add 10.78.0.2/24 dev "$ifB"
ip -n "$nsA" link set "$ifA" up
ip -n "$nsB" link set "$ifB" up
ping_tunnel "$nsA" 10.78.0.2 || fail "no traffic through the tunnel"
ok "tunnel up"

# ---- a fake nvidia-smi: an H100 and a GB10 (unified memory) -------------------
cat "$fixtures/h100.csv" >"$tmp/gpus.csv"
sed 's/^0,/1,/' "$fixtures/gb10.csv" >>"$tmp/gpus.csv"
printf '#!/bin/sh\ncase "$1" in\n--query-gpu=*) exec cat "%s" ;;\n--query-compute-apps=*) exec cat "%s" ;;\nesac\nexit 2\n' \
	"$tmp/gpus.csv" "$fixtures/h100-apps.csv" >"$tmp/nvidia-smi"
chmod +x "$tmp/nvidia-smi"

# The peer's name is HTML: the page must show it as text.
port=$((20000 + tag % 10000))
cat >"$tmp/sparkmon.conf" <<CONF
[general]
interval = 1s
[gpu]
nvidia_smi = $tmp/nvidia-smi
interval = 1s
[wireguard]
interfaces = $ifA
[peer <b>bold</b> & "laptop"]
public_key = $pubB
required = yes
[http]
listen = 127.0.0.1:$port
[ssh]
enabled = yes
port = 22
interval = 1s
CONF
# An SSH server of a few lines on port 22: its identification line, then it
# closes.
inA perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(Listen => 5, LocalAddr => "0.0.0.0", LocalPort => 22,
		ReuseAddr => 1) or die "ssh stub: $!\n";
	alarm 120;
	while (my $c = $s->accept) { print $c "SSH-2.0-Stub_1.0 <i>x</i>\r\n"; close $c }' &
kill_at_exit $!
serve "$tmp/sparkmon.conf" "$tmp/sparkmon.log" "$nsA"
wait_http -n "$nsA" "http://127.0.0.1:$port/status.json" -f
# A few rounds of history with traffic in between (a rate needs two readings).
for _ in 1 2 3; do
	inA ping -c 3 -i 0.2 -W 2 -s 1000 10.78.0.2 >/dev/null || true
	sleep 1
done
inA curl -sf "http://127.0.0.1:$port/status.json" >"$tmp/status.json" || fail "no status.json"

chrome() { chromium_page "$nsA" "$@"; }
# The table row (cells joined by "|") that contains a text.
row() {
	perl -0ne 'BEGIN { $want = shift } while (/<tr>(.*?)<\/tr>/gs) { my $r = $1;
		next if index($r, $want) < 0; $r =~ s/<[^>]*>/|/g; $r =~ s/\|+/|/g; print "$r\n" }' \
		"$1" "$dom"
}

chrome dom --dump-dom "http://127.0.0.1:$port/" >"$tmp/dom.html" || fail "chromium failed"
dom=$tmp/dom.html
grep -q 'data-loaded="yes"' "$dom" || fail "the page never finished loading its data"
ok "page loaded its data"
# Counted in the checks section (the drawn path's panel repeats a hop's).
n=$(perl -0ne 'print $1 if /id="checks-section">(.*?)<\/section>/s' "$dom" |
	grep -o 'class="check [a-z]*"' | wc -l)
want=$(jq '.checks | length' "$tmp/status.json")
[ "$n" -eq "$want" ] && [ "$n" -gt 0 ] || fail "$n checks rendered, status.json has $want"
ok "$n checks rendered, as many as /status.json has"
grep -q 'data-check="memory.available"' "$dom" || fail "memory.available check missing"
grep -q 'class="light [a-z]*"' "$dom" || fail "no traffic lights"
ok "traffic lights present"
grep -q '<td>Mem:</td>' "$dom" || fail "memory table missing"
ok "memory table present"
# SSH: up, the identification line as text, the wildcard listener.
grep -q 'data-ssh-up="yes"' "$dom" || fail "the SSH section does not say up"
grep -q 'SSH-2.0-Stub_1.0 &lt;i&gt;x&lt;/i&gt;' "$dom" || fail "the SSH banner is not shown as text"
ok "SSH section: up, the identification line as text"
r=$(row 0.0.0.0)
case $r in
*"|0.0.0.0|all addresses|–|yes|"*) ok "SSH row $r" ;;
*) fail "SSH listener row: '$r'" ;;
esac

# GPU table: temperature, utilization, power; memory, or "unified" (GB10).
r=$(row H100)
case $r in
*"|34 °C|27 %|312.4 W|60Gi / 80Gi|"*) ok "GPU row $r" ;;
*) fail "H100 row: '$r'" ;;
esac
r=$(row GB10)
case $r in
*"|41 °C|3 %|4.9 W|unified|"*) ok "GPU row $r" ;;
*) fail "GB10 row: '$r'" ;;
esac

# WireGuard: the interface; the named peer (its name as text), up, its
# endpoint, a handshake seconds ago and traffic; the silent peer.
grep -q "data-interface=\"$ifA\"" "$dom" || fail "interface $ifA not shown"
grep -q '&lt;b&gt;bold&lt;/b&gt; &amp; "laptop"' "$dom" || fail "the peer name is not shown as text"
if grep -q '<b>bold</b>' "$dom"; then fail "the peer name was inserted as HTML"; fi
rx=$(jq -r --arg k "$pubB" '.wireguard.interfaces[].peers[] | select(.public_key == $k) | .rx_bytes' \
	"$tmp/status.json")
[ "$rx" -gt 0 ] || fail "status.json: no traffic from the peer"
r=$(row laptop)
case $r in
*"|up|192.168.248.2:$portB|"*" s ago|"*"Ki|"*"Ki|"*) ok "named peer row $r" ;;
*) fail "named peer row: '$r'" ;;
esac
r=$(row 192.0.2.9)
case $r in
*"|never|192.0.2.9:51820|never|0B|0B|"*) ok "silent peer row $r" ;;
*) fail "silent peer row: '$r'" ;;
esac

# Plots: memory, each GPU's temperature and utilization, each peer's traffic.
for s in memory.used_bytes gpu.0.temperature_celsius gpu.1.utilization_ratio \
	"wg.$ifA.$pubB" "wg.$ifA.$pubC"; do
	grep -q "data-series=\"$s\"" "$dom" || fail "no plot of $s"
done
grep -q '<polyline' "$dom" || fail "plots have no lines"
grep -q 'class="line1"' "$dom" || fail "the peer plot has no second (sent) line"
ok "history plots of memory, GPUs and peers, with lines"
if grep -q '<script>' "$dom"; then fail "an inline script appeared in the DOM"; fi

mkdir -p "$shots"
for mode in light dark; do
	flag=""
	[ "$mode" = dark ] && flag=--force-dark-mode
	chrome "shot-$mode" $flag --window-size=1200,1600 --screenshot="$shots/status-$mode.png" \
		"http://127.0.0.1:$port/" >/dev/null || fail "screenshot failed"
	[ -s "$shots/status-$mode.png" ] || fail "no screenshot written"
done
chrome shot-phone --window-size=390,2000 --screenshot="$shots/status-phone.png" \
	"http://127.0.0.1:$port/" >/dev/null || fail "phone screenshot failed"
ok "screenshots in $shots"
finish
