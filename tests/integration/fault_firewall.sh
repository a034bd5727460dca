#!/bin/sh
# The programs that dump the ruleset fail: iptables-save (and nft) missing,
# hanging past the probe's deadline, printing 50 MB, exiting non-zero
# halfway through their output. Each leaves the firewall checks UNKNOWN
# with the reason, never OK on what was read before the failure, and every
# other check as it is with a working iptables-save. The programs are fakes
# printing a real ruleset (tests/fixtures/firewall/standard.txt).
set -eu
. "$(dirname "$0")/lib/common.sh"
need_tools jq timeout

tmpdir fault-firewall
fixtures=$(realpath "$(dirname "$0")/../fixtures/firewall")
wg=fwf$$
mkdir -p "$tmp/root/etc/wireguard" "$tmp/root/proc/sys/net/ipv4" "$tmp/bin" "$tmp/state"
# Memory and forwarding as the root shows them: their checks are OK.
cp /proc/meminfo "$tmp/root/proc/meminfo"
echo 1 >"$tmp/root/proc/sys/net/ipv4/ip_forward"
# The VPN's wg-quick file: the firewall checks apply to its interface.
cat >"$tmp/root/etc/wireguard/$wg.conf" <<EOF
[Interface]
Address = 10.100.0.1/24
ListenPort = 51820
EOF
sed "s/wg-dgx-spark/$wg/" "$fixtures/standard.txt" >"$tmp/ruleset.txt"
half=$(($(wc -l <"$tmp/ruleset.txt") / 2))

# fake NAME BODY: a program $tmp/bin/NAME running the sh lines BODY.
fake() {
	printf '#!/bin/sh\n%s\n' "$2" >"$tmp/bin/$1"
	chmod +x "$tmp/bin/$1"
}
fake good "cat '$tmp/ruleset.txt'"
# Half the ruleset, then silence until killed.
fake hang "head -n $half '$tmp/ruleset.txt'; exec sleep 3600"
# The whole ruleset, then 50 MB of comment lines.
fake flood "cat '$tmp/ruleset.txt'; yes '# padding padding padding padding padding' | head -c 52428800"
fake halfway "head -n $half '$tmp/ruleset.txt'; echo 'iptables-save: table nat: read error' >&2; exit 1"
# An nft that prints nothing: no native tables.
fake nft-empty 'echo "{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 1}}]}"'
fake nft-hang 'echo "{\"nftables\": ["; exec sleep 3600'
fake nft-flood 'echo "{\"nftables\": ["; yes "{\"metainfo\": {}}," | head -c 52428800'
fake nft-halfway 'echo "{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 1}},"; exit 1'

# check IPTABLES_SAVE NFT: `sparkmon check --json` with these programs;
# the document in $tmp/doc.json.
check() {
	cat >"$tmp/sparkmon.conf" <<EOF
[general]
root = $tmp/root
state_dir = $tmp/state
[wireguard]
interfaces = $wg
[firewall]
iptables_save = $1
nft = $2
[endpoint]
ip_urls =
[ssh]
enabled = no
EOF
	# The probe's deadline is 5 s: well inside this one.
	rc=0
	timeout 60 "$SPARKMON" -c "$tmp/sparkmon.conf" check --json >"$tmp/doc.json" \
		2>"$tmp/check.err" || rc=$?
	[ "$rc" -ne 124 ] || die "sparkmon check did not end within 60 s ($1, $2)"
	jq -e . "$tmp/doc.json" >/dev/null || die "no status document ($1, $2): $(cat "$tmp/check.err")"
}

# The checks other than the firewall's, as id=status lines (not the
# WireGuard ones: other tests' wireguard-go sockets come and go).
others() {
	jq -r '.checks[] | select(.id | test("^(firewall|wireguard)[.]") | not) |
		select(.id != "ssh.firewall") | "\(.id)=\(.status)"' "$tmp/doc.json"
}

# The baseline: a working iptables-save makes firewall.forward OK, so an
# UNKNOWN below is the fault's doing.
check "$tmp/bin/good" "$tmp/bin/nft-empty"
fw=$(jq -r '.checks[] | select(.id == "firewall.forward") | .status' "$tmp/doc.json")
[ "$fw" = ok ] || die "firewall.forward is '$fw' with a working iptables-save: $(cat "$tmp/doc.json")"
others >"$tmp/others.good"
grep -q '^memory.available=ok$' "$tmp/others.good" || die "memory not OK in the baseline"
grep -q '^forwarding.ipv4=ok$' "$tmp/others.good" || die "forwarding not OK in the baseline"
ok "baseline: firewall.forward OK; other checks: $(tr '\n' ' ' <"$tmp/others.good")"

# expect_unknown WHAT REASON: every firewall check is UNKNOWN and its
# summary names the fault (REASON, an extended regex); none is OK; the
# probe is marked as failed; the other checks are as in the baseline.
expect_unknown() {
	n=$(jq '[.checks[] | select(.id | startswith("firewall."))] | length' "$tmp/doc.json")
	[ "$n" -ge 3 ] || fail "$1: only $n firewall checks (expected them UNKNOWN, not absent)"
	bad=$(jq -r '.checks[] | select(.id | startswith("firewall.")) |
		select(.status != "unknown") | "\(.id)=\(.status): \(.summary)"' "$tmp/doc.json")
	[ -z "$bad" ] || fail "$1: firewall checks not UNKNOWN: $bad"
	nomatch=$(jq -r --arg re "$2" '.checks[] | select(.id | startswith("firewall.")) |
		select(.summary | test($re) | not) | "\(.id): \(.summary)"' "$tmp/doc.json")
	[ -z "$nomatch" ] || fail "$1: the reason is not given (/$2/): $nomatch"
	st=$(jq -r '.probes.firewall.status' "$tmp/doc.json")
	[ "$st" = failed ] || [ "$st" = timed_out ] || fail "$1: firewall probe is '$st'"
	others >"$tmp/others.now"
	cmp -s "$tmp/others.good" "$tmp/others.now" ||
		fail "$1: other checks changed: $(tr '\n' ' ' <"$tmp/others.now")"
	[ -n "$bad$nomatch" ] || ok "$1: firewall checks UNKNOWN: $(jq -r '.checks[] |
		select(.id == "firewall.forward") | .summary' "$tmp/doc.json")"
}

check "$tmp/bin/missing-iptables-save" "$tmp/bin/nft-empty"
expect_unknown "iptables-save missing" "missing-iptables-save.*(No such file|not found|not installed)"
check "$tmp/bin/hang" "$tmp/bin/nft-empty"
expect_unknown "iptables-save hanging" "hang.*(timed out|deadline)"
check "$tmp/bin/flood" "$tmp/bin/nft-empty"
expect_unknown "iptables-save printing 50 MB" "flood.*(output|too large|too long|MiB|bytes)"
check "$tmp/bin/halfway" "$tmp/bin/nft-empty"
expect_unknown "iptables-save exiting 1 halfway" "halfway.*(exit|status) .*1.*read error"

# No process of a fake is left behind (the hanging ones were killed).
left=$(pgrep -f "$tmp/bin/" || true)
[ -z "$left" ] || fail "fake programs still running: $left"

# nft: a missing nft means no native rules (the host has only what
# iptables shows); one that fails leaves the native rules unknown, so the
# firewall checks cannot be OK.
check "$tmp/bin/good" "$tmp/bin/missing-nft"
fw=$(jq -r '.checks[] | select(.id == "firewall.forward") | .status' "$tmp/doc.json")
[ "$fw" = ok ] || fail "nft missing: firewall.forward is '$fw', not OK on iptables' rules"
jq -r '.firewall.nft_error // ""' "$tmp/doc.json" | grep -q "not installed" ||
	fail "nft missing: not said ($(jq -c '.firewall.nft_error' "$tmp/doc.json"))"
ok "nft missing: iptables' rules judged, nft_error says it is not installed"
check "$tmp/bin/good" "$tmp/bin/nft-hang"
expect_unknown "nft hanging" "nft-hang.*(timed out|deadline)"
check "$tmp/bin/good" "$tmp/bin/nft-flood"
expect_unknown "nft printing 50 MB" "nft-flood.*(output|too large|too long|MiB|bytes)"
check "$tmp/bin/good" "$tmp/bin/nft-halfway"
expect_unknown "nft exiting 1 halfway" "nft-halfway.*(exit|status) .*1"
finish
