#include "monitor/sshcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "monitor/fwcheck.h"
#include "monitor/shquote.h"

/* Starting sshd is the same command on Debian, Ubuntu and DGX OS: the unit
 * is ssh.service (sshd.service is its alias). */
#define SSH_START "systemctl enable --now ssh"

static void set(struct check *out, enum check_status status, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set(struct check *out, enum check_status status, const char *hint, const char *fmt, ...)
{
	va_list ap;

	out->status = status;
	va_start(ap, fmt);
	vsnprintf(out->summary, sizeof(out->summary), fmt, ap);
	va_end(ap);
	snprintf(out->hint, sizeof(out->hint), "%s", status == CHECK_OK ? "" : hint);
}

static void add_fix(struct check *out, const char *cmd)
{
	if (out->n_fix < CHECK_FIX_MAX)
		snprintf(out->fix[out->n_fix++], sizeof(out->fix[0]), "%s", cmd);
}

void sshcheck_port_source(const struct ssh *s, char *buf, size_t size)
{
	switch (s->port_source) {
	case SSH_PORT_CONFIG:
		snprintf(buf, size, "[ssh] port");
		return;
	case SSH_PORT_SSHD:
		snprintf(buf, size, "Port in %s:%d", s->port_file, s->port_line);
		return;
	case SSH_PORT_LISTEN:
		snprintf(buf, size, "ListenAddress in %s:%d", s->port_file, s->port_line);
		return;
	case SSH_PORT_DEFAULT:
		break;
	}
	if (s->sshd_config_error[0])
		snprintf(buf, size, "sshd's default; sshd_config not read: %s",
		         s->sshd_config_error);
	else
		snprintf(buf, size, "sshd's default");
}

int sshcheck_up(const struct ssh *s)
{
	return s->usable >= 0 && s->banner == SSH_BANNER_OK;
}

const char *sshcheck_version(const struct ssh *s)
{
	const char *dash = strchr(s->banner_line, '-');

	dash = dash ? strchr(dash + 1, '-') : NULL;
	return s->banner == SSH_BANNER_OK && dash ? dash + 1 : "";
}

/* "10.100.0.1 (VPN, wg0)", "0.0.0.0 (all addresses)". */
static void describe_listener(const struct ssh_listener *l, char *buf, size_t size)
{
	snprintf(buf, size, "%s (%s%s%s)", l->address, ssh_reach_name(l->reach),
	         l->ifname[0] ? ", " : "", l->ifname);
}

static void list_listeners(const struct ssh *s, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < s->n_listeners && i < 3 && n < size; i++) {
		char one[SSH_ADDRESS_MAX + 48];

		describe_listener(&s->listeners[i], one, sizeof(one));
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", one);
	}
	if (s->total_listeners > 3 && n < size)
		snprintf(buf + n, size - n, " and %u more", s->total_listeners - 3);
}

/* The address a VPN client should be able to use, for the hint. */
static const char *wanted_address(const struct ssh *s)
{
	return s->vpn_address[0] ? s->vpn_address : s->lan_address[0] ? s->lan_address : NULL;
}

static void unreachable_hint(const struct ssh *s, char *hint, size_t size)
{
	const char *want = wanted_address(s);
	char to[SSH_ADDRESS_MAX + 64];

	if (want)
		snprintf(to, sizeof(to), "the VPN or LAN address (%s)", want);
	else
		snprintf(to, sizeof(to), "the VPN or LAN address");
	if (s->n_listen)
		snprintf(
		    hint, size,
		    "in %.160s:%d change 'ListenAddress %.60s' to %.90s, or remove it to listen "
		    "on all addresses; then systemctl restart ssh",
		    s->listen[0].file, s->listen[0].line, s->listen[0].value, to);
	else
		snprintf(
		    hint, size,
		    "let sshd listen on %s or on all addresses (ListenAddress in "
		    "/etc/ssh/sshd_config; sshd -T prints what it uses), then systemctl restart "
		    "ssh",
		    to);
}

bool sshcheck_listening(const struct config *cfg, const struct snapshot *snap, struct check *out)
{
	const struct ssh *s = &snap->ssh;
	char source[SSHDCONF_FILE_MAX + 64], where[CHECK_TEXT_MAX / 2], hint[CHECK_TEXT_MAX];

	(void)cfg;
	sshcheck_port_source(s, source, sizeof(source));
	if (s->total_listeners == 0) {
		set(out, CHECK_CRITICAL,
		    "start sshd: " SSH_START "; if it runs, it listens on another port: "
		    "sshd -T prints the Port it uses",
		    "nothing listens on TCP port %u (%s)", s->port, source);
		add_fix(out, SSH_START);
		return true;
	}
	list_listeners(s, where, sizeof(where));
	if (s->usable < 0) {
		unreachable_hint(s, hint, sizeof(hint));
		set(out, CHECK_CRITICAL, hint,
		    "sshd listens on port %u only on %s: a VPN client cannot reach it", s->port,
		    where);
		return true;
	}
	describe_listener(&s->listeners[s->usable], where, sizeof(where));
	set(out, CHECK_OK, "", "sshd listens on port %u on %s (%s)", s->port, where, source);
	return true;
}

static void banner_problem(const struct ssh *s, struct check *out)
{
	const char *t = s->banner_target;

	switch (s->banner) {
	case SSH_BANNER_REFUSED:
		set(out, CHECK_CRITICAL, "sshd stopped: systemctl status ssh; " SSH_START,
		    "%s refused the connection", t);
		add_fix(out, SSH_START);
		return;
	case SSH_BANNER_NO_ANSWER:
		set(out, CHECK_CRITICAL,
		    "a firewall drops the connection even from this machine: iptables -S INPUT; "
		    "nft list ruleset",
		    "no answer from %s: %s", t, s->banner_error);
		return;
	case SSH_BANNER_SILENT:
		set(out, CHECK_CRITICAL,
		    "sshd hangs: systemctl restart ssh; its log: journalctl -u ssh -n 50",
		    "%s accepted the connection but sent no identification line: %s", t,
		    s->banner_error);
		add_fix(out, "systemctl restart ssh");
		return;
	case SSH_BANNER_CLOSED:
		set(out, CHECK_CRITICAL,
		    "sshd turns connections away (MaxStartups, a Match block, TCP wrappers): "
		    "journalctl -u ssh -n 50",
		    "%s: %s", t, s->banner_error);
		return;
	case SSH_BANNER_BAD:
		set(out, CHECK_CRITICAL,
		    "another program holds the SSH port: ss -ltnp to see which",
		    "what answers at %s is not an SSH server: %s", t, s->banner_error);
		return;
	case SSH_BANNER_OK:
	case SSH_BANNER_NOT_TRIED:
	case SSH_BANNER_FAILED:
		break;
	}
	set(out, CHECK_CRITICAL, "systemctl status ssh", "could not connect to %s: %s", t,
	    s->banner_error);
}

/* ---- ssh.firewall ---------------------------------------------------------- */

static bool accepts(const struct firewall_decision *d)
{
	return d->result == FWPATH_RULE_ACCEPTS || d->result == FWPATH_POLICY_ACCEPTS;
}

/* The first input decision of iface that does not accept, or NULL. */
static const struct firewall_decision *first_refusal(const struct firewall *fw, const char *iface)
{
	for (size_t i = 0; i < fw->n_input; i++)
		if (strcmp(fw->input[i].iface, iface) == 0 && !accepts(&fw->input[i]))
			return &fw->input[i];
	return NULL;
}

/* The command that lets the connection in at the base chain of d:
 * ufw's own rule where ufw manages the iptables view, else an iptables
 * rule at the top of INPUT, else an nft rule at the top of the native
 * chain; every name shell-quoted. */
static void fix_for(const struct config *cfg, const struct firewall *fw,
                    const struct firewall_decision *d, char *buf, size_t size)
{
	char tool[CONFIG_PATH_MAX], port[8], quoted_if[IF_NAMESIZE + 8];
	int r = 0;

	buf[0] = '\0';
	snprintf(port, sizeof(port), "%u", fw->input_port);
	if (d->native) {
		snprintf(quoted_if, sizeof(quoted_if), "\"%s\"", d->iface);
		r |= shquote_append_raw(buf, size, "nft insert rule ");
		r |= shquote_append(buf, size, d->table_family);
		r |= shquote_append_raw(buf, size, " ");
		r |= shquote_append(buf, size, d->table);
		r |= shquote_append_raw(buf, size, " ");
		r |= shquote_append(buf, size, d->base_chain);
		r |= shquote_append_raw(buf, size, " iifname ");
		r |= shquote_append(buf, size, quoted_if);
		r |= shquote_append_raw(buf, size, " tcp dport ");
		r |= shquote_append_raw(buf, size, port);
		r |= shquote_append_raw(buf, size, " accept");
	} else if (fw->ufw) {
		r |= shquote_append_raw(buf, size, "ufw allow in on ");
		r |= shquote_append(buf, size, d->iface);
		r |= shquote_append_raw(buf, size, " to any port ");
		r |= shquote_append_raw(buf, size, port);
		r |= shquote_append_raw(buf, size, " proto tcp");
	} else {
		fwcheck_tool(cfg->firewall_iptables_save, "iptables", tool, sizeof(tool));
		r |= shquote_append(buf, size, tool);
		r |= shquote_append_raw(buf, size, " -I INPUT -i ");
		r |= shquote_append(buf, size, d->iface);
		r |= shquote_append_raw(buf, size, " -p tcp --dport ");
		r |= shquote_append_raw(buf, size, port);
		r |= shquote_append_raw(buf, size, " -j ACCEPT");
	}
	if (r)
		buf[0] = '\0';
}

static const char *keep_note(const struct firewall *fw, const struct firewall_decision *d)
{
	if (d->native)
		return "add the same rule to /etc/nftables.conf to keep it after a reboot";
	if (fw->ufw)
		return "ufw keeps the rule after a reboot";
	return "add the same rule to PostUp in the wg-quick file (and -D in PostDown) to keep it "
	       "after a reboot";
}

/* Every refusing base chain of iface gets its fix, in order. */
static void add_fixes(const struct config *cfg, const struct firewall *fw, const char *iface,
                      struct check *out)
{
	for (size_t i = 0; i < fw->n_input; i++) {
		char cmd[CHECK_FIX_TEXT_MAX];

		if (strcmp(fw->input[i].iface, iface) != 0 || accepts(&fw->input[i]) ||
		    fw->input[i].result == FWPATH_TOO_COMPLEX)
			continue;
		fix_for(cfg, fw, &fw->input[i], cmd, sizeof(cmd));
		if (cmd[0])
			add_fix(out, cmd);
	}
}

static void refused(const struct config *cfg, const struct firewall *fw,
                    const struct firewall_decision *d, struct check *out)
{
	char why[CHECK_TEXT_MAX / 2], hint[CHECK_TEXT_MAX];

	fwcheck_describe(d, why, sizeof(why));
	if (d->result == FWPATH_TOO_COMPLEX) {
		set(out, CHECK_UNKNOWN,
		    "read the input rules by hand: iptables -S INPUT; nft list ruleset",
		    "TCP port %u from %s: %s", fw->input_port, d->iface, why);
		return;
	}
	add_fixes(cfg, fw, d->iface, out);
	snprintf(hint, sizeof(hint), "Now: %s; %s", out->n_fix ? out->fix[0] : "",
	         keep_note(fw, d));
	set(out, CHECK_CRITICAL, hint, "the firewall drops TCP port %u from %s: %s", fw->input_port,
	    d->iface, why);
}

bool sshcheck_firewall(const struct config *cfg, const struct snapshot *snap, struct check *out)
{
	const struct firewall *fw = &snap->firewall;
	char why[CHECK_TEXT_MAX / 2] = "";

	if (!fw->input_port || fw->n_ifaces == 0)
		return false;
	for (size_t i = 0; i < fw->n_ifaces; i++) {
		const struct firewall_decision *d = first_refusal(fw, fw->ifaces[i]);

		if (d) {
			refused(cfg, fw, d, out);
			return true;
		}
	}
	/* What lets it in, at the last base chain the packet crosses. */
	for (size_t i = 0; i < fw->n_input; i++)
		if (strcmp(fw->input[i].iface, fw->ifaces[0]) == 0)
			fwcheck_describe(&fw->input[i], why, sizeof(why));
	set(out, CHECK_OK, "", "TCP port %u from %s is accepted: %s", fw->input_port, fw->ifaces[0],
	    why[0] ? why : "nothing filters input");
	return true;
}

bool sshcheck_banner(const struct config *cfg, const struct snapshot *snap, struct check *out)
{
	const struct ssh *s = &snap->ssh;

	(void)cfg;
	if (s->banner == SSH_BANNER_NOT_TRIED) {
		set(out, CHECK_CRITICAL, "start sshd: " SSH_START,
		    "not tried: nothing listens on TCP port %u", s->port);
		add_fix(out, SSH_START);
		return true;
	}
	if (s->banner != SSH_BANNER_OK) {
		banner_problem(s, out);
		return true;
	}
	set(out, CHECK_OK, "", "%s answers in %.3f s: %s", s->banner_target, s->banner_seconds,
	    s->banner_line);
	return true;
}
