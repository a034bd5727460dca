#!/bin/sh
# A real Prometheus (Debian's package) scrapes a running `sparkmon serve`;
# its HTTP API must return our series with the right values, and
# `promtool check metrics` must find nothing wrong with either format. The
# fake nvidia-smi names its GPUs and processes with bytes that are not
# UTF-8: the scrape and /status.json must stay valid all the same.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools prometheus promtool curl perl jq iconv

tmpdir prom
t_fail_fast=yes t_logs="$tmp/*.log"

port=$(free_port)
fake_smi=$(cd "$(dirname "$0")/../fixtures/gpu/bin" && pwd)/nvidia-smi-invalid-utf8
# The endpoint probe asks loopback only (a closed port).
printf '[general]\ninterval = 1s\n[http]\nlisten = 127.0.0.1:%s\n[gpu]\nnvidia_smi = %s\n[endpoint]\nip_urls = http://127.0.0.1:1/\n' \
	"$port" "$fake_smi" >"$tmp/sparkmon.conf"
serve "$tmp/sparkmon.conf" "$tmp/sparkmon.log"
wait_http "http://127.0.0.1:$port/metrics" -f

# promtool reads the text format from stdin and prints problems.
curl -sf -D "$tmp/text.headers" "http://127.0.0.1:$port/metrics" >"$tmp/metrics.txt" ||
	fail "no /metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/text.headers" ||
	fail "text format served as: $(grep -i '^content-type' "$tmp/text.headers")"
out=$(promtool check metrics <"$tmp/metrics.txt" 2>&1) || fail "promtool (text): $out"
[ -z "$out" ] || fail "promtool (text) reports: $out"
ok "promtool check metrics: clean (text 0.0.4, served as text/plain; version=0.0.4)"

# OpenMetrics, asked for as Prometheus asks: the answer must say so.
accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
curl -sf -D "$tmp/om.headers" -H "Accept: $accept" "http://127.0.0.1:$port/metrics" \
	>"$tmp/metrics.om" || fail "no /metrics in OpenMetrics"
grep -qi '^Content-Type: application/openmetrics-text; version=1.0.0' "$tmp/om.headers" ||
	fail "OpenMetrics not negotiated: $(grep -i '^content-type' "$tmp/om.headers")"
grep -q '^# TYPE sparkmon_status gauge' "$tmp/metrics.om" || fail "OpenMetrics output lacks TYPE lines"
[ "$(tail -1 "$tmp/metrics.om")" = "# EOF" ] || fail "OpenMetrics output without # EOF"
# promtool's OpenMetrics reader is the one of its block importer, which
# wants a timestamp on every sample: every sample must come back a series.
samples=$(grep -c '^[a-z]' "$tmp/metrics.om")
sed 's/^\([a-z].*\) \([^ ]*\)$/\1 \2 1700000000/' "$tmp/metrics.om" >"$tmp/stamped.om"
out=$(promtool tsdb create-blocks-from openmetrics "$tmp/stamped.om" "$tmp/omblocks" 2>&1) ||
	fail "promtool (OpenMetrics): $out"
series=$(echo "$out" | awk 'length($1) == 26 && $7 ~ /^[0-9]+$/ {n += $7} END {print n + 0}')
[ "$series" = "$samples" ] || fail "promtool read $series series of $samples OpenMetrics samples: $out"
# The lint of the text format, on the OpenMetrics families named back.
awk '/^# EOF$/ { next }
	/^# HELP / { help = $0; name = $3; next }
	/^# TYPE / && $4 == "counter" { sub("^# HELP " name, "# HELP " name "_total", help)
		print help; print "# TYPE " name "_total counter"; next }
	/^# TYPE / { print help; print; next }
	{ print }' "$tmp/metrics.om" >"$tmp/om-as-text"
out=$(promtool check metrics <"$tmp/om-as-text" 2>&1) || fail "promtool (OpenMetrics as text): $out"
[ -z "$out" ] || fail "promtool (OpenMetrics as text) reports: $out"
ok "OpenMetrics negotiated (Content-Type), $series series read by promtool's OpenMetrics parser"

# Names with bytes that are not UTF-8: each such byte is a '?' in the label
# values, valid characters are kept, and both formats are UTF-8 throughout.
bad_name='NVIDIA ? H100 ?? X??'
good_name=$(printf 'caf\303\251 \342\202\254 GPU')
for f in metrics.txt metrics.om; do
	iconv -f UTF-8 -t UTF-8 "$tmp/$f" >/dev/null 2>&1 || fail "$f is not valid UTF-8"
	grep -qF "name=\"$bad_name\"" "$tmp/$f" || fail "$f lacks name=\"$bad_name\""
	grep -qF "name=\"$good_name\"" "$tmp/$f" || fail "$f lacks name=\"$good_name\""
done
ok "GPU names that are not UTF-8: both formats valid UTF-8, '$bad_name' and '$good_name'"
curl -sf "http://127.0.0.1:$port/status.json" >"$tmp/status.json" || fail "no /status.json"
# jq reads bytes that are not UTF-8 as U+FFFD: iconv is the strict reader.
iconv -f UTF-8 -t UTF-8 "$tmp/status.json" >/dev/null 2>&1 || fail "/status.json is not valid UTF-8"
jq -e --arg bad "$bad_name" --arg good "$good_name" '
	.probes.gpu.status == "ok" and .gpu.gpus[0].name == $bad and .gpu.gpus[1].name == $good
	and .gpu.processes[0].name == "/opt/?evil????"' "$tmp/status.json" >/dev/null ||
	fail "/status.json: $(jq -c .gpu "$tmp/status.json" 2>&1 | cut -c1-400)"
ok "/status.json parses (jq), names made valid: '$bad_name', '/opt/?evil????'"

# Prometheus scrapes through a proxy that writes down what each scrape
# asked for and the Content-Type that came back (one request per
# connection; Prometheus reconnects).
xport=$(free_port)
perl -MIO::Socket::INET -e '
	my ($listen, $to, $log) = @ARGV;
	my $l = IO::Socket::INET->new(Listen => 8, LocalAddr => "127.0.0.1:$listen", ReuseAddr => 1)
		or die "proxy: $!";
	open(my $lf, ">>", $log) or die; $lf->autoflush(1);
	for (1 .. 500) {
		my $c = $l->accept or next;
		my ($req, $accept) = ("", "");
		while (defined(my $h = <$c>)) {
			$accept = $1 if $h =~ /^Accept:\s*(.*?)\r?$/i;
			next if $h =~ /^Connection:/i;
			last if $h =~ /^\r?$/;
			$req .= $h;
		}
		my $s = IO::Socket::INET->new("127.0.0.1:$to") or die "proxy: $!";
		print $s $req, "Connection: close\r\n\r\n";
		my $resp = do { local $/; <$s> } // "";
		my ($type) = $resp =~ /^Content-Type:\s*(.*?)\r?$/mi;
		print $lf "accept=$accept type=", $type // "", "\n";
		print $c $resp;
		close $s; close $c;
	}' "$xport" "$port" "$tmp/scrapes.log" >"$tmp/proxy.log" 2>&1 &
kill_at_exit $!

pport=$(free_port)
cat >"$tmp/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sparkmon
    static_configs:
      - targets: ['127.0.0.1:$xport']
CONF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
kill_at_exit $!
api="http://127.0.0.1:$pport/api/v1"

# query EXPR -> the first sample's value, or nothing.
query() {
	curl -sf --get --data-urlencode "query=$1" "$api/query" 2>/dev/null |
		perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
			my $r = $d->{data}{result}; print $r->[0]{value}[1] if @$r' 2>/dev/null
}

val=""
for _ in $(seq 1 60); do
	val=$(query 'up{job="sparkmon"}' || true)
	[ "$val" = 1 ] && [ -n "$(query sparkmon_memory_total_bytes || true)" ] && break
	sleep 0.5
done
[ "$val" = 1 ] || fail "Prometheus never scraped sparkmon successfully (up=$val)"
ok "Prometheus scrapes sparkmon: up = 1"

health=$(curl -sf "$api/targets" | perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
	print $d->{data}{activeTargets}[0]{health}, " ", $d->{data}{activeTargets}[0]{lastError}')
[ "$health" = "up " ] || fail "target health: $health"
ok "target healthy, no scrape error"

# The scrapes negotiated OpenMetrics (Prometheus asks for it first), and
# every one of them did.
grep -q 'accept=application/openmetrics-text;version=1.0.0' "$tmp/scrapes.log" ||
	fail "Prometheus did not ask for OpenMetrics: $(head -3 "$tmp/scrapes.log")"
n=$(grep -c 'type=application/openmetrics-text; version=1.0.0' "$tmp/scrapes.log")
all=$(grep -c . "$tmp/scrapes.log")
[ "$n" -ge 1 ] && [ "$n" = "$all" ] ||
	fail "$n of $all scrapes answered in OpenMetrics: $(sort "$tmp/scrapes.log" | uniq -c)"
ok "Prometheus scraped OpenMetrics ($n of $all scrapes, Content-Type checked)"

total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
expect_total=$((total_kb * 1024))
got=$(query sparkmon_memory_total_bytes)
[ "$got" = "$expect_total" ] || fail "sparkmon_memory_total_bytes = $got, /proc/meminfo says $expect_total"
ok "sparkmon_memory_total_bytes = $got (MemTotal)"

got=$(query 'sparkmon_build_info{version="0.1.0"}')
[ "$got" = 1 ] || fail "sparkmon_build_info{version=\"0.1.0\"} = '$got'"
ok "sparkmon_build_info{version=\"0.1.0\"} = 1"

fwd=$(cat /proc/sys/net/ipv4/ip_forward)
got=$(query sparkmon_ip_forward_enabled)
[ "$got" = "$fwd" ] || fail "sparkmon_ip_forward_enabled = $got, kernel says $fwd"
ok "sparkmon_ip_forward_enabled = $got"

got=$(query 'sparkmon_probe_success{probe="memory"}')
[ "$got" = 1 ] || fail "sparkmon_probe_success{probe=\"memory\"} = '$got'"
ok "sparkmon_probe_success{probe=\"memory\"} = 1"

got=$(query "nvidia_smi_gpu_info{name=\"$bad_name\"}")
[ "$got" = 1 ] || fail "nvidia_smi_gpu_info{name=\"$bad_name\"} = '$got'"
ok "nvidia_smi_gpu_info{name=\"$bad_name\"} = 1"

# The overall status equals the worst check, as the document says.
want=$(curl -sf "http://127.0.0.1:$port/status.json" | perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{exit_code}')
got=$(query sparkmon_status)
[ "$got" = "$want" ] || fail "sparkmon_status = $got, status.json exit_code = $want"
ok "sparkmon_status = $got (matches /status.json)"
n=$(curl -sf --get --data-urlencode 'query=count(sparkmon_check_status)' "$api/query" |
	perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{data}{result}[0]{value}[1]')
[ "${n:-0}" -ge 3 ] || fail "only ${n:-0} sparkmon_check_status series"
ok "$n sparkmon_check_status series"
finish
