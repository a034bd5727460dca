#!/bin/sh
# A wedged driver under `sparkmon serve`: nvidia-smi is killed at its
# timeout but does not die (the fake leaves the process group the runner
# signals, as a process stuck in the kernel ignores SIGKILL). While it is
# there the daemon starts no other one, every round says since when it
# hangs, and once it is gone the next round starts nvidia-smi again.
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools curl jq perl

tmpdir gpu_wedged
t_fail_fast=yes t_logs=$tmp/sparkmon.log
wedged=6

# Each start is counted in a file next to the fake.
cat >"$tmp/nvidia-smi" <<EOF
#!/bin/sh
echo \$\$ >>"$tmp/starts"
exec perl -e 'setpgrp(0, getpgrp(getppid())) or die "setpgrp: \$!\n"; sleep($wedged)'
EOF
chmod +x "$tmp/nvidia-smi"
: >"$tmp/starts"

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
wait_http "$url"
started=$(date +%s)

starts() { wc -l <"$tmp/starts" | tr -d ' '; }

# While the first one lives: one start, and the probe says it hangs.
seen_hang=""
while [ $(($(date +%s) - started)) -lt $((wedged - 2)) ]; do
	err=$(curl -sf --max-time 2 "$url" | jq -r '.probes.gpu.error // ""') ||
		fail "status.json not served"
	case "$err" in
	"nvidia-smi started "*" s ago has not exited"*) seen_hang=$err ;;
	esac
	[ "$(starts)" -le 1 ] || fail "nvidia-smi started $(starts) times while the first one lives"
	sleep 0.3
done
[ "$(starts)" = 1 ] || fail "nvidia-smi started $(starts) times, expected 1"
[ -n "$seen_hang" ] || fail "the GPU probe never said nvidia-smi hangs"
ok "one nvidia-smi while it hangs; the probe says: $seen_hang"
curl -sf --max-time 2 "$url" |
	jq -e '[.checks[] | select(.id == "gpu.available")][0].summary |
	       test("^nvidia-smi timed out: nvidia-smi started [0-9]+ s ago has not exited")' \
		>/dev/null || fail "gpu.available does not say that nvidia-smi hangs"
ok "gpu.available says that nvidia-smi hangs, with its age"

# Once it has exited it is reaped, and nvidia-smi is started again.
for _ in $(seq 1 50); do
	[ "$(starts)" -ge 2 ] && break
	sleep 0.2
done
[ "$(starts)" -ge 2 ] || fail "nvidia-smi not started again after the first one exited"
ok "started again once the first one was gone ($(starts) starts)"
first=$(head -1 "$tmp/starts")
for _ in $(seq 1 20); do
	[ -e "/proc/$first" ] || break
	sleep 0.1
done
[ ! -e "/proc/$first" ] || fail "the first nvidia-smi ($first) was not reaped"
ok "the first nvidia-smi was reaped"

kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
# The fakes left running (the last one sleeps on): ended by their pids.
while read -r p; do
	kill "$p" 2>/dev/null || true
done <"$tmp/starts"
finish
