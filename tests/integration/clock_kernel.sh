#!/bin/sh
# integration: alone (a QEMU guest under TCG takes a whole core, and its
# deadlines assume it gets one)
# The wall clock stepped under `sparkmon serve`, for real: inside the
# kernel test VM (Debian's 6.1 kernel under QEMU TCG, whose clock is its
# own), kernel scenario-clock.sh steps the clock back an hour and forward a
# day while the daemon watches a kernel WireGuard device with a real
# handshake, then starts a daemon with the clock at 1970 and steps it to
# today, as NTP's first sync does on a board without a real-time clock.
# Here, on the host, from what the VM sampled:
#   - every /status.json: the required peer up, wireguard.peers ok, the
#     handshake age a number between 0 and 180 s; a few polls after each
#     step, the handshake is no later than the clock and no older than 180 s
#     (neither in the future after the step back nor a day old after the
#     step forward, and not 55 years old after the 1970 start);
#   - every /api/history reply: values in bounds (status 0-3, handshake age
#     0-200 s, no rate spike; before the jumps, the pings measured), the
#     overall status never changing, no point
#     after the latest clock reading seen, the start within the retention and
#     never moving back (beyond the alignment of a coarser step);
#   - no alert storm: no check's state changes, in the log or in /api/events,
#     after the daemon settled;
#   - both daemons stopped cleanly on SIGTERM.
#
# Needs $SPARKMON (tests/integration/run.sh sets it).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
vm=$here/kernel/vm.sh
. "$here/lib/common.sh"
need_tools jq cc

start=$(date +%s)
tmpdir clock
work=$tmp
out=$work/out
mkdir -p "$work/bin"
if [ -n "${SPARKMON_KERNEL_REUSE:-}" ]; then
	out=$SPARKMON_KERNEL_REUSE # the output of an earlier run (debugging)
elif ! cc -O2 -o "$work/bin/httpget" "$here/lib/httpget.c" ||
	! "$vm" run --scenario "$here/kernel/scenario-clock.sh" --out "$out" --timeout 240 \
		--bin "$SPARKMON" --bin "$work/bin/httpget"; then
	echo "clock_kernel: the VM scenario failed; its log:" >&2
	cat "$out/scenario.log" "$out/init-error" "$out/httpget.err" 2>/dev/null >&2
	exit 1
fi
echo "clock_kernel: VM ran in $(cat "$out/wall-seconds") s"

# ---- /status.json samples ---------------------------------------------------
# Per sample, four words: the peer's handshake (Unix time), its age, its
# state, and the status of wireguard.peers.
JQ_SAMPLE='[(.wireguard.interfaces[] | select(.name == "wg0") | .peers[0] |
	(.latest_handshake, (.latest_handshake_age_seconds // "null"), .state)),
	(.checks[] | select(.id == "wireguard.peers") | .status)] | map(tostring) | join(" ")'
is_int() {
	case "$1" in
	'' | *[!0-9]*) return 1 ;;
	esac
}

for phase in pre back fwd boot1970 ntp; do
	n=0 bad=0 last=""
	for f in "$out/$phase".*.status.json; do
		[ -s "$f" ] || continue
		n=$((n + 1))
		i=${f%.status.json}
		i=${i##*.}
		t=$(cat "$out/$phase.$i.time")
		# shellcheck disable=SC2046 # four words
		set -- $(jq -r "$JQ_SAMPLE" "$f" 2>/dev/null || echo "unreadable")
		if [ $# -ne 4 ] || ! is_int "$1" || ! is_int "$2" || [ "$2" -gt 180 ] ||
			[ "$3" != up ] || [ "$4" != ok ]; then
			fail "$phase sample $i at $t: handshake ${1:-?}, age ${2:-?} s, peer ${3:-?}, wireguard.peers ${4:-?}"
			bad=$((bad + 1))
		fi
		last="$i $t $1 $2"
	done
	[ "$n" -ge 3 ] || fail "$phase: $n status samples, want at least 3"
	[ "$bad" = 0 ] && [ "$n" -ge 3 ] &&
		ok "$phase: $n samples, the required peer up, wireguard.peers ok, ages 0-180 s"
	# A few polls after the step: the handshake in the present frame.
	# shellcheck disable=SC2086 # four words
	set -- $last
	if [ $# -eq 4 ] && [ "$3" -le $(($2 + 1)) ] && [ "$3" -ge $(($2 - 180)) ]; then
		ok "$phase: last sample's handshake $(($2 - $3)) s before the clock"
	else
		fail "$phase: last sample (${1:-?}) has handshake ${3:-?} at clock ${2:-?}"
	fi
done

# ---- /api/history -------------------------------------------------------------
# The latest clock reading the VM saw in the phases given: after the step
# back, the points up to then stay (nothing is written over them), none
# later.
max_clock() { # phase...
	m=0
	for p in "$@"; do
		for f in "$out/$p".*.time "$out/$p.history.time"; do
			[ -f "$f" ] || continue
			v=$(cat "$f")
			[ "$v" -gt "$m" ] && m=$v
		done
	done
	echo "$m"
}

# Prints "start" per series on success; a reason on failure.
JQ_HISTORY='
def bound($n): if ($n | endswith(".handshake_age_seconds")) then 200
	elif ($n | endswith("_bytes_per_second")) then 1e6 elif $n == "status" then 3
	else null end;
.series as $s
| if ($s | length) != 4 then "want 4 series, got \($s | length)" else
  [$s[] | . as $x | ($x.values | length) as $len
   | ($x.start + $x.step * ($len - 1)) as $last
   | [$x.values[] | select(. != null)] as $v
   | if $len == 0 then "\($x.name): no values"
     elif ($v | length) == 0 then "\($x.name): only nulls"
     elif bound($x.name) == null then "\($x.name): not asked for"
     elif $traffic and ($x.name | endswith("_bytes_per_second")) and ($v | max) == 0 then
       "\($x.name): no traffic measured"
     elif ($v | min) < 0 or ($v | max) > bound($x.name) then
       "\($x.name): values \($v | min)..\($v | max) out of 0..\(bound($x.name))"
     elif $x.name == "status" and ($v | min) != ($v | max) then
       "status changed: \($v | min)..\($v | max)"
     elif $last > $clock + $x.step then "\($x.name): a point at \($last), the clock at most \($clock)"
     elif $x.start < $now - 86400 - $x.step then "\($x.name): start \($x.start) before the retention"
     elif $x.start + $x.step <= $prev then "\($x.name): start \($x.start) before the previous reply, at \($prev)"
     else "ok \($x.start)" end]
  | (map(select(startswith("ok ") | not)) | join("; ")) as $bad
  | if $bad == "" then "ok \(map(.[3:] | tonumber) | min)" else $bad end
  end'
prev=0
for run in "back:pre back" "fwd:pre back fwd" "boot1970:boot1970" "ntp:boot1970 ntp"; do
	phase=${run%%:*}
	# The replies before a jump forward are at the poll interval: the
	# pings show in the rates (a reply after one spreads its few points
	# over wide steps).
	traffic=false
	case "$phase" in back | boot1970) traffic=true ;; esac
	[ "$phase" = boot1970 ] && prev=0 # a new daemon
	f=$out/$phase.history.json
	if [ ! -s "$f" ]; then
		fail "$phase: no /api/history reply"
		continue
	fi
	now=$(cat "$out/$phase.history.time")
	# shellcheck disable=SC2086 # the phases, one word each
	clock=$(max_clock ${run#*:})
	r=$(jq -r --argjson now "$now" --argjson clock "$clock" --argjson prev "$prev" \
		--argjson traffic "$traffic" \
		"$JQ_HISTORY" "$f" 2>&1) || r="unreadable: $r"
	case "$r" in
	"ok "*)
		ok "$phase: history in bounds, status steady, no point after $clock, start ${r#ok }"
		prev=${r#ok }
		;;
	*) fail "$phase: history: $r" ;;
	esac
done

# ---- no alert storm -----------------------------------------------------------
# Each check's state is logged when it changes; after the daemon settled
# (the first mark) none may change.
for run in steps:pre 1970:boot1970; do
	log=$out/${run%%:*}.log
	mark=${run#*:}
	changes=$(awk -v mark="@@mark $mark" '
		$0 == mark { on = 1; next }
		on && / sparkmon: [a-z0-9_]+\.[a-z0-9_.]+ (OK|WARNING|CRITICAL|UNKNOWN): / { print }' \
		"$log" 2>/dev/null)
	if ! grep -qx "@@mark $mark" "$log" 2>/dev/null; then
		fail "${run%%:*}: the daemon's log lacks its mark"
	elif [ -n "$changes" ]; then
		fail "${run%%:*}: checks changed state across the steps: $changes"
	else
		ok "${run%%:*}: no check changed state across the steps (log)"
	fi
	rc=$(cat "$log.rc" 2>/dev/null || echo missing)
	[ "$rc" = 0 ] && ok "${run%%:*}: the daemon stopped cleanly" ||
		fail "${run%%:*}: the daemon exited $rc on SIGTERM"
done
for phase in fwd ntp; do
	f=$out/$phase.events.json
	n=$(jq '[.events[] | select(.from != null)] | length' "$f" 2>/dev/null || echo unreadable)
	first=$(jq '[.events[] | select(.from == null)] | length' "$f" 2>/dev/null || echo 0)
	if [ "$n" = 0 ] && [ "$first" -ge 5 ]; then
		ok "$phase: /api/events holds the $first first states and no change"
	else
		fail "$phase: /api/events: $n changes, $first first states: $(jq -c '.events' "$f" 2>&1 | cut -c 1-600)"
	fi
done

echo "clock_kernel: $(($(date +%s) - start)) s in all"
if [ -n "${SPARKMON_KEEP_VM_OUTPUT:-}" ] || [ "$t_failures" -ne 0 ]; then
	echo "clock_kernel: VM output kept in $work"
	t_tmp=""
fi
finish
