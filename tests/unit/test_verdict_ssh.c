/* The ssh.* checks of the verdict, each status, on built snapshots. */
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
#include "monitor/sshcheck.h"
#include "monitor/verdict.h"
#include "tests/unit/verdict_eval.h"

#define BANNER "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
#define START  "systemctl enable --now ssh"

static struct snapshot *new_snapshot(struct config *cfg)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	config_defaults(cfg);
	s->probes[PROBE_SSH].status = PROBE_OK;
	s->ssh.port = 22;
	s->ssh.usable = -1;
	strcpy(s->ssh.vpn_ifname, "wg-dgx-spark");
	strcpy(s->ssh.vpn_address, "10.100.0.1");
	strcpy(s->ssh.lan_ifname, "enP7s7");
	strcpy(s->ssh.lan_address, "192.168.1.20");
	return s;
}

static void add_listener(struct snapshot *s, const char *addr, enum ssh_reach reach,
                         const char *ifname)
{
	struct ssh_listener *l = &s->ssh.listeners[s->ssh.n_listeners];

	l->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	strcpy(l->address, addr);
	l->reach = reach;
	strcpy(l->ifname, ifname);
	if (s->ssh.usable < 0 && ssh_reach_usable(reach, &s->ssh))
		s->ssh.usable = (int32_t)s->ssh.n_listeners;
	s->ssh.n_listeners++;
	s->ssh.total_listeners++;
}

static void banner(struct snapshot *s, enum ssh_banner_state state, const char *target,
                   const char *error)
{
	s->ssh.banner = state;
	strcpy(s->ssh.banner_target, target);
	strcpy(s->ssh.banner_error, error);
	if (state == SSH_BANNER_OK)
		strcpy(s->ssh.banner_line, BANNER);
	s->ssh.banner_seconds = 0.0042;
}

static void expect_fix(const struct config *cfg, const struct snapshot *s, const char *id,
                       const char *fix)
{
	struct verdict v;
	const struct check *c = eval_check(cfg, s, id, &v);

	assert_non_null(c);
	if (!fix) {
		assert_int_equal(c->n_fix, 0);
		return;
	}
	assert_int_equal(c->n_fix, 1);
	assert_string_equal(c->fix[0], fix);
}

static void test_listening_ok(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	add_listener(s, "127.0.0.1", SSH_REACH_LOOPBACK, "");
	add_listener(s, "0.0.0.0", SSH_REACH_WILDCARD, "");
	verdict_is(&cfg, s, "ssh.listening", CHECK_OK,
	           "sshd listens on port 22 on 0.0.0.0 (all addresses) (sshd's default)", "");
	free(s);
	s = new_snapshot(&cfg);
	s->ssh.port = 2222;
	s->ssh.port_source = SSH_PORT_SSHD;
	strcpy(s->ssh.port_file, "/etc/ssh/sshd_config.d/10-port.conf");
	s->ssh.port_line = 2;
	add_listener(s, "10.100.0.1", SSH_REACH_VPN, "wg-dgx-spark");
	verdict_is(&cfg, s, "ssh.listening", CHECK_OK,
	           "sshd listens on port 2222 on 10.100.0.1 (VPN, wg-dgx-spark) (Port in "
	           "/etc/ssh/sshd_config.d/10-port.conf:2)",
	           "");
	s->ssh.port_source = SSH_PORT_LISTEN;
	verdict_is(&cfg, s, "ssh.listening", CHECK_OK,
	           "sshd listens on port 2222 on 10.100.0.1 (VPN, wg-dgx-spark) (ListenAddress in "
	           "/etc/ssh/sshd_config.d/10-port.conf:2)",
	           "");
	s->ssh.port_source = SSH_PORT_CONFIG;
	s->ssh.listeners[0].reach = SSH_REACH_LAN;
	strcpy(s->ssh.listeners[0].ifname, "enP7s7");
	verdict_is(&cfg, s, "ssh.listening", CHECK_OK,
	           "sshd listens on port 2222 on 10.100.0.1 (LAN, enP7s7) ([ssh] port)", "");
	free(s);
}

static void test_listening_nothing(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	strcpy(s->ssh.sshd_config_error, "/etc/ssh/sshd_config: Permission denied");
	verdict_is(&cfg, s, "ssh.listening", CHECK_CRITICAL,
	           "nothing listens on TCP port 22 (sshd's default; sshd_config not read: "
	           "/etc/ssh/sshd_config: Permission denied)",
	           "start sshd: " START "; if it runs, it listens on another port: sshd -T "
	           "prints the Port it uses");
	expect_fix(&cfg, s, "ssh.listening", START);
	free(s);
}

static void test_listening_loopback(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	add_listener(s, "127.0.0.1", SSH_REACH_LOOPBACK, "");
	add_listener(s, "::1", SSH_REACH_LOOPBACK, "");
	s->ssh.n_listen = 1;
	strcpy(s->ssh.listen[0].file, "/etc/ssh/sshd_config");
	s->ssh.listen[0].line = 20;
	strcpy(s->ssh.listen[0].value, "127.0.0.1");
	verdict_is(&cfg, s, "ssh.listening", CHECK_CRITICAL,
	           "sshd listens on port 22 only on 127.0.0.1 (loopback), ::1 (loopback): a VPN "
	           "client cannot reach it",
	           "in /etc/ssh/sshd_config:20 change 'ListenAddress 127.0.0.1' to the VPN or LAN "
	           "address (10.100.0.1), or remove it to listen on all addresses; then "
	           "systemctl restart ssh");
	expect_fix(&cfg, s, "ssh.listening", NULL);
	/* Told elsewhere (a -o option, a drop-in sparkmon did not read). */
	s->ssh.n_listen = 0;
	s->ssh.vpn_address[0] = '\0';
	verdict_is(&cfg, s, "ssh.listening", CHECK_CRITICAL,
	           "sshd listens on port 22 only on 127.0.0.1 (loopback), ::1 (loopback): a VPN "
	           "client cannot reach it",
	           "let sshd listen on the VPN or LAN address (192.168.1.20) or on all addresses "
	           "(ListenAddress in /etc/ssh/sshd_config; sshd -T prints what it uses), then "
	           "systemctl restart ssh");
	free(s);
}

/* Many listeners: three named, the rest counted; IPv6-only wildcard. */
static void test_listening_many(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	add_listener(s, "::", SSH_REACH_WILDCARD6, "");
	add_listener(s, "172.17.0.1", SSH_REACH_OTHER, "");
	add_listener(s, "127.0.0.1", SSH_REACH_LOOPBACK, "");
	add_listener(s, "127.0.0.2", SSH_REACH_LOOPBACK, "");
	s->ssh.total_listeners = 20;
	s->ssh.lan_address[0] = '\0';
	s->ssh.vpn_address[0] = '\0';
	verdict_is(&cfg, s, "ssh.listening", CHECK_CRITICAL,
	           "sshd listens on port 22 only on :: (all IPv6 addresses), 172.17.0.1 (other), "
	           "127.0.0.1 (loopback) and 17 more: a VPN client cannot reach it",
	           "let sshd listen on the VPN or LAN address or on all addresses (ListenAddress "
	           "in /etc/ssh/sshd_config; sshd -T prints what it uses), then systemctl "
	           "restart ssh");
	free(s);
}

static void test_banner_ok(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	add_listener(s, "0.0.0.0", SSH_REACH_WILDCARD, "");
	banner(s, SSH_BANNER_OK, "10.100.0.1:22", "");
	verdict_is(&cfg, s, "ssh.banner", CHECK_OK, "10.100.0.1:22 answers in 0.004 s: " BANNER,
	           "");
	assert_int_equal(sshcheck_up(&s->ssh), 1);
	/* Answering on loopback only is no way in. */
	s->ssh.usable = -1;
	assert_int_equal(sshcheck_up(&s->ssh), 0);
	free(s);
}

static void test_banner_problems(void **state)
{
	static const struct {
		enum ssh_banner_state state;
		const char *error, *summary, *hint, *fix;
	} cases[] = {
	    {SSH_BANNER_NOT_TRIED, "", "not tried: nothing listens on TCP port 22",
	     "start sshd: " START, START},
	    {SSH_BANNER_REFUSED, "connect: Connection refused",
	     "10.100.0.1:22 refused the connection", "sshd stopped: systemctl status ssh; " START,
	     START},
	    {SSH_BANNER_NO_ANSWER, "no answer to the TCP handshake within 3000 ms",
	     "no answer from 10.100.0.1:22: no answer to the TCP handshake within 3000 ms",
	     "a firewall drops the connection even from this machine: iptables -S INPUT; nft list "
	     "ruleset",
	     NULL},
	    {SSH_BANNER_SILENT,
	     "connected, but no identification line within 3000 ms (0 bytes read)",
	     "10.100.0.1:22 accepted the connection but sent no identification line: connected, "
	     "but no identification line within 3000 ms (0 bytes read)",
	     "sshd hangs: systemctl restart ssh; its log: journalctl -u ssh -n 50",
	     "systemctl restart ssh"},
	    {SSH_BANNER_CLOSED,
	     "the server closed the connection before its identification line (0 bytes read)",
	     "10.100.0.1:22: the server closed the connection before its identification line (0 "
	     "bytes read)",
	     "sshd turns connections away (MaxStartups, a Match block, TCP wrappers): journalctl "
	     "-u "
	     "ssh -n 50",
	     NULL},
	    {SSH_BANNER_BAD, "identification line of 100002 bytes, more than 255",
	     "what answers at 10.100.0.1:22 is not an SSH server: identification line of 100002 "
	     "bytes, more than 255",
	     "another program holds the SSH port: ss -ltnp to see which", NULL},
	    {SSH_BANNER_FAILED, "connect: Network is unreachable",
	     "could not connect to 10.100.0.1:22: connect: Network is unreachable",
	     "systemctl status ssh", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		struct snapshot *s = new_snapshot(&cfg);

		if (cases[i].state != SSH_BANNER_NOT_TRIED)
			add_listener(s, "0.0.0.0", SSH_REACH_WILDCARD, "");
		banner(s, cases[i].state, cases[i].state ? "10.100.0.1:22" : "", cases[i].error);
		verdict_is(&cfg, s, "ssh.banner", CHECK_CRITICAL, cases[i].summary, cases[i].hint);
		expect_fix(&cfg, s, "ssh.banner", cases[i].fix);
		assert_int_equal(sshcheck_up(&s->ssh), 0);
		free(s);
	}
}

/* ---- ssh.firewall ------------------------------------------------------------ */

static struct snapshot *firewall_snapshot(struct config *cfg, const char *iface)
{
	struct snapshot *s = new_snapshot(cfg);

	s->probes[PROBE_FIREWALL].status = PROBE_OK;
	s->firewall.input_port = 22;
	s->firewall.n_ifaces = 1;
	strcpy(s->firewall.ifaces[0], iface);
	return s;
}

static struct firewall_decision *add_input(struct snapshot *s, const char *iface,
                                           enum fwpath_result result, const char *chain,
                                           const char *policy)
{
	struct firewall_decision *d = &s->firewall.input[s->firewall.n_input++];

	strcpy(d->iface, iface);
	d->family = 4;
	d->result = result;
	strcpy(d->base_chain, chain);
	strcpy(d->chain, chain);
	strcpy(d->policy, policy);
	return d;
}

static void test_firewall_ok(void **state)
{
	struct config cfg;
	struct snapshot *s = firewall_snapshot(&cfg, "wg-dgx-spark");
	struct firewall_decision *d;

	(void)state;
	d = add_input(s, "wg-dgx-spark", FWPATH_RULE_ACCEPTS, "INPUT", "DROP");
	strcpy(d->chain, "ufw-user-input");
	d->rule_number = 1;
	strcpy(d->rule, "-A ufw-user-input -i wg-dgx-spark -p tcp -m tcp --dport 22 -j ACCEPT");
	verdict_is(&cfg, s, "ssh.firewall", CHECK_OK,
	           "TCP port 22 from wg-dgx-spark is accepted: ufw-user-input rule 1 '-A "
	           "ufw-user-input -i wg-dgx-spark -p tcp -m tcp --dport 22 -j ACCEPT'",
	           "");
	/* ssh off, or no WireGuard interface: nothing to judge. */
	s->firewall.input_port = 0;
	verdict_absent(&cfg, s, "ssh.firewall");
	s->firewall.input_port = 22;
	s->firewall.n_ifaces = 0;
	verdict_absent(&cfg, s, "ssh.firewall");
	free(s);
}

static void test_firewall_ufw(void **state)
{
	struct config cfg;
	struct snapshot *s = firewall_snapshot(&cfg, "wg-dgx-spark");

	(void)state;
	s->firewall.ufw = true;
	add_input(s, "wg-dgx-spark", FWPATH_POLICY_DROPS, "INPUT", "DROP");
	verdict_is(&cfg, s, "ssh.firewall", CHECK_CRITICAL,
	           "the firewall drops TCP port 22 from wg-dgx-spark: INPUT policy DROP",
	           "Now: ufw allow in on wg-dgx-spark to any port 22 proto tcp; ufw keeps the rule "
	           "after a reboot");
	expect_fix(&cfg, s, "ssh.firewall",
	           "ufw allow in on wg-dgx-spark to any port 22 proto tcp");
	free(s);
}

static void test_firewall_iptables(void **state)
{
	struct config cfg;
	struct snapshot *s = firewall_snapshot(&cfg, "wg;rm -rf x");
	struct firewall_decision *d;

	(void)state;
	s->firewall.input_port = 2222;
	add_input(s, "wg;rm -rf x", FWPATH_POLICY_ACCEPTS, "INPUT", "ACCEPT");
	d = add_input(s, "wg;rm -rf x", FWPATH_RULE_DROPS, "INPUT", "ACCEPT");
	d->rule_number = 3;
	strcpy(d->rule, "-A INPUT -j DROP");
	verdict_is(
	    &cfg, s, "ssh.firewall", CHECK_CRITICAL,
	    "the firewall drops TCP port 2222 from wg;rm -rf x: INPUT rule 3 '-A INPUT -j "
	    "DROP'",
	    "Now: /usr/sbin/iptables -I INPUT -i 'wg;rm -rf x' -p tcp --dport 2222 -j ACCEPT; "
	    "add the same rule to PostUp in the wg-quick file (and -D in PostDown) to keep it "
	    "after a reboot");
	free(s);
}

static void test_firewall_nft(void **state)
{
	struct config cfg;
	struct snapshot *s = firewall_snapshot(&cfg, "wg-dgx-spark");
	struct firewall_decision *d;

	(void)state;
	s->firewall.ufw = true; /* a native table is not ufw's */
	d = add_input(s, "wg-dgx-spark", FWPATH_POLICY_DROPS, "input", "DROP");
	d->native = true;
	strcpy(d->table_family, "inet");
	strcpy(d->table, "filter");
	verdict_is(&cfg, s, "ssh.firewall", CHECK_CRITICAL,
	           "the firewall drops TCP port 22 from wg-dgx-spark: nft inet filter input policy "
	           "DROP",
	           "Now: nft insert rule inet filter input iifname '\"wg-dgx-spark\"' tcp dport 22 "
	           "accept; add the same rule to /etc/nftables.conf to keep it after a reboot");
	d->result = FWPATH_TOO_COMPLEX;
	verdict_is(&cfg, s, "ssh.firewall", CHECK_UNKNOWN,
	           "TCP port 22 from wg-dgx-spark: nft inet filter input: ruleset too complex to "
	           "follow",
	           "read the input rules by hand: iptables -S INPUT; nft list ruleset");
	expect_fix(&cfg, s, "ssh.firewall", NULL);
	free(s);
}

/* Off or not installed: absent. Failed: UNKNOWN with the probe's error. */
static void test_probe_outcomes(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	s->probes[PROBE_SSH].status = PROBE_SKIPPED;
	verdict_absent(&cfg, s, "ssh.listening");
	verdict_absent(&cfg, s, "ssh.banner");
	s->probes[PROBE_SSH].status = PROBE_FAILED;
	strcpy(s->probes[PROBE_SSH].error,
	       "listening sockets (NETLINK_SOCK_DIAG): Operation not permitted");
	verdict_is(&cfg, s, "ssh.listening", CHECK_UNKNOWN,
	           "ssh probe failed: listening sockets (NETLINK_SOCK_DIAG): Operation not "
	           "permitted",
	           "run ss -ltn as root; sparkmon reads listening sockets over NETLINK_SOCK_DIAG");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listening_ok),       cmocka_unit_test(test_listening_nothing),
	    cmocka_unit_test(test_listening_loopback), cmocka_unit_test(test_listening_many),
	    cmocka_unit_test(test_banner_ok),          cmocka_unit_test(test_banner_problems),
	    cmocka_unit_test(test_probe_outcomes),     cmocka_unit_test(test_firewall_ok),
	    cmocka_unit_test(test_firewall_ufw),       cmocka_unit_test(test_firewall_iptables),
	    cmocka_unit_test(test_firewall_nft),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
