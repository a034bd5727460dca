#!/bin/sh
# A probe that fails after a good run: `sparkmon serve` keeps publishing the
# last good reading, marked stale with a growing age, and the probe marked
# as it failed. The fake nvidia-smi answers once (the GPU query and the
# process query), then every GPU query hangs until the probe's deadline.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools curl jq perl

tmpdir stale
t_fail_fast=yes t_logs=$tmp/sparkmon.log
fixtures=$(realpath "$(dirname "$0")/../fixtures/gpu/bin")

cat >"$tmp/nvidia-smi" <<EOF
#!/bin/sh
case "\$1" in
--query-gpu=*)
	[ -e "$tmp/answered" ] && { echo \$\$ >"$tmp/hanging.pid"; exec sleep 3600; }
	touch "$tmp/answered"
	;;
esac
exec "$fixtures/nvidia-smi-h100" "\$@"
EOF
chmod +x "$tmp/nvidia-smi"

port=$(free_port)
cat >"$tmp/sparkmon.conf" <<CONF
[general]
interval = 1s
[gpu]
nvidia_smi = $tmp/nvidia-smi
interval = 1s
timeout = 300ms
[http]
listen = 127.0.0.1:$port
CONF
serve "$tmp/sparkmon.conf" "$tmp/sparkmon.log"
url=http://127.0.0.1:$port/status.json

# The first (good) reading.
for _ in $(seq 1 50); do
	t=$(curl -sf "$url" 2>/dev/null | jq -r '.gpu.gpus[0].temperature_celsius // empty') || true
	[ -n "$t" ] && break
	sleep 0.1
done
[ "$t" = 34 ] || fail "no GPU reading at first (temperature '$t')"
ok "first reading: 34 °C"

# Every document from then on has that reading, each one older. Sampled
# faster than the probe runs, so that every published round is seen.
prev_age=-1 timed_out=0 rounds=0
end=$(($(date +%s) + 6))
while [ "$(date +%s)" -lt "$end" ]; do
	doc=$(curl -sf "$url") || fail "status.json not served"
	t=$(printf '%s' "$doc" | jq -r '.gpu.gpus[0].temperature_celsius // "missing"')
	st=$(printf '%s' "$doc" | jq -r '.probes.gpu.status')
	age=$(printf '%s' "$doc" | jq -r '.gpu.age_seconds // -1')
	stale=$(printf '%s' "$doc" | jq -r '.gpu.stale')
	[ "$t" = 34 ] || fail "GPU reading lost while the probe is $st (temperature $t)"
	if [ "$st" = timed_out ]; then
		timed_out=$((timed_out + 1))
		[ "$stale" = true ] || fail "a timed-out probe's reading is not marked stale"
	fi
	[ "$age" -ge "$prev_age" ] || fail "age went back from $prev_age to $age"
	prev_age=$age
	rounds=$((rounds + 1))
	sleep 0.2
done
[ "$timed_out" -gt 0 ] || fail "the probe was never marked timed_out"
[ "$prev_age" -ge 4 ] || fail "the reading's age did not grow (last $prev_age s)"
ok "$rounds documents: reading kept, stale, probe timed_out, age grew to $prev_age s"
grep -q "probe gpu: timed_out" "$tmp/sparkmon.log" || fail "the timeout was not logged"
n=$(grep -c "probe gpu: timed_out" "$tmp/sparkmon.log")
[ "$n" -eq 1 ] || fail "the timeout was logged $n times, not once"
ok "the state change was logged once"

# While nvidia-smi hangs for a long time, the other probes keep their own
# schedule and requests keep being answered at once.
kill "$serve_pid" 2>/dev/null || true
port2=$(free_port)
sed -e "s/^timeout = 300ms/timeout = 8s/" -e "s/127.0.0.1:$port/127.0.0.1:$port2/" \
	"$tmp/sparkmon.conf" >"$tmp/hang.conf"
rm -f "$tmp/answered" "$tmp/hanging.pid"
serve "$tmp/hang.conf" "$tmp/hang.log"
metrics=http://127.0.0.1:$port2/metrics
last_success() {
	curl -sf --max-time 1 "$metrics" |
		sed -n "s/^sparkmon_probe_last_success_timestamp_seconds{probe=\"$1\"} //p"
}
mem_success() { last_success memory; }
# The GPU probe is inside its hang: the fake nvidia-smi of its second run
# is alive (it wrote its pid, then became the sleep), and the probe has not
# finished a run since.
hanging() {
	[ -s "$tmp/hanging.pid" ] && kill -0 "$(cat "$tmp/hanging.pid")" 2>/dev/null
}
for _ in $(seq 1 50); do
	hanging && break
	sleep 0.1
done
hanging || fail "the GPU probe never reached the hanging nvidia-smi"
sleep 1.5
first=$(mem_success) || fail "/metrics not answered while nvidia-smi hangs"
gpu_first=$(last_success gpu)
hanging || fail "nvidia-smi is no longer hanging at the first sample"
sleep 3
last=$(mem_success) || fail "/metrics not answered while nvidia-smi hangs"
gpu_last=$(last_success gpu)
hanging || fail "nvidia-smi stopped hanging before the last sample"
[ -n "$gpu_first" ] && [ "$gpu_first" = "$gpu_last" ] ||
	fail "the GPU probe finished a run during the hang ($gpu_first -> $gpu_last)"
[ -n "$first" ] && [ -n "$last" ] || fail "no memory probe success timestamp"
[ "$(printf '%.0f' "$last")" -ge "$(($(printf '%.0f' "$first") + 2))" ] ||
	fail "the memory probe stalled while nvidia-smi hung ($first -> $last)"
gpu=$(curl -sf --max-time 1 "http://127.0.0.1:$port2/status.json" | jq -r '.probes.gpu.status')
ok "memory probe ran on ($first -> $last) while the GPU probe hung in nvidia-smi pid $(cat "$tmp/hanging.pid") (gpu: $gpu, last success $gpu_last)"
finish
