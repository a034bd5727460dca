# Runs inside the test VM (busybox sh) as `sh /scenario OUT DATA`; see
# tests/integration/kernel/vm.sh.
#
# Kernel WireGuard, the DGX Spark's case, read by sparkmon with exactly the
# systemd unit's privileges: a dynamic-user-like uid with CAP_NET_ADMIN as
# its only (ambient) capability, and the root-only wg-quick file passed as a
# credential in $CREDENTIALS_DIRECTORY.
out=$1
set -u

fail() {
	echo "scenario: $*" >&2
	exit 1
}

# busybox runs its own applets before PATH: setpriv needs its full path.
ip() {
	/usr/sbin/ip "$@"
}

uid=61999
umask 077
wg genkey >/tmp/server.key || fail "wg genkey"
pub_peer=$(wg genkey | wg pubkey) || fail "wg pubkey"
umask 022

ip link add wg0 type wireguard || fail "ip link add wg0 type wireguard"
wg set wg0 listen-port 51820 private-key /tmp/server.key \
	peer "$pub_peer" allowed-ips 10.100.0.2/32 || fail "wg set"
ip addr add 10.100.0.1/24 dev wg0 || fail "ip addr add"
ip link set wg0 up || fail "ip link set wg0 up"

# The wg-quick file as wg-quick wants it: root-only, in a root-only folder.
mkdir -p -m 0700 /etc/wireguard
cat >/etc/wireguard/wg0.conf <<CONF
[Interface]
Address = 10.100.0.1/24
ListenPort = 51820
PrivateKey = $(cat /tmp/server.key)

[Peer]
# Name = laptop
PublicKey = $pub_peer
AllowedIPs = 10.100.0.2/32
CONF
chmod 0600 /etc/wireguard/wg0.conf

# What LoadCredential=wireguard:/etc/wireguard makes of it.
mkdir -p /run/credentials/sparkmon.service
cp /etc/wireguard/wg0.conf /run/credentials/sparkmon.service/wireguard_wg0.conf
chown -R $uid:$uid /run/credentials/sparkmon.service
chmod 0400 /run/credentials/sparkmon.service/wireguard_wg0.conf
chmod 0500 /run/credentials/sparkmon.service

cat >/tmp/sparkmon.conf <<CONF
[wireguard]
interfaces = wg0

[peer laptop]
public_key = $pub_peer
CONF
chmod 0644 /tmp/sparkmon.conf

wg show wg0 dump >"$out/dump" 2>&1
ls -l /etc/wireguard/wg0.conf >"$out/wgquick.ls" 2>&1

as_unit() {
	CREDENTIALS_DIRECTORY=/run/credentials/sparkmon.service \
		/usr/bin/setpriv --reuid=$uid --regid=$uid --clear-groups \
		--inh-caps=-all,+net_admin --ambient-caps=+net_admin --bounding-set=-all,+net_admin \
		"$@"
}

as_unit grep Cap /proc/self/status >"$out/caps.txt" 2>&1
as_unit sparkmon -c /tmp/sparkmon.conf check --only wireguard --json \
	>"$out/unit.json" 2>"$out/unit.err"
echo $? >"$out/unit.rc"
# The same without the credential: the wg-quick file stays unreadable.
CREDENTIALS_DIRECTORY= /usr/bin/setpriv --reuid=$uid --regid=$uid --clear-groups \
	--inh-caps=-all,+net_admin --ambient-caps=+net_admin --bounding-set=-all,+net_admin \
	sparkmon -c /tmp/sparkmon.conf check --only wireguard --json \
	>"$out/nocred.json" 2>"$out/nocred.err"
echo $? >"$out/nocred.rc"
exit 0
