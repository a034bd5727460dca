#!/bin/sh
# integration: alone (a QEMU guest under TCG takes a whole core, and its
# deadlines assume it gets one)
# Kernel WireGuard, for real: this machine's kernel has no WireGuard module,
# so Debian's own 6.1 kernel boots under QEMU (TCG) with a busybox initramfs
# (tests/integration/kernel/) and runs scenario-wireguard.sh inside: two
# namespaces, a real handshake, a 300-peer device whose dump spans many
# netlink messages and continues a peer with 1256 allowed IPs, a 2000-peer
# device read while it changes (interrupted dumps redone, never a mixed
# peer list, an error once every try was interrupted). Here, on the
# host, sparkmon's JSON is compared field by field with `wg show <if> dump`
# taken just before and just after it, and the unprivileged run, the vanished
# device and the secrets are checked, in the outputs and in the memory of a
# running `sparkmon serve` (tests/integration/lib/memscan.c, in the VM).
#
# Needs $SPARKMON (tests/integration/run.sh sets it); the library next to it
# is linked into wgpoll. The kernel package is fetched once with
# `apt-get download` and cached in build-kernel-cache/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
vm=$here/kernel/vm.sh
: "${SPARKMON:?SPARKMON must name the sparkmon binary}"
[ -x "$SPARKMON" ] || {
	echo "wireguard_kernel: $SPARKMON is not executable" >&2
	exit 1
}
. "$here/lib/common.sh"
need_tools jq

start=$(date +%s)
tmpdir wgk
work=$tmp
keep=${SPARKMON_KEEP_VM_OUTPUT:-}

out=$work/out
if [ -n "${SPARKMON_KERNEL_REUSE:-}" ]; then
	# Assert on the output of an earlier run without booting: a debugging
	# aid (SPARKMON_KEEP_VM_OUTPUT=1 keeps it), and the arm64 kernel test
	# (tests/arm64/kernel.sh), which runs this scenario in its own VM.
	out=$SPARKMON_KERNEL_REUSE
elif ! wgpoll=$("$vm" wgpoll "$(dirname "$SPARKMON")") ||
	! cc -O2 -o "$work/memscan" "$here/lib/memscan.c" ||
	! "$vm" run --scenario "$here/kernel/scenario-wireguard.sh" --out "$out" --timeout 200 \
		--bin "$SPARKMON" --bin "$wgpoll" --bin "$work/memscan"; then
	echo "wireguard_kernel: the VM scenario failed; its log:" >&2
	cat "$out/scenario.log" "$out/init-error" 2>/dev/null >&2
	exit 1
fi
echo "wireguard_kernel: VM ran in $(cat "$out/wall-seconds") s"

for f in wg0.before wg0.after wg0.json wg1.before wg1.after wg1.json check.txt noperm.json \
	noperm.text race.txt secrets; do
	[ -s "$out/$f" ] || {
		echo "wireguard_kernel: the VM produced no $f; scenario log:" >&2
		cat "$out/scenario.log" >&2
		exit 1
	}
done

# ---- sparkmon's JSON against `wg show dump` --------------------------------
#
# Both sides become the same tab-separated lines, one per peer:
#   public-key endpoint allowed-ips(sorted, comma) handshake rx tx keepalive
# and one for the device:
#   public-key listen-port fwmark peer-count
# in wg's notation ("(none)", "off").

# wg dump: line 1 is the device (private key first), then one line per peer.
dump_device() {
	awk -F '\t' 'NR == 1 { pub = $2; port = $3; fw = $4 }
	END {
		# wg prints the fwmark as "0x5a", or "off" for 0.
		v = 0
		if (fw != "off") {
			fw = tolower(fw)
			sub(/^0x/, "", fw)
			for (i = 1; i <= length(fw); i++)
				v = v * 16 + index("0123456789abcdef", substr(fw, i, 1)) - 1
		}
		printf "%s\t%s\t%d\t%d\n", pub, port, v, NR - 1
	}' "$1"
}

dump_peers() {
	awk -F '\t' 'NR > 1 {
		n = split($4, ips, ",")
		# sort the allowed IPs (insertion sort: a few thousand at most)
		for (i = 2; i <= n; i++) {
			v = ips[i]
			for (j = i - 1; j >= 1 && ips[j] > v; j--)
				ips[j + 1] = ips[j]
			ips[j + 1] = v
		}
		s = ""
		for (i = 1; i <= n; i++)
			s = s (i > 1 ? "," : "") ips[i]
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1, $3, s, $5, $6, $7, $8
	}' "$1" | sort
}

# The wireguard area of the status document, for one interface.
JQ_DEVICE='.wireguard.interfaces[] | select(.name == $ifname)'

json_device() {
	jq -r --arg ifname "$2" "$JQ_DEVICE"' |
		[.public_key, (.listen_port | tostring), (.fwmark | tostring),
		 (.peers | length | tostring)] | join("\t")' "$1"
}

json_peers() {
	jq -r --arg ifname "$2" "$JQ_DEVICE"' | .peers[] |
		[.public_key,
		 (if (.endpoint // "") == "" then "(none)" else .endpoint end),
		 (if (.allowed_ips | length) == 0 then "(none)"
		  else (.allowed_ips | sort | join(",")) end),
		 (.latest_handshake | tostring), (.rx_bytes | tostring), (.tx_bytes | tostring),
		 (if (.persistent_keepalive_seconds // 0) == 0 then "off"
		  else (.persistent_keepalive_seconds | tostring) end)] | join("\t")' "$1" | sort
}

# Static fields must equal both dumps; handshake and counters must lie
# between the dump before and the dump after (traffic may go on meanwhile).
compare_peers() { # before json after label
	awk -F '\t' -v label="$4" '
	FILENAME == ARGV[1] { before[$1] = $0; next }
	FILENAME == ARGV[2] { json[$1] = $0; nj++; next }
	{ after[$1] = $0; na++ }
	END {
		bad = 0
		if (nj != na) { printf "%s: %d peers in sparkmon, %d in wg\n", label, nj, na; bad++ }
		for (k in after) {
			if (!(k in json)) { printf "%s: peer %s missing in sparkmon\n", label, k; bad++; continue }
			split(before[k], b, "\t"); split(json[k], j, "\t"); split(after[k], a, "\t")
			for (f = 2; f <= 7; f++) {
				name = f == 2 ? "endpoint" : f == 3 ? "allowed_ips" : f == 4 ? "handshake" : f == 5 ? "rx" : f == 6 ? "tx" : "keepalive"
				if (f == 2 || f == 3 || f == 7) {
					if (j[f] != a[f] || j[f] != b[f]) {
						printf "%s: peer %s %s: sparkmon %.200s, wg %.200s\n", label, k, name, j[f], a[f]; bad++
					}
				} else if (j[f] + 0 < b[f] + 0 || j[f] + 0 > a[f] + 0) {
					printf "%s: peer %s %s: sparkmon %s, wg %s before and %s after\n", label, k, name, j[f], b[f], a[f]; bad++
				}
			}
		}
		exit bad > 0
	}' "$1" "$2" "$3"
}

for pair in wg0 wg1; do
	dump_device "$out/$pair.after" >"$work/$pair.dev.after"
	dump_device "$out/$pair.before" >"$work/$pair.dev.before"
	if ! json_device "$out/$pair.json" "$pair" >"$work/$pair.dev.json" 2>"$work/jq.err" ||
		[ ! -s "$work/$pair.dev.json" ]; then
		fail "$pair: no interface $pair in sparkmon's JSON ($(cat "$work/jq.err"))"
		continue
	fi
	if cmp -s "$work/$pair.dev.json" "$work/$pair.dev.after" &&
		cmp -s "$work/$pair.dev.before" "$work/$pair.dev.after"; then
		ok "$pair: public key, listen port, fwmark, peer count ($(cut -f 4 "$work/$pair.dev.json") peers)"
	else
		fail "$pair device: sparkmon '$(cat "$work/$pair.dev.json")' wg '$(cat "$work/$pair.dev.after")'"
	fi
	dump_peers "$out/$pair.before" >"$work/$pair.peers.before"
	dump_peers "$out/$pair.after" >"$work/$pair.peers.after"
	json_peers "$out/$pair.json" "$pair" >"$work/$pair.peers.json"
	if compare_peers "$work/$pair.peers.before" "$work/$pair.peers.json" \
		"$work/$pair.peers.after" "$pair" >"$work/$pair.diff"; then
		ok "$pair: every peer's endpoint, allowed IPs, handshake, rx/tx, keepalive"
	else
		head -n 20 "$work/$pair.diff" >&2
		fail "$pair: peers differ from wg show dump"
	fi
done

# The scenario's shape really ran: many peers, a peer continued across
# messages, a handshake on both sides.
nallowed=$(awk -F '\t' 'NR > 1 { n = split($4, x, ","); if (n > m) m = n } END { print m + 0 }' \
	"$out/wg0.after")
npeers=$(($(wc -l <"$out/wg0.after") - 1))
if [ "$npeers" -ge 300 ] && [ "$nallowed" -ge 1000 ]; then
	ok "wg0: $npeers peers, the largest with $nallowed allowed IPs"
else
	fail "wg0: $npeers peers, largest allowed-ips $nallowed (want >= 300, >= 1000)"
fi
for pair in wg0 wg1; do
	hs=$(awk -F '\t' 'NR > 1 && $5 > 0 { n++ } END { print n + 0 }' "$out/$pair.after")
	[ "$hs" -ge 1 ] && ok "$pair: $hs peer(s) with a real handshake" ||
		fail "$pair: no handshake happened"
done

# ---- checks -----------------------------------------------------------------
status_of() { # json check-id
	jq -r --arg id "$2" '.checks[] | select(.id == $id) | .status' "$1"
}
for id in wireguard.interface wireguard.peers; do
	s=$(status_of "$out/wg0.json" "$id")
	[ "$s" = ok ] && ok "$id is ok" || fail "$id is '$s', want ok"
done
summary=$(jq -r '.checks[] | select(.id == "wireguard.peers") | .summary' "$out/wg0.json")
case "$summary" in
*"300 peers, 1 up"*) ok "wireguard.peers summary: $summary" ;;
*) fail "wireguard.peers summary '$summary', want '300 peers, 1 up'" ;;
esac

# ---- without CAP_NET_ADMIN --------------------------------------------------
rc=$(cat "$out/noperm.json.rc")
[ "$rc" = 3 ] && ok "unprivileged check exits 3 (UNKNOWN)" ||
	fail "unprivileged check --json exited $rc, want 3"
rc=$(cat "$out/noperm.text.rc")
[ "$rc" = 3 ] || fail "unprivileged check exited $rc, want 3"
# The link itself is visible without privileges (rtnetlink), so
# wireguard.interface may be ok; what the dump tells must be unknown.
overall=$(jq -r .status "$out/noperm.json")
s=$(status_of "$out/noperm.json" wireguard.peers)
hint=$(jq -r '.checks[] | select(.id == "wireguard.peers") | .hint' "$out/noperm.json")
if [ "$overall" = unknown ] && [ "$s" = unknown ] && echo "$hint" | grep -q CAP_NET_ADMIN; then
	ok "unprivileged: status unknown, wireguard.peers unknown, hint names CAP_NET_ADMIN"
else
	fail "unprivileged: status '$overall', wireguard.peers '$s', hint '$hint'"
fi
grep -q CAP_NET_ADMIN "$out/noperm.text" && ok "unprivileged text output names CAP_NET_ADMIN" ||
	fail "unprivileged text output lacks the CAP_NET_ADMIN hint: $(cat "$out/noperm.text")"
bad=$(jq -r '[.checks[] | select(.id == "wireguard.peers" or .id == "wireguard.listen_port")
	| select(.status == "ok") | .id] | join(" ")' "$out/noperm.json")
[ -z "$bad" ] && ok "unprivileged: no check that needs the dump says ok" ||
	fail "unprivileged: $bad ok without the dump"
jq -e '.wireguard.interfaces[] | select(.name == "wg0") | .error | test("CAP_NET_ADMIN")' \
	"$out/noperm.json" >/dev/null && ok "unprivileged: wg0's error says why" ||
	fail "unprivileged: wg0 has no permission error in the JSON"

# ---- a device deleted between discovery and dump ---------------------------
if [ "$(cat "$out/race.rc")" = 0 ] && grep -q 'result=-19' "$out/race.txt"; then
	ok "device deleted after discovery: the dump reports ENODEV ($(cat "$out/race.txt"))"
else
	fail "vanished device: $(cat "$out/race.txt")"
fi

# ---- a device changed while it is dumped -----------------------------------
# churn.txt: one line per read of wgc (2000 peers) while the scenario moved
# one peer at a time from the head of its list to the tail. A clean read
# has each of the 2000 peers once, or all but the one being moved; a read
# whose every dump the kernel marked interrupted has no peer and says why.
churn=$out/churn.txt
if [ -z "${SPARKMON_KERNEL_REUSE:-}" ] || [ -e "$churn" ]; then
	[ -s "$churn" ] || fail "the VM wrote no churn.txt"
	bad=$(awk '{
		for (i = 3; i <= 7; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		err = $0; sub(/.* error=/, "", err)
		if (err == "-") {
			if (v["twice"] != 0 || v["unknown"] != 0 || v["missing"] > 1 ||
			    v["peers"] != 2000 - v["missing"] || v["interrupted"] >= 5)
				print
		} else if (v["peers"] != 0 || v["interrupted"] != 5 ||
			   err != "the peer list kept changing during 5 dumps") {
			print
		}
	}' "$churn")
	reads=$(wc -l <"$churn")
	retried=$(grep -c '^read slow\..* interrupted=[1-4] .* error=-$' "$churn" || true)
	gaveup=$(grep -c '^read fast\..* error=the peer list kept changing' "$churn" || true)
	if [ -z "$bad" ] && [ "$reads" -ge 2 ]; then
		ok "device changing while dumped: each of $reads reads a whole state of the device or an error"
	else
		fail "device changing while dumped: mixed or wrong reads: $(echo "$bad" | head -5)"
	fi
	if [ "$retried" -ge 1 ]; then
		ok "interrupted dumps redone: $retried read(s) gave a clean list on a later try"
	else
		fail "no read with an interrupted dump that a later try completed: $(grep '^read slow' "$churn" | head -5)"
	fi
	if [ "$gaveup" -ge 1 ]; then
		ok "changes back to back: $gaveup read(s) gave up after 5 interrupted dumps with the reason"
	else
		fail "no read gave up under changes back to back: $(grep '^read fast' "$churn" | head -5)"
	fi
	if [ "$(cat "$out/churn.rc" 2>/dev/null | tr '\n' ' ')" = "slow 0 fast 0 " ] &&
		[ ! -s "$out/churn.err" ] && ! grep -q 'changes=0$' "$out/churn.changes"; then
		ok "both changers ran ($(tr '\n' ' ' <"$out/churn.changes"))"
	else
		fail "changers: $(cat "$out/churn.rc" "$out/churn.changes" "$out/churn.err" 2>&1 | head -5)"
	fi
fi
n=$(jq -r --arg ifname wg0 "$JQ_DEVICE | .interrupted_dumps" "$out/wg0.json")
[ "$n" = 0 ] && ok "wg0's JSON: interrupted_dumps 0 (a device at rest)" ||
	fail "wg0's JSON: interrupted_dumps '$n', want 0"

# ---- no secret in any output -----------------------------------------------
leaks=0 outputs=""
for f in wg0.json wg1.json check.txt status.txt noperm.json noperm.text; do
	if [ -s "$out/$f" ]; then
		outputs="$outputs $out/$f"
	else
		fail "the VM wrote no $f: nothing to search for secrets"
		leaks=$((leaks + 1))
	fi
done
# What sparkmon wrote to stderr there (its log lines), empty or not.
for f in wg0.json.err wg1.json.err noperm.json.err noperm.text.err; do
	[ -f "$out/$f" ] && outputs="$outputs $out/$f" || fail "the VM wrote no $f"
done
[ -s "$out/secrets" ] || fail "the VM wrote no secrets list"
while read -r secret; do
	# shellcheck disable=SC2086 # one word per file
	if ! hits=$(key_leaks "$secret" $outputs); then
		fail "a piece of a private or preshared key appears: $hits"
		leaks=$((leaks + 1))
	fi
done <"$out/secrets"
[ "$leaks" = 0 ] && ok "no piece of a private or preshared key in any output"

# ---- the live daemon's memory -------------------------------------------------
# Inside the VM, memscan read both processes of `sparkmon serve` after it had
# polled wg0 for a few seconds. (An output of another VM, given by
# SPARKMON_KERNEL_REUSE, may come without it.)
if [ -z "${SPARKMON_KERNEL_REUSE:-}" ] || [ -e "$out/memscan.rc" ]; then
	rc=$(cat "$out/memscan.rc" 2>/dev/null || echo missing)
	if [ "$rc" = 0 ] && [ "$(cat "$out/memscan.collector" 2>/dev/null)" != none ] &&
		grep -q '^scanned [1-9]' "$out/memscan.txt"; then
		ok "serve polling kernel WireGuard: no window of a key in either process's memory ($(tail -1 "$out/memscan.txt"))"
	else
		fail "memory of serve (memscan exit $rc): $(head -5 "$out/memscan.txt" 2>/dev/null)"
		tail -5 "$out/serve.log" >&2 2>/dev/null || true
	fi
fi

echo "wireguard_kernel: $(($(date +%s) - start)) s in all"
# The VM's output stays for a look when something failed (or when asked).
if [ -n "$keep" ] || [ "$t_failures" -ne 0 ]; then
	echo "wireguard_kernel: VM output kept in $work"
	t_tmp=""
fi
finish
