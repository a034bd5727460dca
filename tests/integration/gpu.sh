#!/bin/sh
# The GPU probe end to end: sparkmon runs fake nvidia-smi programs
# (tests/fixtures/gpu/bin/) through its real subprocess runner, and its
# `check`, `check --json` and `status` outputs are checked: values, absent
# values as null, unified memory, the hang cut at the timeout, the driver
# failures, a missing nvidia-smi with and without a GPU expected.
set -eu

: "${SPARKMON:?SPARKMON must name the sparkmon binary}"
[ -x "$SPARKMON" ] || {
	echo "gpu: $SPARKMON is not executable" >&2
	exit 1
}
. "$(dirname "$0")/lib/common.sh"
need_tools jq iconv
bin=$(cd "$(dirname "$0")/../fixtures/gpu/bin" && pwd)
tmpdir gpu
work=$tmp

# conf NAME FAKE [KEY=VALUE...]: a configuration whose [gpu] runs FAKE.
conf() {
	name=$1 fake=$2
	shift 2
	{
		echo "[gpu]"
		echo "nvidia_smi = $fake"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$work/$name.conf"
	echo "$work/$name.conf"
}

# expect_json FILE JQ-EXPRESSION: the expression must be true.
expect_json() {
	if [ "$(jq -r "$2" "$1")" != true ]; then
		fail "$(basename "$1"): $2 (gpu: $(jq -c '.gpu' "$1" | cut -c1-300))"
	else
		echo "ok: $(basename "$1"): $2"
	fi
}

# expect_text FILE STRING: a fixed string must occur in FILE.
expect_text() {
	if grep -qF -- "$2" "$1"; then
		echo "ok: $(basename "$1") has '$2'"
	else
		fail "$(basename "$1") lacks '$2'"
		sed 's/^/    /' "$1" >&2
	fi
}

# expect_re FILE ERE: a line of FILE must match the extended regex.
expect_re() {
	if grep -qE -- "$2" "$1"; then
		echo "ok: $(basename "$1") matches '$2'"
	else
		fail "$(basename "$1") has no line matching '$2'"
		sed 's/^/    /' "$1" >&2
	fi
}

# run_check NAME CONF EXPECTED-EXIT ARGS...: runs `check ARGS`, output in
# $work/NAME.out; the exit code must be EXPECTED-EXIT ("any" to skip).
run_check() {
	name=$1 cfg=$2 want=$3
	shift 3
	rc=0
	# An outside deadline: a probe that fails to stop fails here, at once.
	timeout -s KILL "${deadline:-20}" "$SPARKMON" -c "$cfg" check "$@" \
		>"$work/$name.out" 2>"$work/$name.err" || rc=$?
	if [ "$rc" = 137 ]; then
		fail "$name: still running after ${deadline:-20} s (outside deadline)"
	elif [ "$want" != any ] && [ "$rc" != "$want" ]; then
		fail "$name: exit code $rc, expected $want"
		cat "$work/$name.out" "$work/$name.err" >&2
	fi
}

# ---- a single H100 ----------------------------------------------------------
c=$(conf h100 "$bin/nvidia-smi-h100")
run_check h100 "$c" any --json
j=$work/h100.out
expect_json "$j" '.probes.gpu.status == "ok"'
expect_json "$j" '.gpu.count == 1 and (.gpu.gpus | length) == 1'
expect_json "$j" '.gpu.stale == false and .gpu.age_seconds == 0 and (.gpu.taken_at | type) == "string"'
expect_json "$j" '.gpu.gpus[0].name == "NVIDIA H100 80GB HBM3"'
expect_json "$j" '.gpu.gpus[0].uuid == "GPU-5a1c9e3b-7f2d-4e8a-9c61-0b3d2f4e8a17"'
expect_json "$j" '.gpu.gpus[0].temperature_celsius == 34'
expect_json "$j" '.gpu.gpus[0].utilization_gpu_percent == 27'
expect_json "$j" '.gpu.gpus[0].power_draw_watts == 312.45 and .gpu.gpus[0].power_limit_watts == 700'
expect_json "$j" '.gpu.gpus[0].memory_total_bytes == 85520809984'
expect_json "$j" '.gpu.gpus[0].memory_used_bytes == 64424509440'
expect_json "$j" '.gpu.gpus[0].pstate == "P0" and .gpu.gpus[0].clock_sm_mhz == 1980'
expect_json "$j" '.gpu.unified_memory == false and .gpu.system_memory == null'
expect_json "$j" '(.gpu.processes | length) == 2 and .gpu.processes[0].pid == 41234'
expect_json "$j" '.gpu.processes[0].gpu_index == 0 and .gpu.processes[0].used_memory_bytes == 42949672960'
expect_json "$j" '[.checks[] | select(.id == "gpu.available")][0].status == "ok"'
expect_json "$j" '[.checks[] | select(.id == "gpu.temperature")][0].status == "ok"'
run_check h100-plugin "$c" 0 --only gpu
expect_text "$work/h100-plugin.out" "SPARKMON OK - 2 of 2 checks OK |"
expect_text "$work/h100-plugin.out" "'gpu0_temperature'=34;85;95"
expect_text "$work/h100-plugin.out" "'gpu0_utilization'=27%;;;0;100"
expect_text "$work/h100-plugin.out" "'gpu0_power_watts'=312.45;;;0;700"
# 61440 MiB of 81559 MiB, in bytes (the plugin base unit).
expect_text "$work/h100-plugin.out" "'gpu0_memory_used'=$((61440 * 1048576))B;;;0;$((81559 * 1048576))"
"$SPARKMON" -c "$c" status >"$work/h100-status.out" 2>&1 || true
expect_text "$work/h100-status.out" "Driver 550.54.15"
expect_re "$work/h100-status.out" "^ +GPU +Name +Temp +Util +MemUtil +Memory +Power +SM clock +Perf$"
expect_re "$work/h100-status.out" "^ +0 +NVIDIA H100 80GB HBM3 +34C +27% +3% +61440MiB / 81559MiB +312W / 700W +1980MHz +P0$"
expect_text "$work/h100-status.out" "Processes (2 of 2, most memory first)"
expect_re "$work/h100-status.out" "^ +0 +41234 +40960MiB +/usr/bin/python3$"

# ---- names that are not UTF-8 -------------------------------------------------
# Any GPU user names their own processes: each byte that is not part of a
# UTF-8 character becomes '?', valid characters stay, the JSON stays valid.
c=$(conf utf8 "$bin/nvidia-smi-invalid-utf8")
run_check utf8 "$c" any --json
j=$work/utf8.out
if iconv -f UTF-8 -t UTF-8 "$j" >/dev/null 2>&1; then
	echo "ok: utf8.out is valid UTF-8"
else
	fail "check --json wrote bytes that are not UTF-8"
fi
expect_json "$j" '.probes.gpu.status == "ok" and .gpu.gpus[0].name == "NVIDIA ? H100 ?? X??"'
expect_json "$j" '.gpu.gpus[1].name == "caf\u00e9 \u20ac GPU" and .gpu.gpus[1].uuid == "GPU-?0e4c11-???"'
expect_json "$j" '.gpu.gpus[1].driver_version == "550????"'
expect_json "$j" '.gpu.processes[0].name == "/opt/?evil????"'
expect_json "$j" '.gpu.processes[1].name == "/home/j\u00fcrgen/train.py"'
c=$(conf utf8-error "$bin/nvidia-smi-invalid-utf8-error" expected=yes)
run_check utf8-error "$c" 2 --only gpu --json
expect_json "$work/utf8-error.out" '.probes.gpu.error == "Failed to initialize NVML: ?? ?? error ?? (exit code 9)"'

# ---- DGX Spark: GB10 with unified memory --------------------------------------
c=$(conf gb10 "$bin/nvidia-smi-gb10")
run_check gb10 "$c" any --json
j=$work/gb10.out
expect_json "$j" '.gpu.unified_memory == true and .gpu.gpus[0].unified_memory == true'
expect_json "$j" '.gpu.gpus[0].memory_total_bytes == null and .gpu.gpus[0].memory_used_bytes == null'
expect_json "$j" '.gpu.gpus[0].utilization_memory_percent == null and .gpu.gpus[0].power_limit_watts == null'
expect_json "$j" '.gpu.gpus[0].temperature_celsius == 41 and .gpu.gpus[0].power_draw_watts == 4.91'
expect_json "$j" '.gpu.system_memory.source == "memory"'
expect_json "$j" '.gpu.system_memory.total_bytes == .memory.total_bytes and .memory.total_bytes > 0'
expect_json "$j" '.gpu.processes[0].used_memory_bytes == null'
# Unified memory: no GPU memory perfdata (the system's is 'memory_used'),
# and power without a limit has no maximum.
run_check gb10-plugin "$c" 0 --only gpu
expect_text "$work/gb10-plugin.out" "'gpu0_power_watts'=4.91;;;0;"
if grep -q "gpu0_memory_used" "$work/gb10-plugin.out"; then
	fail "gb10: GPU memory perfdata although nvidia-smi reports [N/A]"
fi
# The memory probe comes along with the GPU checks alone too.
run_check gb10-only "$c" 0 --only gpu --json
expect_json "$work/gb10-only.out" '.gpu.system_memory.source == "memory" and .gpu.system_memory.used_bytes > 0'
"$SPARKMON" -c "$c" status >"$work/gb10-status.out" 2>&1 || true
expect_text "$work/gb10-status.out" "unified*"
expect_text "$work/gb10-status.out" "* unified memory: the GPU uses system memory"
expect_re "$work/gb10-status.out" "^ +0 +NVIDIA GB10 +41C +3% +N/A +unified\* +5W / N/A +208MHz +P8$"

# ---- eight GPUs, one warm ------------------------------------------------------
c=$(conf eight "$bin/nvidia-smi-eight")
run_check eight "$c" 1 --only gpu
expect_text "$work/eight.out" "WARNING gpu.temperature: GPU 5 at 88 C (WARNING at 85 C, CRITICAL at 95 C)"
expect_text "$work/eight.out" "'gpu7_temperature'=42;85;95"
run_check eight-json "$c" 1 --only gpu --json
j=$work/eight-json.out
expect_json "$j" '.gpu.count == 8 and ([.gpu.gpus[].index] == [0,1,2,3,4,5,6,7])'
expect_json "$j" '(.gpu.processes | length) == 10 and .gpu.processes_total == 12'
expect_json "$j" '.gpu.processes[0].name == "/home/ana/runs/exp 7, final/train"'
c=$(conf eight-hot "$bin/nvidia-smi-eight" temperature_warning=70 temperature_critical=88)
run_check eight-hot "$c" 2 --only gpu
expect_text "$work/eight-hot.out" "CRITICAL gpu.temperature: GPU 5 at 88 C"

# ---- a hang is cut at the timeout -----------------------------------------------
c=$(conf hang "$bin/nvidia-smi-hang" timeout=1s)
start=$(date +%s%N)
deadline=5 run_check hang "$c" 3 --only gpu --json
took_ms=$((($(date +%s%N) - start) / 1000000))
# Measured from outside, not only as the probe reports itself.
[ "$took_ms" -ge 990 ] && [ "$took_ms" -lt 3000 ] ||
	fail "hang: check took $took_ms ms from outside with timeout = 1s"
j=$work/hang.out
expect_json "$j" '.probes.gpu.status == "timed_out"'
expect_json "$j" '.probes.gpu.duration_seconds >= 0.99 and .probes.gpu.duration_seconds < 1.5'
expect_json "$j" '.probes.gpu.error | test("timed out after 1\\.")'
expect_json "$j" '.gpu == null'
expect_json "$j" '[.checks[] | select(.id == "gpu.available")][0].status == "unknown"'
echo "hang: probe cut after $(jq .probes.gpu.duration_seconds "$j") s with timeout = 1s"
c=$(conf hang-expected "$bin/nvidia-smi-hang" timeout=1s expected=yes)
deadline=5 run_check hang-expected "$c" 2 --only gpu
expect_text "$work/hang-expected.out" "CRITICAL gpu.available: nvidia-smi timed out"

# ---- driver failures -------------------------------------------------------------
c=$(conf nodriver "$bin/nvidia-smi-no-driver" expected=yes)
run_check nodriver "$c" 2 --only gpu --json
j=$work/nodriver.out
expect_json "$j" '.probes.gpu.status == "failed" and .gpu == null'
expect_json "$j" '.probes.gpu.error == "NVIDIA-SMI has failed because it couldn'"'"'t communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running. (exit code 9)"'
expect_json "$j" '[.checks[] | select(.id == "gpu.available")][0].status == "critical"'
expect_json "$j" '[.checks[] | select(.id == "gpu.available")][0].hint | test("NVIDIA-SMI has failed.*nvidia-smi-no-driver by hand")'
c=$(conf mismatch "$bin/nvidia-smi-mismatch")
run_check mismatch "$c" 3 --only gpu
expect_text "$work/mismatch.out" "UNKNOWN gpu.available: nvidia-smi failed: Failed to initialize NVML: Driver/library version mismatch (exit code 18)"
c=$(conf flood "$bin/nvidia-smi-flood")
run_check flood "$c" 3 --only gpu --json
expect_json "$work/flood.out" '.probes.gpu.status == "failed" and (.probes.gpu.error | test("output over"))'

# ---- no nvidia-smi ---------------------------------------------------------------
c=$(conf missing "$work/no-such/nvidia-smi")
run_check missing "$c" any --json
j=$work/missing.out
expect_json "$j" '.probes.gpu.status == "skipped" and .gpu == null'
expect_json "$j" '[.checks[] | select(.id | startswith("gpu."))] | length == 0'
# Only GPU checks asked for, none applies: UNKNOWN with the reason.
run_check missing-plugin "$c" 3 --only gpu
expect_text "$work/missing-plugin.out" "SPARKMON UNKNOWN - selection: none of the selected checks applies here: gpu.available, gpu.temperature"
"$SPARKMON" -c "$c" status >"$work/missing-status.out" 2>&1 || true
expect_text "$work/missing-status.out" "(skipped: $work/no-such/nvidia-smi: not found)"
c=$(conf missing-expected "$work/no-such/nvidia-smi" expected=yes)
run_check missing-expected "$c" 2 --only gpu
expect_text "$work/missing-expected.out" "CRITICAL gpu.available: $work/no-such/nvidia-smi: not found, but a GPU is expected"

finish
