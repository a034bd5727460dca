#include "probes/postup.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/text.h"

static void copy_display(char *dst, size_t size, const char *src)
{
	text_copy_utf8(dst, size, src, strlen(src));
}

/* ---- PostUp commands ----------------------------------------------------------- */

static void not_understood(struct postup_expectation *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void not_understood(struct postup_expectation *e, const char *fmt, ...)
{
	va_list ap;

	e->understood = false;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
}

/* wg-quick replaces every %i with the interface name before running it. */
void postup_substitute_iface(const char *command, const char *iface, char *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = command; *p && n + 1 < size; p++) {
		if (p[0] == '%' && p[1] == 'i') {
			size_t l = strlen(iface);

			if (n + l + 1 >= size)
				break;
			memcpy(buf + n, iface, l);
			n += l;
			p++;
			continue;
		}
		buf[n++] = *p;
	}
	buf[n] = '\0';
}

static bool is_iptables(const char *argv0, int *family)
{
	static const char *const v4[] = {"iptables", "iptables-nft", "iptables-legacy"};
	static const char *const v6[] = {"ip6tables", "ip6tables-nft", "ip6tables-legacy"};
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(base, v4[i]) == 0) {
			*family = 4;
			return true;
		}
		if (strcmp(base, v6[i]) == 0) {
			*family = 6;
			return true;
		}
	}
	return false;
}

/* Host names in -s/-d are resolved once by iptables: what they became is
 * not knowable here, so they are not understood. */
static bool valid_net_or_empty(const char *text, int family)
{
	struct fwrules_net n;

	return !*text || (fwrules_net_parse(text, &n) == 0 && n.family == family);
}

static bool opt_is(const char *tok, const char *s, const char *l)
{
	return strcmp(tok, s) == 0 || strcmp(tok, l) == 0;
}

/* -w and -I CHAIN take an optional number (seconds to wait for the
 * xtables lock, the rule's position): skip it if it is there. */
static void skip_optional_number(const char **p)
{
	char val[FWRULES_TOKEN_MAX];
	const char *save = *p;

	if (fwrules_next_token(p, val, sizeof(val), true) != 1 || !isdigit((unsigned char)val[0]))
		*p = save;
}

/* Where one option of a command puts its value; neg is NULL for the
 * options that cannot be negated. */
struct option_field {
	char *field;
	bool *neg;
	size_t size;
};

/* The field of e that an option fills. Returns false, with the reason in
 * e, for an option not understood or a second chain. */
static bool command_field(struct postup_expectation *e, const char *tok, bool *have_chain,
                          struct option_field *ret)
{
	if (opt_is(tok, "-t", "--table")) {
		*ret = (struct option_field){e->table, NULL, sizeof(e->table)};
	} else if (opt_is(tok, "-A", "--append") || opt_is(tok, "-I", "--insert")) {
		if (*have_chain) {
			not_understood(e, "more than one -A/-I");
			return false;
		}
		*have_chain = true;
		*ret = (struct option_field){e->chain, NULL, sizeof(e->chain)};
	} else if (opt_is(tok, "-i", "--in-interface")) {
		*ret = (struct option_field){e->in, &e->in_neg, sizeof(e->in)};
	} else if (opt_is(tok, "-o", "--out-interface")) {
		*ret = (struct option_field){e->out, &e->out_neg, sizeof(e->out)};
	} else if (opt_is(tok, "-s", "--source") || strcmp(tok, "--src") == 0) {
		*ret = (struct option_field){e->src, &e->src_neg, sizeof(e->src)};
	} else if (opt_is(tok, "-d", "--destination") || strcmp(tok, "--dst") == 0) {
		*ret = (struct option_field){e->dst, &e->dst_neg, sizeof(e->dst)};
	} else if (opt_is(tok, "-j", "--jump")) {
		*ret = (struct option_field){e->target, NULL, sizeof(e->target)};
	} else {
		not_understood(e, "option %.40s is not understood", tok);
		return false;
	}
	return true;
}

/* One option that takes a value, and its value. Returns 0, or -EINVAL
 * with the reason in e. */
static int command_option(const char **p, const char *tok, bool neg, bool *have_chain,
                          struct postup_expectation *e)
{
	char val[FWRULES_TOKEN_MAX];
	struct option_field f;
	int t;

	if (!command_field(e, tok, have_chain, &f))
		return -EINVAL;
	if (neg && !f.neg) {
		not_understood(e, "'!' before %.40s", tok);
		return -EINVAL;
	}
	t = fwrules_next_token(p, val, sizeof(val), true);
	if (t < 0) {
		not_understood(e, "unbalanced quotes");
		return -EINVAL;
	}
	if (t != 1 || val[0] == '-' || !fwrules_copy_field(f.field, f.size, val)) {
		not_understood(e, "bad or missing value after %.40s", tok);
		return -EINVAL;
	}
	if (f.neg)
		*f.neg = neg;
	/* -I CHAIN [rulenum] */
	if (f.field == e->chain && strncmp(tok, "-I", 2) == 0)
		skip_optional_number(p);
	return 0;
}

/* The options after the program's name, up to the end of the command.
 * Returns 0, or -EINVAL with the reason in e. */
static int command_options(const char **p, struct postup_expectation *e)
{
	char tok[FWRULES_TOKEN_MAX];
	bool neg = false, have_chain = false;
	int t;

	while ((t = fwrules_next_token(p, tok, sizeof(tok), true)) == 1) {
		if (strcmp(tok, "!") == 0) {
			neg = true;
			continue;
		}
		if (opt_is(tok, "-w", "--wait")) {
			/* Waiting for the xtables lock changes nothing in the
			 * rule. */
			skip_optional_number(p);
			continue;
		}
		if (command_option(p, tok, neg, &have_chain, e) < 0)
			return -EINVAL;
		neg = false;
	}
	if (t < 0) {
		not_understood(e, "unbalanced quotes");
		return -EINVAL;
	}
	if (!have_chain) {
		not_understood(e, "neither -A nor -I: not a rule being added");
		return -EINVAL;
	}
	return 0;
}

/* Whether the rule a command adds is one this probe can look for in the
 * ruleset; if not, the reason is in e. */
static bool command_checkable(struct postup_expectation *e)
{
	if (!e->target[0]) {
		not_understood(e, "no -j target");
		return false;
	}
	if (!valid_net_or_empty(e->src, e->family)) {
		not_understood(e, "source %.40s is not an IPv%d network", e->src, e->family);
		return false;
	}
	if (!valid_net_or_empty(e->dst, e->family)) {
		not_understood(e, "destination %.40s is not an IPv%d network", e->dst, e->family);
		return false;
	}
	if (strcmp(e->table, "filter") != 0 && strcmp(e->table, "nat") != 0) {
		not_understood(e, "only the filter and nat tables are checked");
		return false;
	}
	return true;
}

/* A program name that can be shown: letters, digits and "._+-/" only, so
 * that an assignment ("PSK=...") or a quoted word is never published. */
static const char *shown_program(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	if (!*argv0 || strlen(argv0) > 64 ||
	    strspn(argv0, "abcdefghijklmnopqrstuvwxyz"
	                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                  "0123456789._+-/") != strlen(argv0))
		return "command";
	return base && base[1] ? base + 1 : argv0;
}

static void append_field(char *buf, size_t size, const char *opt, bool neg, const char *val)
{
	size_t n = strlen(buf);

	if (*val && n < size)
		snprintf(buf + n, size - n, " %s%s %s", neg ? "! " : "", opt, val);
}

/* What is published of a PostUp command: a PostUp line is shell text that
 * can carry anything (a preshared key given to "wg set"), so never its
 * words. An understood rule is written again from its parsed fields; any
 * other command is only named. */
static void describe_command(struct postup_expectation *e, const char *argv0)
{
	char buf[POSTUP_TEXT_MAX];

	if (!e->understood) {
		snprintf(buf, sizeof(buf), "%s (arguments not shown)", shown_program(argv0));
		copy_display(e->command, sizeof(e->command), buf);
		return;
	}
	snprintf(buf, sizeof(buf), "%s%s%s -A %s", e->family == 6 ? "ip6tables" : "iptables",
	         strcmp(e->table, "filter") == 0 ? "" : " -t ",
	         strcmp(e->table, "filter") == 0 ? "" : e->table, e->chain);
	append_field(buf, sizeof(buf), "-i", e->in_neg, e->in);
	append_field(buf, sizeof(buf), "-o", e->out_neg, e->out);
	append_field(buf, sizeof(buf), "-s", e->src_neg, e->src);
	append_field(buf, sizeof(buf), "-d", e->dst_neg, e->dst);
	append_field(buf, sizeof(buf), "-j", false, e->target);
	copy_display(e->command, sizeof(e->command), buf);
}

void postup_parse_command(const char *command, const char *iface, struct postup_expectation *ret)
{
	struct postup_expectation e = {.understood = true, .family = 4};
	char text[POSTUP_TEXT_MAX], tok[FWRULES_TOKEN_MAX];
	const char *p;
	int t;

	postup_substitute_iface(command, iface, text, sizeof(text));
	strcpy(e.table, "filter");
	p = text;
	t = fwrules_next_token(&p, tok, sizeof(tok), true);
	if (t != 1) {
		tok[0] = '\0';
		not_understood(&e, t == 0 ? "empty command" : "unbalanced quotes");
		goto out;
	}
	if (!is_iptables(tok, &e.family)) {
		not_understood(&e, "not an iptables command");
		goto out;
	}
	if (command_options(&p, &e) < 0 || !command_checkable(&e))
		goto out;
	e.checked = true;
out:
	describe_command(&e, tok);
	*ret = e;
	explicit_bzero(text, sizeof(text));
	explicit_bzero(tok, sizeof(tok));
}

/* ---- matching the live ruleset ------------------------------------------------ */

bool postup_expectation_present(const struct fwrules_ruleset *rs,
                                const struct postup_expectation *e)
{
	const struct fwrules_table *t = strcmp(e->table, "nat") == 0 ? &rs->nat : &rs->filter;
	const struct fwrules_chain *c;

	if (!e->understood || !e->checked || !t->present || e->family != rs->family)
		return false;
	c = fwrules_find_chain(t, e->chain);
	if (!c)
		return false;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct fwrules_rule *r = &c->rules[i];

		if (!fwrules_rule_narrowed(r) && strcmp(r->in, e->in) == 0 &&
		    r->in_neg == e->in_neg && strcmp(r->out, e->out) == 0 &&
		    r->out_neg == e->out_neg && fwrules_same_net(r->src, e->src) &&
		    r->src_neg == e->src_neg && fwrules_same_net(r->dst, e->dst) &&
		    r->dst_neg == e->dst_neg && strcmp(r->target, e->target) == 0 && !r->is_goto)
			return true;
	}
	return false;
}

bool postup_only_iptables(const char *line)
{
	char *copy = strdup(line), *save = NULL;
	bool ok = copy != NULL;
	int family;

	for (char *cmd = copy ? strtok_r(copy, ";", &save) : NULL; ok && cmd;
	     cmd = strtok_r(NULL, ";", &save)) {
		char tok[FWRULES_TOKEN_MAX];
		const char *p = cmd;
		int t = fwrules_next_token(&p, tok, sizeof(tok), true);

		ok = t == 0 || (t == 1 && is_iptables(tok, &family));
		explicit_bzero(tok, sizeof(tok));
	}
	if (copy)
		explicit_bzero(copy, strlen(line));
	free(copy);
	return ok;
}
