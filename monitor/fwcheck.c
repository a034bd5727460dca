#include "monitor/fwcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "monitor/shquote.h"
#include "probes/fwrules.h"

/* ---- small helpers ---------------------------------------------------------- */

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/* One word of outside text, shell-quoted, for a hint ("" when it does not
 * fit: never a cut word). */
static const char *quoted(const char *word, char *buf, size_t size)
{
	buf[0] = '\0';
	if (shquote_append(buf, size, word) < 0)
		buf[0] = '\0';
	return buf;
}

void fwcheck_tool(const char *save_program, const char *fallback, char *buf, size_t size)
{
	size_t len = strlen(save_program);

	if (len > 5 && strcmp(save_program + len - 5, "-save") == 0)
		snprintf(buf, size, "%.*s", (int)(len - 5), save_program);
	else
		snprintf(buf, size, "%s", fallback);
}

const char *fwcheck_direction_name(enum fwpath_direction dir)
{
	return dir == FWPATH_OUT ? "out" : "back";
}

static const char *file_or(const struct firewall *fw, const char *fallback)
{
	return fw->wgquick_path[0] ? fw->wgquick_path : fallback;
}

static const char *legacy_note(const struct firewall *fw)
{
	return fw->legacy_tables_present
	           ? " (iptables-legacy tables are loaded too: iptables-legacy-save shows them)"
	           : "";
}

static void format_text(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void format_text(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* ---- fix commands ---------------------------------------------------------- */

/* Commands being built for a check; one that does not fit spoils the list
 * (a partial list would not fix the problem). */
struct fixer {
	struct check *out;
	char cmd[CHECK_FIX_TEXT_MAX];
	bool broken;
};

static void fix_start(struct fixer *f, const char *program)
{
	f->cmd[0] = '\0';
	if (shquote_append(f->cmd, sizeof(f->cmd), program) < 0)
		f->broken = true;
}

/* Appends words, each shell-quoted; the list ends with NULL. */
static void fix_words(struct fixer *f, ...)
{
	va_list ap;
	const char *w;

	va_start(ap, f);
	while ((w = va_arg(ap, const char *)))
		if (shquote_append_raw(f->cmd, sizeof(f->cmd), " ") < 0 ||
		    shquote_append(f->cmd, sizeof(f->cmd), w) < 0)
			f->broken = true;
	va_end(ap);
}

static void fix_end(struct fixer *f)
{
	struct check *out = f->out;

	for (size_t i = 0; i < out->n_fix; i++)
		if (strcmp(out->fix[i], f->cmd) == 0)
			return;
	if (f->broken || out->n_fix >= CHECK_FIX_MAX) {
		f->broken = true;
		return;
	}
	snprintf(out->fix[out->n_fix++], sizeof(out->fix[0]), "%s", f->cmd);
}

static void fix_done(struct fixer *f)
{
	if (f->broken)
		f->out->n_fix = 0;
}

/* ---- forward ----------------------------------------------------------------- */

static bool drops(const struct firewall_decision *d)
{
	return d->result == FWPATH_RULE_DROPS || d->result == FWPATH_POLICY_DROPS;
}

void fwcheck_describe(const struct firewall_decision *d, char *buf, size_t size)
{
	char where[FWRULES_TABLE_MAX + 2 * FWRULES_CHAIN_MAX + 24];

	if (d->nothing_filters) {
		snprintf(buf, size, "no filter table: nothing filters");
		return;
	}
	if (d->native)
		snprintf(where, sizeof(where), "nft %s %s %s", d->table_family, d->table, d->chain);
	else
		snprintf(where, sizeof(where), "%s", d->chain);
	switch (d->result) {
	case FWPATH_RULE_ACCEPTS:
	case FWPATH_RULE_DROPS:
		snprintf(buf, size, "%s rule %d '%s'", where, d->rule_number, d->rule);
		break;
	case FWPATH_POLICY_ACCEPTS:
	case FWPATH_POLICY_DROPS:
		snprintf(buf, size, "%s policy %s", where, d->policy[0] ? d->policy : "ACCEPT");
		break;
	case FWPATH_TOO_COMPLEX:
		snprintf(buf, size, "%s: ruleset too complex to follow", where);
		break;
	}
}

/* The decision that stands for one interface and direction: the first
 * base chain (by priority) that drops, else one too complex to follow,
 * else the first that accepts. */
static const struct firewall_decision *standing(const struct firewall *fw, const char *iface,
                                                int family, enum fwpath_direction dir)
{
	const struct firewall_decision *accept = NULL, *complex = NULL;

	for (size_t i = 0; i < fw->n_decisions; i++) {
		const struct firewall_decision *d = &fw->decisions[i];

		if (d->family != family || d->direction != dir || strcmp(d->iface, iface) != 0)
			continue;
		if (drops(d))
			return d;
		if (d->result == FWPATH_TOO_COMPLEX && !complex)
			complex = d;
		if (!accept)
			accept = d;
	}
	return complex ? complex : accept;
}

/* A problem, in words: "FORWARD policy is DROP and no rule accepts replies
 * to wg0 (Docker ...)". */
static void describe_problem(const struct firewall *fw, const struct firewall_decision *d,
                             char *buf, size_t size)
{
	const char *what = d->direction == FWPATH_OUT ? "traffic from" : "replies to";
	char where[FWRULES_TABLE_MAX + 2 * FWRULES_CHAIN_MAX + 24];

	if (d->native)
		snprintf(where, sizeof(where), "nft %s %s chain %s", d->table_family, d->table,
		         d->chain);
	else
		snprintf(where, sizeof(where), "%s", d->chain);
	if (d->result == FWPATH_RULE_DROPS)
		snprintf(buf, size, "%s rule %d drops %s %s before any ACCEPT: '%s'", where,
		         d->rule_number, what, d->iface, d->rule);
	else if (d->result == FWPATH_POLICY_DROPS)
		snprintf(buf, size, "%s policy is %s and no rule accepts %s %s%s", where, d->policy,
		         what, d->iface,
		         fw->docker && !d->native
		             ? " (Docker's chains are there: Docker sets that policy)"
		             : "");
	else
		snprintf(buf, size,
		         "%s: the ruleset is too complex to follow (over %d rules or jumps nested "
		         "over %d deep) for %s %s",
		         where, FWPATH_STEPS_MAX, FWPATH_DEPTH_MAX, what, d->iface);
}

/* The command that lets one direction through one base chain now. */
static void fix_decision(const struct firewall *fw, const struct firewall_decision *d,
                         struct fixer *f)
{
	const char *dir_opt = d->direction == FWPATH_OUT ? "-i" : "-o";
	char tool[256], name[IF_NAMESIZE + 2];

	if (d->native) {
		/* nft's own syntax quotes the name; sh gets it as one word. */
		snprintf(name, sizeof(name), "\"%s\"", d->iface);
		fix_start(f, fw->nft[0] ? fw->nft : "nft");
		fix_words(f, "insert", "rule", d->table_family, d->table, d->base_chain,
		          d->direction == FWPATH_OUT ? "iifname" : "oifname", name, "accept", NULL);
	} else {
		fwcheck_tool(d->family == 6 ? fw->ip6tables_save : fw->iptables_save,
		             d->family == 6 ? "ip6tables" : "iptables", tool, sizeof(tool));
		/* First in FORWARD: before Docker's, ufw's or any other
		 * chain that could drop it. */
		fix_start(f, tool);
		fix_words(f, "-I", "FORWARD", "1", dir_opt, d->iface, "-j", "ACCEPT", NULL);
	}
	fix_end(f);
}

/* The hint for the first problem: now, and for good. */
static void forward_hint(const struct firewall *fw, const struct firewall_decision *d,
                         const struct check *out, char *hint, size_t size)
{
	const char *opt = d->direction == FWPATH_OUT ? "-i" : "-o";
	const char *prog = d->family == 6 ? "ip6tables" : "iptables";
	/* After a DROP rule, an appended ACCEPT comes too late. */
	const char *add = d->result == FWPATH_RULE_DROPS ? "-I" : "-A";
	char q[3][96];

	snprintf(hint, size, "Now: %s", out->n_fix ? out->fix[0] : "");
	for (size_t i = 1; i < out->n_fix; i++)
		append(hint, size, "; %s", out->fix[i]);
	if (d->native) {
		append(hint, size,
		       ". For good: add '%s \"%s\" accept' first in chain %s of table %s %s, where "
		       "that table is made (/etc/nftables.conf or its tool)",
		       d->direction == FWPATH_OUT ? "iifname" : "oifname",
		       quoted(d->iface, q[0], sizeof(q[0])),
		       quoted(d->base_chain, q[1], sizeof(q[1])), d->table_family,
		       quoted(d->table, q[2], sizeof(q[2])));
		return;
	}
	append(hint, size,
	       ". For good, in %s: PostUp = %s %s FORWARD %s %%i -j ACCEPT / PostDown = %s -D "
	       "FORWARD %s %%i -j ACCEPT%s",
	       file_or(fw, "the wg-quick file"), prog, add, opt, prog, opt,
	       fw->docker ? " (Docker's chains do not drop VPN traffic; its DROP policy does)"
	                  : "");
}

static bool forward_family(const struct snapshot *snap, int family, struct check *out)
{
	const struct firewall *fw = &snap->firewall;
	const struct firewall_decision *first = NULL;
	char summary[CHECK_TEXT_MAX] = "", ok_text[CHECK_TEXT_MAX] = "", hint[CHECK_TEXT_MAX];
	enum check_status status = CHECK_OK;
	struct fixer f = {.out = out};
	const char *fam = family == 6 ? "IPv6" : "IPv4";

	if (family == 6 && !fw->ipv6)
		return false;
	if (fw->n_ifaces == 0) {
		verdict_set_check(
		    out, CHECK_UNKNOWN,
		    "name the interface: [wireguard] interfaces = wg0 in sparkmon.conf",
		    "no WireGuard interface to check: none configured, found or in "
		    "/etc/wireguard");
		return true;
	}
	if (family == 6 && !fw->ipv6_read) {
		verdict_set_check(
		    out, CHECK_UNKNOWN,
		    "run ip6tables-save as root; sparkmon needs CAP_NET_ADMIN to read the rules",
		    "the VPN carries IPv6 but its rules could not be read: %s", fw->ipv6_error);
		return true;
	}
	for (size_t i = 0; i < fw->n_ifaces; i++)
		for (int dir = FWPATH_OUT; dir <= FWPATH_BACK; dir++) {
			const struct firewall_decision *d =
			    standing(fw, fw->ifaces[i], family, (enum fwpath_direction)dir);
			char text[CHECK_TEXT_MAX];

			if (!d)
				continue;
			if (drops(d) || d->result == FWPATH_TOO_COMPLEX) {
				enum check_status s = drops(d) ? CHECK_CRITICAL : CHECK_UNKNOWN;

				if (verdict_severity(s) > verdict_severity(status))
					status = s;
				if (!first || (drops(d) && !drops(first)))
					first = d;
				describe_problem(fw, d, text, sizeof(text));
				append(summary, sizeof(summary), "%s%s", summary[0] ? "; " : "",
				       text);
				continue;
			}
			fwcheck_describe(d, text, sizeof(text));
			append(ok_text, sizeof(ok_text), "%s%s %s: %s%s", ok_text[0] ? "; " : "",
			       d->iface, fwcheck_direction_name(d->direction), text,
			       d->after_docker ? ", after Docker's chains" : "");
		}
	/* Every base chain that drops gets its command, not only the first. */
	for (size_t i = 0; status == CHECK_CRITICAL && i < fw->n_decisions; i++)
		if (fw->decisions[i].family == family && drops(&fw->decisions[i]))
			fix_decision(fw, &fw->decisions[i], &f);
	fix_done(&f);
	if (status == CHECK_OK) {
		verdict_set_check(
		    out, CHECK_OK, "", "%s forwarding accepted both ways: %s%s%s", fam, ok_text,
		    fw->decisions_cut ? " (more chains than shown)" : "", legacy_note(fw));
		return true;
	}
	if (status == CHECK_CRITICAL)
		forward_hint(fw, first, out, hint, sizeof(hint));
	else
		snprintf(
		    hint, sizeof(hint),
		    "simplify the ruleset, or check the path by hand: iptables -L FORWARD -v -n");
	verdict_set_check(out, status, hint, "%s%s%s%s", summary, ok_text[0] ? "; accepted: " : "",
	                  ok_text, legacy_note(fw));
	return true;
}

bool fwcheck_forward(const struct config *cfg, const struct snapshot *snap, struct check *out)
{
	(void)cfg;
	return forward_family(snap, 4, out);
}

bool fwcheck_forward6(const struct config *cfg, const struct snapshot *snap, struct check *out)
{
	(void)cfg;
	return forward_family(snap, 6, out);
}

/* ---- masquerade -------------------------------------------------------------- */

bool fwcheck_masquerade(const struct config *cfg, const struct snapshot *snap, struct check *out)
{
	const struct firewall *fw = &snap->firewall;
	char hint[CHECK_TEXT_MAX], subnet[64] = "", tool[256], q[96], rule[192];
	struct fixer f = {.out = out};

	(void)cfg;
	if (fw->vpn_subnet[0])
		snprintf(subnet, sizeof(subnet), " (%s)", fw->vpn_subnet);
	if (fw->masq_found) {
		verdict_set_check(out, CHECK_OK, "",
		                  "VPN traffic%s is masqueraded: %s %s rule %d '%s'", subnet,
		                  fw->masq_native ? fw->masq_table : "nat", fw->masq_chain,
		                  fw->masq_rule_number, fw->masq_rule);
		return true;
	}
	/* First in POSTROUTING: an earlier ACCEPT or RETURN for the VPN's
	 * packets would end NAT before a rule appended after it. */
	if (fw->default_if[0]) {
		fwcheck_tool(fw->iptables_save, "iptables", tool, sizeof(tool));
		fix_start(&f, tool);
		fix_words(&f, "-t", "nat", "-I", "POSTROUTING", "1", NULL);
		if (fw->vpn_subnet[0])
			fix_words(&f, "-s", fw->vpn_subnet, NULL);
		fix_words(&f, "-o", fw->default_if, "-j", "MASQUERADE", NULL);
		fix_end(&f);
		fix_done(&f);
	}
	snprintf(rule, sizeof(rule), "%s%s%s-o %s -j MASQUERADE", fw->vpn_subnet[0] ? "-s " : "",
	         fw->vpn_subnet, fw->vpn_subnet[0] ? " " : "",
	         fw->default_if[0] ? quoted(fw->default_if, q, sizeof(q)) : "<uplink NIC>");
	format_text(
	    hint, sizeof(hint),
	    "Now: %s. For good, in %s: PostUp = iptables -t nat -I POSTROUTING %s / PostDown "
	    "= iptables -t nat -D POSTROUTING %s",
	    out->n_fix ? out->fix[0]
	               : "find the uplink NIC (ip route show default), then iptables -t nat "
	                 "-I POSTROUTING 1 ...",
	    file_or(fw, "the wg-quick file"), rule, rule);
	verdict_set_check(
	    out, CHECK_CRITICAL, hint,
	    "no MASQUERADE or SNAT rule on postrouting covers the VPN%s: clients reach "
	    "this host but nothing behind it%s",
	    subnet, legacy_note(fw));
	return true;
}

/* ---- uplink ------------------------------------------------------------------- */

/* Replaces every "-o old" (a whole word) by "-o new" in a wg-quick line. */
static void replace_nic(const char *line, const char *old, const char *new_nic, char *buf,
                        size_t size)
{
	char needle[40];
	size_t n = 0, nlen;

	snprintf(needle, sizeof(needle), "-o %s", old);
	nlen = strlen(needle);
	buf[0] = '\0';
	for (const char *p = line; *p && n + 1 < size;) {
		if (strncmp(p, needle, nlen) == 0 &&
		    (p[nlen] == '\0' || p[nlen] == ' ' || p[nlen] == ';')) {
			int w = snprintf(buf + n, size - n, "-o %s", new_nic);

			if (w < 0 || (size_t)w >= size - n)
				break;
			n += (size_t)w;
			p += nlen;
			continue;
		}
		buf[n++] = *p++;
		buf[n] = '\0';
	}
}

/* The commands that move the MASQUERADE rule to the new NIC now: delete
 * the rule as iptables-save printed it (each word quoted again), add one
 * on the new NIC. */
static void uplink_fix(const struct firewall *fw, const char *new_nic, struct check *out)
{
	struct fixer f = {.out = out};
	char tool[256], tok[FWRULES_TOKEN_MAX];
	const char *p = fw->masq_rule;
	int t;

	if (fw->masq_native)
		return;
	fwcheck_tool(fw->iptables_save, "iptables", tool, sizeof(tool));
	fix_start(&f, tool);
	fix_words(&f, "-t", "nat", NULL);
	for (bool first = true; (t = fwrules_next_token(&p, tok, sizeof(tok), false)) == 1;
	     first = false)
		fix_words(&f, first && strcmp(tok, "-A") == 0 ? "-D" : tok, NULL);
	if (t < 0)
		f.broken = true;
	fix_end(&f);
	fix_start(&f, tool);
	fix_words(&f, "-t", "nat", "-A", "POSTROUTING", "-o", new_nic, "-j", "MASQUERADE", NULL);
	fix_end(&f);
	fix_done(&f);
}

/* The fix for a renamed NIC: the commands for now, and the wg-quick lines
 * for the next start; when both lines do not fit, a sed command instead. */
static void uplink_hint(const struct firewall *fw, const char *new_nic, struct check *out,
                        char *hint, size_t size)
{
	char up[CHECK_TEXT_MAX], down[CHECK_TEXT_MAX], now[CHECK_TEXT_MAX], q[96];
	const char *file = file_or(fw, "the wg-quick file");
	int n;

	uplink_fix(fw, new_nic, out);
	now[0] = '\0';
	for (size_t i = 0; i < out->n_fix; i++)
		append(now, sizeof(now), "%s%s", i ? "; " : "", out->fix[i]);
	if (!now[0])
		snprintf(now, sizeof(now), "iptables -t nat -A POSTROUTING -o %s -j MASQUERADE",
		         quoted(new_nic, q, sizeof(q)));
	if (fw->postup_line[0]) {
		replace_nic(fw->postup_line, fw->masq_out, new_nic, up, sizeof(up));
		replace_nic(fw->postdown_line, fw->masq_out, new_nic, down, sizeof(down));
		n = snprintf(hint, size,
		             "uplink renamed %s -> %s. Now: %s. In %s change to: PostUp = %s%s%s",
		             fw->masq_out, new_nic, now, file, up,
		             fw->postdown_line[0] ? " / PostDown = " : "", down);
		if (n >= 0 && (size_t)n < size)
			return;
	}
	/* A cut hint still starts with what to run. */
	format_text(hint, size,
	            "uplink renamed %s -> %s. Now: %s. In %s: sed -i 's/-o %s\\b/-o %s/g' %s "
	            "(PostUp and PostDown lines)",
	            fw->masq_out, new_nic, now, file, fw->masq_out, new_nic, file);
}

bool fwcheck_uplink(const struct config *cfg, const struct snapshot *snap, struct check *out)
{
	const struct firewall *fw = &snap->firewall;
	char hint[CHECK_TEXT_MAX], via[64] = "";

	(void)cfg;
	if (fw->default_via[0])
		snprintf(via, sizeof(via), " via %s", fw->default_via);
	if (!fw->masq_found) {
		verdict_set_check(out, CHECK_UNKNOWN, "see firewall.masquerade",
		                  "no MASQUERADE rule names an uplink NIC (default route: %s)",
		                  fw->default_route ? fw->default_if : "none");
		return true;
	}
	if (!fw->masq_out[0] || fw->masq_out_neg) {
		if (fw->default_route)
			verdict_set_check(
			    out, CHECK_OK, "",
			    "the MASQUERADE rule names no single NIC; the default route leaves "
			    "by %s%s",
			    fw->default_if, via);
		else
			verdict_set_check(
			    out, CHECK_WARNING,
			    "add the router as default route: ip route add default via <router> "
			    "dev <NIC>",
			    "no IPv4 default route: VPN clients reach the LAN, not the internet");
		return true;
	}
	if (!fw->masq_out_exists) {
		if (fw->default_route && fw->default_if[0])
			uplink_hint(fw, fw->default_if, out, hint, sizeof(hint));
		else
			snprintf(
			    hint, sizeof(hint),
			    "find the uplink NIC with 'ip route show default' and change -o %s in "
			    "the MASQUERADE rule and in %s",
			    fw->masq_out, file_or(fw, "the wg-quick file"));
		verdict_set_check(
		    out, CHECK_CRITICAL, hint,
		    "MASQUERADE sends VPN traffic out of %s, which does not exist%s%s%s",
		    fw->masq_out, fw->default_route ? "; the default route leaves by " : "",
		    fw->default_route ? fw->default_if : "", via);
		return true;
	}
	if (!fw->default_route) {
		verdict_set_check(
		    out, CHECK_WARNING,
		    "add the router as default route: ip route add default via <router> dev <NIC>",
		    "MASQUERADE is on %s, but there is no IPv4 default route: VPN clients reach "
		    "the LAN, not the internet",
		    fw->masq_out);
		return true;
	}
	if (!fwrules_iface_matches(fw->masq_out, fw->default_if)) {
		uplink_hint(fw, fw->default_if, out, hint, sizeof(hint));
		verdict_set_check(
		    out, CHECK_CRITICAL, hint,
		    "MASQUERADE is on %s but the default route leaves by %s%s: VPN traffic to the "
		    "internet is not masqueraded",
		    fw->masq_out, fw->default_if, via);
		return true;
	}
	verdict_set_check(out, CHECK_OK, "",
	                  "MASQUERADE is on %s, which carries the default route%s", fw->masq_out,
	                  via);
	return true;
}
