/* The wireguard.* checks of the verdict, each status, on built snapshots. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
#include "tests/unit/verdict_eval.h"

#define NOW 1700000000

#define PERM_HINT                                                                                  \
	"run sparkmon as root or grant it CAP_NET_ADMIN (systemd: "                                \
	"AmbientCapabilities=CAP_NET_ADMIN)"
#define SOCKET_PERM_HINT                                                                           \
	"run sparkmon as root or grant it CAP_DAC_OVERRIDE to open /var/run/wireguard (systemd: "  \
	"AmbientCapabilities=CAP_NET_ADMIN CAP_DAC_OVERRIDE)"
#define START_HINT(n)                                                                              \
	"systemctl start wg-quick@" n " (or wg-quick up " n "); journalctl -u wg-quick@" n         \
	" if it does not stay up"
#define PEER_HINT(name, dev)                                                                       \
	"on the client " name ": is it online, is its Endpoint this server's public address and "  \
	"port, PersistentKeepalive = 25? Here: wg show " dev " latest-handshakes"

#define KEY_A "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_B "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

/* A snapshot of up to four devices with up to four peers each, every one
 * in the state the test sets. */
struct fixture {
	struct snapshot snap;
	struct config cfg;
	struct wireguard_device devs[4];
	struct wireguard_peer peers[4][4];
	struct wireguard_ip addr[4];
	char missing[2][WIREGUARD_NAME_MAX + WIREGUARD_KEY_B64_LEN + 4];
};

static struct fixture *new_fixture(size_t n_devices)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	config_defaults(&f->cfg);
	f->cfg.interval_ms = 5000;
	f->cfg.wireguard_stale_after_ms = 600000;
	f->snap.probes[PROBE_WIREGUARD].status = PROBE_OK;
	f->snap.wireguard.devices = f->devs;
	f->snap.wireguard.n_devices = n_devices;
	f->snap.wireguard.collected_at = NOW;
	f->snap.wireguard.missing_required = f->missing;
	for (size_t i = 0; i < 4; i++) {
		struct wireguard_device *d = &f->devs[i];

		snprintf(d->name, sizeof(d->name), "wg%zu", i);
		d->ifindex = (int)i + 3;
		d->link_found = true;
		d->link_up = true;
		d->backend = WIREGUARD_BACKEND_KERNEL;
		d->listen_port = 51820;
		d->wgquick_listen_port = 51820;
		snprintf(d->wgquick_path, sizeof(d->wgquick_path), "/etc/wireguard/wg%zu.conf", i);
		d->peers = f->peers[i];
		f->addr[i].family = AF_INET;
		f->addr[i].addr.v4.s_addr = htonl(0x0a640001 + ((uint32_t)i << 8));
		f->addr[i].cidr = 24;
		d->addresses = &f->addr[i];
		d->n_addresses = 1;
	}
	return f;
}

static struct wireguard_peer *add_peer(struct fixture *f, size_t dev, const char *name,
                                       const char *key, bool required, int64_t age)
{
	struct wireguard_device *d = &f->devs[dev];
	struct wireguard_peer *p = &d->peers[d->n_peers++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->public_key, sizeof(p->public_key), "%s", key);
	p->required = required;
	p->last_handshake = age < 0 ? 0 : NOW - age;
	return p;
}

/* ---- wireguard.interface ------------------------------------------------- */

static void test_interface_ok(void **state)
{
	struct fixture *f = new_fixture(2);

	(void)state;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_OK,
	           "wg0 up (10.100.0.1/24); wg1 up (10.100.1.1/24)", "");
	/* No address: just "up". */
	f->devs[1].n_addresses = 0;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_OK,
	           "wg0 up (10.100.0.1/24); wg1 up", "");
	free(f);
}

static void test_interface_none(void **state)
{
	struct fixture *f = new_fixture(0);

	(void)state;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_CRITICAL,
	           "no WireGuard interface found",
	           "wg-quick up <name> (or systemctl enable --now wg-quick@<name>); check with: "
	           "ip -d link show type wireguard");
	/* Userspace ones may exist unseen: cannot tell. */
	f->snap.wireguard.socket_dir_error = -EACCES;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_UNKNOWN,
	           "no kernel WireGuard interface, and userspace ones cannot be seen: "
	           "/var/run/wireguard is not readable",
	           SOCKET_PERM_HINT);
	free(f);
}

/* Each way an interface fails to carry traffic is CRITICAL; only the
 * broken ones are named, and the hint is for the first of them. */
static void test_interface_problems(void **state)
{
	struct fixture *f = new_fixture(2);

	(void)state;
	f->devs[1].link_up = false;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_CRITICAL, "wg1 is down",
	           START_HINT("wg1"));

	f->devs[0].link_found = false;
	f->devs[0].backend = WIREGUARD_BACKEND_NONE;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_CRITICAL,
	           "wg0 does not exist; wg1 is down", START_HINT("wg0"));

	f->devs[0].backend = WIREGUARD_BACKEND_USERSPACE;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_CRITICAL,
	           "wg0 has a userspace socket but no network interface in this namespace; wg1 "
	           "is down",
	           START_HINT("wg0"));

	f->devs[0].link_found = true;
	f->devs[0].error = -ECONNREFUSED;
	strcpy(f->devs[0].error_text, "userspace socket refuses connections (stale socket?)");
	f->devs[1].link_up = true;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_CRITICAL,
	           "wg0 userspace socket refuses connections (stale socket?)", START_HINT("wg0"));

	/* Not permitted to read the peers: the interface itself is up. */
	f->devs[0].error = -EPERM;
	verdict_is(&f->cfg, &f->snap, "wireguard.interface", CHECK_OK,
	           "wg0 up (10.100.0.1/24); wg1 up (10.100.1.1/24)", "");
	free(f);
}

/* ---- wireguard.listen_port ----------------------------------------------- */

static void test_listen_port_ok(void **state)
{
	struct fixture *f = new_fixture(2);

	(void)state;
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_OK,
	           "wg0 listens on UDP 51820 as expected; wg1 listens on UDP 51820 as expected",
	           "");
	/* The config's port wins over the wg-quick file's. */
	f->cfg.wireguard_listen_port = 51821;
	f->devs[0].listen_port = 51821;
	f->snap.wireguard.n_devices = 1;
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_OK,
	           "wg0 listens on UDP 51821 as expected", "");
	free(f);
}

/* Nothing says which port the router forwards, or no such device: the
 * check does not apply. */
static void test_listen_port_absent(void **state)
{
	struct fixture *f = new_fixture(1);

	(void)state;
	f->devs[0].wgquick_listen_port = -1;
	verdict_absent(&f->cfg, &f->snap, "wireguard.listen_port");
	f->devs[0].wgquick_listen_port = 51820;
	f->devs[0].backend = WIREGUARD_BACKEND_NONE;
	f->devs[0].link_found = false;
	verdict_absent(&f->cfg, &f->snap, "wireguard.listen_port");
	f->snap.wireguard.n_devices = 0;
	verdict_absent(&f->cfg, &f->snap, "wireguard.listen_port");
	free(f);
}

static void test_listen_port_wrong(void **state)
{
	struct fixture *f = new_fixture(1);

	(void)state;
	f->devs[0].listen_port = 51999;
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_CRITICAL,
	           "wg0 listens on UDP 51999, expected 51820 (from /etc/wireguard/wg0.conf)",
	           "the router forwards UDP 51820: wg set wg0 listen-port 51820, and set "
	           "ListenPort = 51820 in /etc/wireguard/wg0.conf so that it stays");
	f->devs[0].listen_port = 0;
	f->cfg.wireguard_listen_port = 443;
	f->devs[0].wgquick_path[0] = '\0';
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_CRITICAL,
	           "wg0 has no listen port, expected 443 (from sparkmon's config)",
	           "the router forwards UDP 443: wg set wg0 listen-port 443, and set "
	           "ListenPort = 443 in the wg-quick file so that it stays");
	free(f);
}

static void test_listen_port_unknown(void **state)
{
	struct fixture *f = new_fixture(2);

	(void)state;
	f->snap.wireguard.n_devices = 1;
	f->devs[0].error = -EPERM;
	strcpy(f->devs[0].error_text, "Operation not permitted");
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_UNKNOWN,
	           "wg0: port unknown (Operation not permitted)", PERM_HINT);
	f->devs[0].backend = WIREGUARD_BACKEND_USERSPACE;
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_UNKNOWN,
	           "wg0: port unknown (Operation not permitted)", SOCKET_PERM_HINT);
	/* Not permitted to even see whether it exists: still judged. */
	f->devs[0].backend = WIREGUARD_BACKEND_NONE;
	f->devs[0].error = -EACCES;
	strcpy(f->devs[0].error_text, "Permission denied");
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_UNKNOWN,
	           "wg0: port unknown (Permission denied)", PERM_HINT);
	f->devs[0].backend = WIREGUARD_BACKEND_KERNEL;
	f->devs[0].error = -EIO;
	strcpy(f->devs[0].error_text, "Input/output error");
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_UNKNOWN,
	           "wg0: port unknown (Input/output error)", "wg show to see the port");

	/* A wrong port outranks a port that could not be read, in either
	 * order, and keeps its own hint. */
	f->snap.wireguard.n_devices = 2;
	f->devs[1].listen_port = 1;
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_CRITICAL,
	           "wg0: port unknown (Input/output error); wg1 listens on UDP 1, expected "
	           "51820 (from /etc/wireguard/wg1.conf)",
	           "the router forwards UDP 51820: wg set wg1 listen-port 51820, and set "
	           "ListenPort = 51820 in /etc/wireguard/wg1.conf so that it stays");
	f->devs[0].error = 0;
	f->devs[0].listen_port = 2;
	f->devs[1].listen_port = 0;
	f->devs[1].error = -EIO;
	strcpy(f->devs[1].error_text, "Input/output error");
	verdict_is(&f->cfg, &f->snap, "wireguard.listen_port", CHECK_CRITICAL,
	           "wg0 listens on UDP 2, expected 51820 (from /etc/wireguard/wg0.conf); wg1: "
	           "port unknown (Input/output error)",
	           "the router forwards UDP 51820: wg set wg0 listen-port 51820, and set "
	           "ListenPort = 51820 in /etc/wireguard/wg0.conf so that it stays");
	free(f);
}

/* ---- wireguard.peers ----------------------------------------------------- */

/* Peers that are not required are counted, never judged. */
static void test_peers_informational(void **state)
{
	struct fixture *f = new_fixture(1);

	(void)state;
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_OK, "0 peers, 0 up", "");
	add_peer(f, 0, "phone", KEY_A, false, 10);
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_OK, "1 peer, 1 up", "");
	add_peer(f, 0, "", KEY_B, false, -1);
	add_peer(f, 0, "old", KEY_B, false, 7200);
	add_peer(f, 0, "tablet", KEY_B, false, 300);
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_OK, "4 peers, 1 up", "");
	/* A required peer that is up is fine too. */
	f->peers[0][0].required = true;
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_OK, "4 peers, 1 up", "");
	free(f);
}

static void test_peers_required_stale(void **state)
{
	struct fixture *f = new_fixture(1);

	(void)state;
	add_peer(f, 0, "laptop", KEY_A, true, 300);
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_WARNING,
	           "1 peer, 0 up; required laptop is stale (last handshake 5m 0s ago)",
	           PEER_HINT("laptop", "wg0"));
	free(f);
}

static void test_peers_required_down(void **state)
{
	struct fixture *f = new_fixture(1);

	(void)state;
	add_peer(f, 0, "laptop", KEY_A, true, 7260);
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_CRITICAL,
	           "1 peer, 0 up; required laptop is down (last handshake 2h 1m ago)",
	           PEER_HINT("laptop", "wg0"));
	/* Just past the stale limit. */
	f->peers[0][0].last_handshake = NOW - 601;
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_CRITICAL,
	           "1 peer, 0 up; required laptop is down (last handshake 10m 1s ago)",
	           PEER_HINT("laptop", "wg0"));
	free(f);
}

static void test_peers_required_never(void **state)
{
	struct fixture *f = new_fixture(1);

	(void)state;
	add_peer(f, 0, "laptop", KEY_A, true, -1);
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_CRITICAL,
	           "1 peer, 0 up; required laptop never connected", PEER_HINT("laptop", "wg0"));
	/* Without a name the public key says which. */
	f->peers[0][0].name[0] = '\0';
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_CRITICAL,
	           "1 peer, 0 up; required " KEY_A " never connected", PEER_HINT("", "wg0"));
	free(f);
}

/* The worst required peer sets the status and the hint; every one is
 * named, on every device. */
static void test_peers_mixed(void **state)
{
	struct fixture *f = new_fixture(2);

	(void)state;
	add_peer(f, 0, "laptop", KEY_A, true, 300);
	add_peer(f, 0, "phone", KEY_B, false, 5);
	add_peer(f, 1, "desktop", KEY_B, true, 4000);
	add_peer(f, 1, "nas", KEY_A, true, 100);
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_CRITICAL,
	           "4 peers, 2 up; required laptop is stale (last handshake 5m 0s ago); "
	           "required desktop is down (last handshake 1h 6m ago)",
	           PEER_HINT("desktop", "wg1"));
	free(f);
}

static void test_peers_missing_required(void **state)
{
	struct fixture *f = new_fixture(1);

	(void)state;
	add_peer(f, 0, "laptop", KEY_A, true, 300);
	strcpy(f->missing[0], "desktop (" KEY_B ")");
	f->snap.wireguard.n_missing_required = 1;
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_CRITICAL,
	           "1 peer, 0 up; required laptop is stale (last handshake 5m 0s ago); required "
	           "desktop (" KEY_B ") is not a peer of any watched interface",
	           "add it: wg set <interface> peer <public key> allowed-ips <its address>/32, "
	           "and a [Peer] section in the wg-quick file");
	free(f);
}

/* Peers that could not be read are never OK; a required peer known to be
 * down outranks them. */
static void test_peers_unknown(void **state)
{
	struct fixture *f = new_fixture(2);

	(void)state;
	f->snap.wireguard.n_devices = 1;
	f->devs[0].error = -EPERM;
	strcpy(f->devs[0].error_text, "Operation not permitted");
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_UNKNOWN,
	           "0 peers, 0 up; peers of wg0 unknown: Operation not permitted", PERM_HINT);
	f->devs[0].error = -EIO;
	strcpy(f->devs[0].error_text, "Input/output error");
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_UNKNOWN,
	           "0 peers, 0 up; peers of wg0 unknown: Input/output error",
	           "run wg show to compare");
	/* A device that does not exist has no peers to read. */
	f->devs[0].link_found = false;
	f->devs[0].backend = WIREGUARD_BACKEND_NONE;
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_OK, "0 peers, 0 up", "");
	f->devs[0].link_found = true;
	f->snap.wireguard.n_devices = 2;
	add_peer(f, 1, "laptop", KEY_A, true, -1);
	verdict_is(&f->cfg, &f->snap, "wireguard.peers", CHECK_CRITICAL,
	           "1 peer, 0 up; peers of wg0 unknown: Input/output error; required laptop "
	           "never connected",
	           PEER_HINT("laptop", "wg1"));
	free(f);
}

/* A probe that failed leaves all three UNKNOWN with its error. */
static void test_probe_failed(void **state)
{
	static const char *const ids[] = {"wireguard.interface", "wireguard.listen_port",
	                                  "wireguard.peers"};
	struct fixture *f = new_fixture(1);

	(void)state;
	f->snap.probes[PROBE_WIREGUARD].status = PROBE_FAILED;
	strcpy(f->snap.probes[PROBE_WIREGUARD].error, "rtnetlink: Operation not permitted");
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		verdict_is(&f->cfg, &f->snap, ids[i], CHECK_UNKNOWN,
		           "wireguard probe failed: rtnetlink: Operation not permitted",
		           "check that rtnetlink works here: ip -d link show type wireguard");
	f->snap.probes[PROBE_WIREGUARD].status = PROBE_SKIPPED;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		verdict_absent(&f->cfg, &f->snap, ids[i]);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interface_ok),
	    cmocka_unit_test(test_interface_none),
	    cmocka_unit_test(test_interface_problems),
	    cmocka_unit_test(test_listen_port_ok),
	    cmocka_unit_test(test_listen_port_absent),
	    cmocka_unit_test(test_listen_port_wrong),
	    cmocka_unit_test(test_listen_port_unknown),
	    cmocka_unit_test(test_peers_informational),
	    cmocka_unit_test(test_peers_required_stale),
	    cmocka_unit_test(test_peers_required_down),
	    cmocka_unit_test(test_peers_required_never),
	    cmocka_unit_test(test_peers_mixed),
	    cmocka_unit_test(test_peers_missing_required),
	    cmocka_unit_test(test_peers_unknown),
	    cmocka_unit_test(test_probe_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
