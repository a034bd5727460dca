#!/bin/bash
# The systemd unit (packaging/systemd/sparkmon.service), checked three ways:
#
# 1. systemd-analyze verify, and systemd-analyze security with an exposure
#    of at most 2.0 (--threshold=20).
# 2. systemd is not PID 1 here, so the daemon runs with exactly the unit's
#    privileges instead: a uid of the DynamicUser range, the capabilities
#    named by AmbientCapabilities= (ambient, inheritable, bounding set),
#    no_new_privs, the system calls its SystemCallFilter= lines allow (as
#    systemd-analyze expands them; every other one fails with EPERM, as
#    SystemCallErrorNumber= says), and the root-only wg-quick file handed over in
#    $CREDENTIALS_DIRECTORY as the unit's LoadCredential= line does.
#    In a network namespace with real nf_tables rules and a real wireguard-go
#    interface it must read the firewall, forwarding and the wg-quick file;
#    `sparkmon serve` must answer HTTP, speak the sd_notify protocol
#    (READY=1, WATCHDOG=1) and stop on SIGTERM.
# 3. Kernel WireGuard (the DGX Spark's case) with the same privileges, in
#    the test VM (tests/integration/kernel/vm.sh): this kernel has no
#    WireGuard module.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
unit=$repo/packaging/systemd/sparkmon.service
need_tools systemd-analyze setpriv iptables-save iptables wireguard-go wg ip jq curl python3
need_root "network namespaces, setpriv --reuid"

tag=$$
ns=smpk$tag
wgif=smpkw$tag # at most 15 bytes
uplink=smpku$tag
uid=61999 # in systemd's DynamicUser range (61184-65519), in no group
port=$((20000 + tag % 10000))
wgport=$((30000 + tag % 10000))
tmpdir pkgunit
chmod 755 "$tmp"

# ---- 1. static analysis -------------------------------------------------------
# The unit names /usr/bin/sparkmon; verify wants the binary to exist.
sed "s|/usr/bin/sparkmon|$SPARKMON|" "$unit" >"$tmp/sparkmon.service"
if systemd-analyze verify --man=no "$tmp/sparkmon.service" >"$tmp/verify.txt" 2>&1 &&
	! [ -s "$tmp/verify.txt" ]; then
	ok "systemd-analyze verify: clean"
else
	fail "systemd-analyze verify"
	cat "$tmp/verify.txt" >&2
fi

if systemd-analyze security --offline=yes --threshold=20 "$tmp/sparkmon.service" \
	>"$tmp/security.txt" 2>&1; then
	ok "systemd-analyze security: $(grep -o 'Overall exposure level.*' "$tmp/security.txt")"
else
	fail "systemd-analyze security: exposure above 2.0"
	cat "$tmp/security.txt" >&2
fi

for directive in Type=notify 'WatchdogSec=[1-9]' DynamicUser=yes \
	AmbientCapabilities=CAP_NET_ADMIN CapabilityBoundingSet=CAP_NET_ADMIN NoNewPrivileges=yes \
	ProtectSystem=strict ProtectHome=yes PrivateTmp=yes StateDirectory=sparkmon \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \
	SystemCallFilter=@system-service 'DeviceAllow=char-nvidia' \
	'LoadCredential=wireguard_wg-dgx-spark.conf:/etc/wireguard/wg-dgx-spark.conf$'; do
	grep -Eq "^$directive" "$unit" || fail "the unit lacks $directive"
done
# What sparkmon calls beyond @system-service comes after the deny list, or
# that list would take it away again (capset is in @privileged).
last=$(grep '^SystemCallFilter=' "$unit" | tail -1)
for call in capset seccomp landlock_create_ruleset landlock_add_rule landlock_restrict_self; do
	echo "$last" | grep -qw "$call" || fail "the last SystemCallFilter= line lacks $call"
done
# Only the wg-quick files, never the whole folder (private key files).
grep -E '^LoadCredential=' "$unit" | grep -Ev ':/etc/wireguard/[^/]+\.conf$' &&
	fail "the unit loads more than wg-quick files as credentials"

grep -q '^PrivateDevices=yes' "$unit" && fail "PrivateDevices=yes hides the GPU from nvidia-smi"

# ---- 2. the unit's privileges, on this kernel ------------------------------------
# setpriv's capability list, from the unit itself: CAP_NET_ADMIN -> +net_admin.
ambient=$(sed -n 's/^AmbientCapabilities=//p' "$unit")
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
[ "$ambient" = "$bounding" ] || fail "AmbientCapabilities ($ambient) != bounding set ($bounding)"
caps=$(echo "$ambient" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_/+/p' | paste -sd, -)
[ -n "$caps" ] || {
	echo "FAIL: no AmbientCapabilities= in $unit" >&2
	exit 1
}

# The unit's system call filter: the calls its SystemCallFilter= lines
# allow, as systemd reads them (the first allow-list, less each ~ line,
# plus each later allow-list), loaded by lib/unitfilter.c.
expand_calls() {
	for item in "$@"; do
		case $item in
		@*) expand_calls $(systemd-analyze syscall-filter "$item" | tail -n +2 |
			sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e '/^$/d') ;;
		*) echo "$item" ;;
		esac
	done
}
: >"$tmp/syscalls"
sed -n 's/^SystemCallFilter=//p' "$unit" >"$tmp/filter-lines"
while read -r line; do
	case $line in
	~*)
		expand_calls ${line#\~} | sort -u >"$tmp/syscalls.less"
		sort -u "$tmp/syscalls" | comm -23 - "$tmp/syscalls.less" >"$tmp/syscalls.new"
		mv "$tmp/syscalls.new" "$tmp/syscalls"
		;;
	*) expand_calls $line >>"$tmp/syscalls" ;;
	esac
done <"$tmp/filter-lines"
grep -qx capget "$tmp/syscalls" && ! grep -qx setuid "$tmp/syscalls" ||
	fail "the unit's system call filter did not expand as expected"
cc -o "$tmp/unitfilter" "$here/lib/unitfilter.c" -lseccomp || fail "cannot build unitfilter"
chmod 0755 "$tmp/unitfilter"
chmod 0644 "$tmp/syscalls"

# Runs a command in the namespace as the unit would: the uid, the
# capabilities (nothing else), no_new_privs, the system call filter. Extra
# capabilities may be given in $EXTRA_CAPS (",+dac_override").
as_unit() {
	ip netns exec "$ns" setpriv --reuid=$uid --regid=$uid --clear-groups --no-new-privs \
		--inh-caps=-all,"$caps${EXTRA_CAPS:-}" --ambient-caps="$caps${EXTRA_CAPS:-}" \
		--bounding-set=-all,"$caps${EXTRA_CAPS:-}" "$tmp/unitfilter" "$tmp/syscalls" "$@"
}
nsx() {
	ip netns exec "$ns" "$@"
}

netns_add "$ns"
nsx sysctl -qw net.ipv4.ip_forward=1
# The uplink: a veth end carrying the default route.
nsx ip link add "$uplink" type veth peer name "${uplink}p"
nsx ip addr add 192.0.2.2/24 dev "$uplink"
nsx ip link set "$uplink" up
nsx ip link set "${uplink}p" up
nsx ip route add default via 192.0.2.1
# What wg-quick's PostUp does in the guide (nf_tables backend here).
nsx iptables -A FORWARD -i "$wgif" -j ACCEPT
nsx iptables -t nat -A POSTROUTING -o "$uplink" -j MASQUERADE

(umask 077 && wg genkey >"$tmp/server.key")
peer_pub=$(wg genkey | wg pubkey)
wg_go "$ns" "$wgif" /dev/null
nsx wg set "$wgif" listen-port "$wgport" private-key "$tmp/server.key" \
	peer "$peer_pub" allowed-ips 10.213.0.2/32
nsx ip addr add 10.213.0.1/24 dev "$wgif"
nsx ip link set "$wgif" up

# The wg-quick file: root-only, in a root-only folder, as on a real host.
mkdir -m 0700 "$tmp/wireguard"
cat >"$tmp/wireguard/$wgif.conf" <<EOF
[Interface]
Address = 10.213.0.1/24
ListenPort = $wgport
PrivateKey = $(cat "$tmp/server.key")
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o $uplink -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o $uplink -j MASQUERADE

[Peer]
# Name = laptop
PublicKey = $peer_pub
AllowedIPs = 10.213.0.2/32
EOF
chmod 0600 "$tmp/wireguard/$wgif.conf"
# What LoadCredential=wireguard_<if>.conf:/etc/wireguard/<if>.conf leaves
# for the service.
creds=$tmp/credentials
mkdir "$creds"
cp "$tmp/wireguard/$wgif.conf" "$creds/wireguard_$wgif.conf"
chown -R $uid:$uid "$creds"
chmod 0400 "$creds/wireguard_$wgif.conf"
chmod 0500 "$creds"
# StateDirectory=sparkmon, owned by the dynamic user.
mkdir "$tmp/state"
chown $uid:$uid "$tmp/state"

cat >"$tmp/sparkmon.conf" <<EOF
[general]
state_dir = $tmp/state
interval = 1s

[wireguard]
interfaces = $wgif
wg_quick_file = $tmp/wireguard/%i.conf

[http]
listen = 127.0.0.1:$port

[endpoint]
# Loopback only: nothing leaves the machine.
ip_urls = http://127.0.0.1:9/
EOF
chmod 0644 "$tmp/sparkmon.conf"

# Negative control: without the capability nf_tables refuses the dump, so a
# pass below is the capability's doing.
if ip netns exec "$ns" setpriv --reuid=$uid --regid=$uid --clear-groups --inh-caps=-all \
	iptables-save >"$tmp/nocap.rules" 2>&1; then
	fail "iptables-save without CAP_NET_ADMIN succeeded: the control proves nothing"
else
	ok "control: iptables-save without CAP_NET_ADMIN is refused"
fi
if as_unit iptables-save >"$tmp/unit.rules" 2>&1 &&
	grep -q -- "-A POSTROUTING -o $uplink -j MASQUERADE" "$tmp/unit.rules"; then
	ok "iptables-save (nf_tables) with the unit's capabilities lists the rules"
else
	fail "iptables-save with the unit's capabilities"
	cat "$tmp/unit.rules" >&2
fi

only=memory,forwarding,firewall,wireguard
as_unit env CREDENTIALS_DIRECTORY="$creds" "$SPARKMON" -c "$tmp/sparkmon.conf" \
	check --only $only --json >"$tmp/unit.json" 2>"$tmp/unit.err" || true
jq -e . "$tmp/unit.json" >/dev/null || {
	echo "FAIL: no JSON from sparkmon with the unit's privileges:" >&2
	cat "$tmp/unit.err" >&2
	exit 1
}
status_of() {
	jq -r --arg id "$2" '.checks[] | select(.id == $id) | .status' "$1"
}
for probe in memory forwarding firewall wireguard; do
	s=$(jq -r ".probes.$probe.status" "$tmp/unit.json")
	[ "$s" = ok ] && ok "probe $probe: ok with the unit's privileges" ||
		fail "probe $probe: $s ($(jq -c ".probes.$probe.error" "$tmp/unit.json"))"
done
for check in forwarding.ipv4 firewall.forward firewall.masquerade firewall.uplink \
	wireguard.interface; do
	s=$(status_of "$tmp/unit.json" $check)
	[ "$s" = ok ] && ok "$check: ok" ||
		fail "$check: $s: $(jq -c --arg id $check '.checks[] | select(.id == $id)' "$tmp/unit.json")"
done
# The wg-quick file itself is unreadable to this uid: what sparkmon knows of
# it (the port, the PostUp rules) came through the credential.
if [ "$(jq -r ".wireguard.interfaces[0].wg_quick_error" "$tmp/unit.json")" = null ] &&
	[ "$(jq -r ".wireguard.interfaces[0].wg_quick_listen_port" "$tmp/unit.json")" = "$wgport" ] &&
	jq -e --arg f "$tmp/wireguard/$wgif.conf PostUp" \
		'[.firewall.expected_rules[] | select(.origin == $f and .present)] | length == 2' \
		"$tmp/unit.json" >/dev/null; then
	ok "the root-only wg-quick file was read through \$CREDENTIALS_DIRECTORY"
else
	fail "the wg-quick file did not arrive through the credential"
	jq '.wireguard.interfaces[0], .firewall.expected_rules' "$tmp/unit.json" >&2
fi
# Control: the same run without the credential cannot read it.
as_unit env -u CREDENTIALS_DIRECTORY "$SPARKMON" -c "$tmp/sparkmon.conf" \
	check --only $only --json >"$tmp/nocred.json" 2>/dev/null || true
jq -r '.wireguard.interfaces[0].wg_quick_error' "$tmp/nocred.json" | grep -q "Permission denied" &&
	ok "control: without the credential the wg-quick file is 'Permission denied'" ||
	fail "control: without the credential: $(jq -c '.wireguard.interfaces[0].wg_quick_error' "$tmp/nocred.json")"

# wireguard-go's UAPI socket lives in /var/run/wireguard, which wireguard-go
# makes root-only (0700): CAP_NET_ADMIN does not open it, so the unit reads a
# userspace interface's link but not its peers. Said, not hidden: UNKNOWN.
s=$(status_of "$tmp/unit.json" wireguard.peers)
if [ "$s" = unknown ] &&
	jq -r '.wireguard.interfaces[0].error' "$tmp/unit.json" | grep -q "not permitted"; then
	ok "userspace WireGuard with the unit's privileges: peers UNKNOWN, not permitted (documented)"
else
	fail "userspace WireGuard with the unit's privileges: wireguard.peers is '$s'"
	jq '.wireguard.interfaces[0]' "$tmp/unit.json" >&2
fi
# The drop-in sparkmon(8) documents for userspace WireGuard adds
# CAP_DAC_OVERRIDE; with it the peers are read.
EXTRA_CAPS=,+dac_override as_unit env CREDENTIALS_DIRECTORY="$creds" "$SPARKMON" \
	-c "$tmp/sparkmon.conf" check --only wireguard --json >"$tmp/dac.json" 2>/dev/null || true
if [ "$(status_of "$tmp/dac.json" wireguard.peers)" = ok ] &&
	[ "$(status_of "$tmp/dac.json" wireguard.listen_port)" = ok ] &&
	[ "$(jq -r '.wireguard.interfaces[0].backend' "$tmp/dac.json")" = userspace ] &&
	[ "$(jq -r '.wireguard.interfaces[0].peer_count' "$tmp/dac.json")" = 1 ]; then
	ok "userspace WireGuard with the documented CAP_DAC_OVERRIDE drop-in: peers read"
else
	fail "userspace WireGuard with CAP_DAC_OVERRIDE"
	jq '.checks, .wireguard.interfaces[0]' "$tmp/dac.json" >&2
fi

# ---- sparkmon serve under the unit's privileges ------------------------------------
# A notify socket as systemd's: a datagram socket that collects messages.
cat >"$tmp/notify.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + float(sys.argv[3])
with open(sys.argv[2], "a") as out:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        out.write(msg.replace("\n", " ") + "\n")
        out.flush()
EOF
python3 "$tmp/notify.py" "$tmp/notify.sock" "$tmp/notify.log" 20 &
listener=$!
kill_at_exit $listener
for _ in $(seq 50); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done
chmod 0777 "$tmp/notify.sock"

# Not through as_unit: $! must be the daemon itself (ip netns exec,
# setpriv and env each exec the next), not a subshell. It runs in the
# namespace, so the teardown stops it on a failure.
ip netns exec "$ns" setpriv --reuid=$uid --regid=$uid --clear-groups --no-new-privs \
	--inh-caps=-all,"$caps" --ambient-caps="$caps" --bounding-set=-all,"$caps" \
	"$tmp/unitfilter" "$tmp/syscalls" env CREDENTIALS_DIRECTORY="$creds" NOTIFY_SOCKET="$tmp/notify.sock" \
	WATCHDOG_USEC=2000000 "$SPARKMON" -c "$tmp/sparkmon.conf" serve \
	>"$tmp/serve.log" 2>&1 &
daemon=$!
up=no
for _ in $(seq 100); do
	if nsx curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
		up=yes
		break
	fi
	sleep 0.1
done
if [ $up = yes ]; then
	ok "serve with the unit's privileges answers /healthz"
	sleep 2.5 # a few polls, and at least one watchdog period
	nsx curl -fsS "http://127.0.0.1:$port/metrics" >"$tmp/metrics.txt"
	for series in 'sparkmon_check_status{check="firewall.masquerade"} 0' \
		'sparkmon_check_status{check="firewall.uplink"} 0' \
		'sparkmon_probe_success{probe="firewall"} 1' \
		'sparkmon_ip_forward_enabled 1'; do
		grep -qF "$series" "$tmp/metrics.txt" && ok "metrics: $series" ||
			fail "metrics lack '$series'"
	done
	# The page as a browser on the VPN gets it: on the WireGuard address.
	if nsx curl -fsS --max-time 5 "http://10.213.0.1:$port/" >"$tmp/page.html" 2>&1 &&
		grep -qi '<html' "$tmp/page.html"; then
		ok "the status page is served on the WireGuard address 10.213.0.1:$port"
	else
		fail "no status page on the WireGuard address: $(head -c 300 "$tmp/page.html")"
	fi
else
	fail "serve did not answer /healthz within 10 s"
	cat "$tmp/serve.log" >&2
fi
start=$(date +%s%N)
kill -TERM "$daemon"
set +e
wait "$daemon"
code=$?
set -e
ms=$((($(date +%s%N) - start) / 1000000))
[ "$code" = 0 ] && [ $ms -lt 2000 ] && ok "SIGTERM: exit 0 after $ms ms" ||
	fail "SIGTERM: exit $code after $ms ms"
kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
grep -q 'READY=1' "$tmp/notify.log" && ok "sd_notify: READY=1" ||
	fail "sd_notify: no READY=1 (Type=notify would time out): $(cat "$tmp/notify.log")"
grep -q 'WATCHDOG=1' "$tmp/notify.log" && ok "sd_notify: WATCHDOG=1" ||
	fail "sd_notify: no WATCHDOG=1 within a 2 s watchdog period"
grep -q 'STOPPING=1' "$tmp/notify.log" && ok "sd_notify: STOPPING=1" ||
	fail "sd_notify: no STOPPING=1"

# ---- 3. kernel WireGuard, the unit's privileges, in the VM -------------------------
vmout=$tmp/vm
if "$repo/tests/integration/kernel/vm.sh" run --scenario "$here/packaging/scenario-kernel-caps.sh" \
	--out "$vmout" --timeout 150 --bin "$SPARKMON" >"$tmp/vm.log" 2>&1; then
	grep -q '^CapAmb:.*0000000000001000$' "$vmout/caps.txt" ||
		fail "VM: the process did not have CAP_NET_ADMIN alone: $(cat "$vmout/caps.txt")"
	if [ "$(jq -r '.wireguard.interfaces[0].backend' "$vmout/unit.json")" = kernel ] &&
		[ "$(status_of "$vmout/unit.json" wireguard.listen_port)" = ok ] &&
		[ "$(status_of "$vmout/unit.json" wireguard.peers)" = ok ] &&
		[ "$(jq -r '.wireguard.interfaces[0].peers[0].public_key' "$vmout/unit.json")" = \
			"$(awk 'NR == 2 { print $1 }' "$vmout/dump")" ] &&
		[ "$(jq -r '.wireguard.interfaces[0].wg_quick_error' "$vmout/unit.json")" = null ]; then
		ok "kernel WireGuard read with the unit's privileges, wg-quick file via the credential"
	else
		fail "kernel WireGuard with the unit's privileges"
		cat "$vmout/unit.err" >&2
		jq '.checks, .wireguard' "$vmout/unit.json" >&2
	fi
	jq -r '.wireguard.interfaces[0].wg_quick_error' "$vmout/nocred.json" |
		grep -q "Permission denied" && ok "VM control: no credential, no wg-quick file" ||
		fail "VM control: $(jq -c '.wireguard.interfaces[0].wg_quick_error' "$vmout/nocred.json")"
else
	fail "the VM scenario failed"
	tail -20 "$tmp/vm.log" >&2
	cat "$vmout/scenario.log" 2>/dev/null >&2
fi

finish
