#include "probes/iptsave.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/text.h"

/* Text from the ruleset that ends up in summaries: control bytes and bytes
 * that are not UTF-8 become '?', and a cut never splits a character. */
static void copy_display(char *dst, size_t size, const char *src)
{
	text_copy_utf8(dst, size, src, strlen(src));
}

/* ":NAME POLICY [packets:bytes]" */
static int parse_chain_line(struct fwrules_table *t, const char *line, int lineno, char *err,
                            size_t errlen)
{
	char name[FWRULES_TOKEN_MAX], policy[FWRULES_TOKEN_MAX];
	const char *p = line + 1;
	struct fwrules_chain *c;

	if (fwrules_next_token(&p, name, sizeof(name), false) != 1 ||
	    fwrules_next_token(&p, policy, sizeof(policy), false) != 1)
		return fwrules_fail(err, errlen, lineno, -EINVAL, "malformed chain line");
	if (strlen(name) >= FWRULES_CHAIN_MAX || strlen(policy) >= sizeof(c->policy))
		return fwrules_fail(err, errlen, lineno, -EINVAL, "chain name or policy too long");
	if (!t)
		return 0;
	if (fwrules_find_chain_mut(t, name))
		return fwrules_fail(err, errlen, lineno, -EINVAL, "chain %s declared twice", name);
	c = fwrules_add_chain(t, name);
	if (!c)
		return errno == E2BIG ? fwrules_fail(err, errlen, lineno, -E2BIG,
		                                     "more than %d chains", FWRULES_CHAINS_MAX)
		                      : fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
	if (strcmp(policy, "-") != 0)
		strcpy(c->policy, policy);
	/* Built-in chains are the base chains of their hooks, at the
	 * priorities xtables registers: filter 0, nat POSTROUTING 100. */
	c->nat = strcmp(t->name, "nat") == 0;
	c->priority = c->nat ? 100 : 0;
	c->hook = !c->policy[0]                           ? FWRULES_HOOK_NONE
	          : strcmp(name, "FORWARD") == 0          ? FWRULES_HOOK_FORWARD
	          : strcmp(name, "POSTROUTING") == 0      ? FWRULES_HOOK_POSTROUTING
	          : strcmp(name, "INPUT") == 0 && !c->nat ? FWRULES_HOOK_INPUT
	                                                  : FWRULES_HOOK_OTHER;
	return 0;
}

static int parse_counters(const char *tok, uint64_t *packets, uint64_t *bytes)
{
	unsigned long long p, b;
	int n = 0;

	if (sscanf(tok, "[%llu:%llu]%n", &p, &b, &n) != 2 || tok[n] != '\0')
		return -EINVAL;
	*packets = p;
	*bytes = b;
	return 0;
}

/* Where the options of one rule stand between tokens: a '!' waiting for
 * its option, and whether the options that follow belong to the comment
 * match or to the target. */
struct rule_cursor {
	const char *p;
	struct fwrules_rule *r;
	char *why;
	size_t whylen;
	bool neg, in_comment, in_state, in_target;
	bool in_l4;       /* in -m tcp or -m udp, whose --dport is understood */
	bool in_addrtype; /* in -m addrtype, whose --dst-type is understood */
};

/* -i, -o, -s or -d and its value, negated by a '!' before it. */
static int rule_iface_or_addr(struct rule_cursor *c, const char *tok)
{
	char val[FWRULES_TOKEN_MAX];
	struct fwrules_rule *r = c->r;
	bool is_iface = tok[1] == 'i' || tok[1] == 'o';
	char *field;
	bool *field_neg;
	size_t field_size;

	if (is_iface) {
		field = tok[1] == 'i' ? r->in : r->out;
		field_neg = tok[1] == 'i' ? &r->in_neg : &r->out_neg;
		field_size = IF_NAMESIZE;
	} else {
		field = tok[1] == 's' ? r->src : r->dst;
		field_neg = tok[1] == 's' ? &r->src_neg : &r->dst_neg;
		field_size = FWRULES_ADDR_MAX;
	}
	if (fwrules_next_token(&c->p, val, sizeof(val), false) != 1 ||
	    !fwrules_copy_field(field, field_size, val)) {
		snprintf(c->why, c->whylen, "bad value for %.8s", tok);
		return -EINVAL;
	}
	*field_neg = c->neg;
	c->neg = false;
	c->in_comment = c->in_state = c->in_target = c->in_l4 = c->in_addrtype = false;
	return 0;
}

/* -j or -g and the target; the options after it are the target's. */
static int rule_target(struct rule_cursor *c, const char *tok)
{
	char val[FWRULES_TOKEN_MAX];

	if (fwrules_next_token(&c->p, val, sizeof(val), false) != 1 ||
	    !fwrules_copy_field(c->r->target, sizeof(c->r->target), val)) {
		snprintf(c->why, c->whylen, "bad target after %.8s", tok);
		return -EINVAL;
	}
	c->r->is_goto = tok[1] == 'g';
	c->in_target = true;
	c->in_comment = c->in_state = c->in_l4 = c->in_addrtype = false;
	c->neg = false;
	return 0;
}

/* -p PROTOCOL: a known protocol is kept (the rule matches it only), "all"
 * is every protocol; another narrows the rule to packets not known here. */
static void rule_proto(struct rule_cursor *c, const char *val)
{
	int proto = fwrules_proto_parse(val);

	if (proto && !c->r->proto) {
		c->r->proto = (uint8_t)proto;
		c->r->proto_neg = c->neg;
	} else if (strcmp(val, "all") != 0 || c->neg) {
		c->r->conditional = true;
	}
}

/* -p PROTOCOL or -m MODULE: each narrows the rule, except the comment
 * match, whose --comment is kept for display; a protocol and the tcp and
 * udp matches' destination port are understood. */
static int rule_match(struct rule_cursor *c, const char *tok)
{
	char val[FWRULES_TOKEN_MAX];

	if (fwrules_next_token(&c->p, val, sizeof(val), false) != 1) {
		snprintf(c->why, c->whylen, "missing value after %.8s", tok);
		return -EINVAL;
	}
	c->in_comment = tok[1] == 'm' && strcmp(val, "comment") == 0;
	c->in_state = tok[1] == 'm' && (strcmp(val, "conntrack") == 0 || strcmp(val, "state") == 0);
	c->in_l4 = tok[1] == 'm' && (strcmp(val, "tcp") == 0 || strcmp(val, "udp") == 0);
	c->in_addrtype = tok[1] == 'm' && strcmp(val, "addrtype") == 0;
	if (tok[1] == 'p')
		rule_proto(c, val);
	else if (!c->in_comment && !c->in_state && !c->in_l4 && !c->in_addrtype)
		c->r->conditional = true;
	c->in_target = false;
	c->neg = false;
	return 0;
}

/* --comment TEXT of the comment match. */
static int rule_comment(struct rule_cursor *c)
{
	char val[FWRULES_TOKEN_MAX];
	int t = fwrules_next_token(&c->p, val, sizeof(val), false);

	if (t != 1) {
		snprintf(c->why, c->whylen, "%s",
		         t < 0 ? "unterminated quote or overlong argument"
		               : "missing comment text");
		return -EINVAL;
	}
	copy_display(c->r->comment, sizeof(c->r->comment), val);
	return 0;
}

int iptsave_parse_states(const char *list, unsigned *ret)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
	    {"NEW", FWRULES_CT_NEW},
	    {"ESTABLISHED", FWRULES_CT_ESTABLISHED},
	    {"RELATED", FWRULES_CT_RELATED},
	    {"INVALID", FWRULES_CT_INVALID},
	    {"UNTRACKED", FWRULES_CT_UNTRACKED},
	};
	unsigned states = 0;
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		bool known = false;

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !known; i++)
			if (strlen(names[i].name) == len && strncmp(names[i].name, p, len) == 0) {
				states |= names[i].bit;
				known = true;
			}
		/* DNAT and SNAT states are about the NAT of the connection: not
		 * one of the states a VPN packet is judged by. */
		if (!known)
			return -EINVAL;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!states)
		return -EINVAL;
	*ret = states;
	return 0;
}

/* --ctstate/--state LIST of the conntrack or state match, negated by a '!'
 * before it. A list that names other states narrows the rule. */
static int rule_states(struct rule_cursor *c, const char *tok)
{
	char val[FWRULES_TOKEN_MAX];
	unsigned states;

	if (fwrules_next_token(&c->p, val, sizeof(val), false) != 1) {
		snprintf(c->why, c->whylen, "missing value after %.10s", tok);
		return -EINVAL;
	}
	if (iptsave_parse_states(val, &states) < 0 || c->r->ct_states) {
		c->r->conditional = true;
	} else {
		c->r->ct_states = states;
		c->r->ct_neg = c->neg;
	}
	c->neg = false;
	return 0;
}

/* --dport PORT[:PORT] of the tcp or udp match, negated by a '!' before it. */
static int rule_dport(struct rule_cursor *c, const char *tok)
{
	char val[FWRULES_TOKEN_MAX];

	if (fwrules_next_token(&c->p, val, sizeof(val), false) != 1) {
		snprintf(c->why, c->whylen, "missing value after %.10s", tok);
		return -EINVAL;
	}
	if (c->r->dport_min || fwrules_ports_parse(val, &c->r->dport_min, &c->r->dport_max) < 0)
		c->r->conditional = true;
	else
		c->r->dport_neg = c->neg;
	c->neg = false;
	return 0;
}

/* --dst-type LIST of the addrtype match ("LOCAL", "BROADCAST,MULTICAST"),
 * negated by a '!' before it; other types narrow the rule. */
static int rule_dst_type(struct rule_cursor *c, const char *tok)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"LOCAL", FWRULES_ADDRTYPE_LOCAL},
	             {"UNICAST", FWRULES_ADDRTYPE_UNICAST},
	             {"BROADCAST", FWRULES_ADDRTYPE_BROADCAST},
	             {"MULTICAST", FWRULES_ADDRTYPE_MULTICAST}};
	char val[FWRULES_TOKEN_MAX], *save = NULL;
	unsigned types = 0;
	bool known = true;

	if (fwrules_next_token(&c->p, val, sizeof(val), false) != 1) {
		snprintf(c->why, c->whylen, "missing value after %.10s", tok);
		return -EINVAL;
	}
	for (char *t = strtok_r(val, ",", &save); t && known; t = strtok_r(NULL, ",", &save)) {
		known = false;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(t, names[i].name) == 0) {
				types |= names[i].bit;
				known = true;
			}
	}
	if (!known || !types || c->r->dst_types) {
		c->r->conditional = true;
	} else {
		c->r->dst_types = types;
		c->r->dst_types_neg = c->neg;
	}
	c->neg = false;
	return 0;
}

/* One token of the options, with the value it takes, if any. */
static int rule_option(struct rule_cursor *c, const char *tok)
{
	if (strcmp(tok, "!") == 0) {
		c->neg = true;
		return 0;
	}
	if (strcmp(tok, "-i") == 0 || strcmp(tok, "-o") == 0 || strcmp(tok, "-s") == 0 ||
	    strcmp(tok, "-d") == 0)
		return rule_iface_or_addr(c, tok);
	if (strcmp(tok, "-j") == 0 || strcmp(tok, "-g") == 0)
		return rule_target(c, tok);
	if (strcmp(tok, "-p") == 0 || strcmp(tok, "-m") == 0)
		return rule_match(c, tok);
	if (strcmp(tok, "-f") == 0) {
		c->r->conditional = true;
		c->neg = false;
		return 0;
	}
	if (c->in_comment && strcmp(tok, "--comment") == 0)
		return rule_comment(c);
	if (c->in_state && (strcmp(tok, "--ctstate") == 0 || strcmp(tok, "--state") == 0))
		return rule_states(c, tok);
	if (c->in_l4 && (strcmp(tok, "--dport") == 0 || strcmp(tok, "--destination-port") == 0))
		return rule_dport(c, tok);
	if (c->in_addrtype && strcmp(tok, "--dst-type") == 0)
		return rule_dst_type(c, tok);
	/* Options of a match module or of the target, and their
	 * values: a match's options narrow the rule, a target's do not. */
	if (!c->in_target && tok[0] == '-')
		c->r->conditional = true;
	c->neg = false;
	return 0;
}

/* The options of one rule, after "-A CHAIN". */
static int parse_rule_options(const char *p, struct fwrules_rule *r, char *why, size_t whylen)
{
	struct rule_cursor c = {.p = p, .r = r, .why = why, .whylen = whylen};
	char tok[FWRULES_TOKEN_MAX];
	int t;

	while ((t = fwrules_next_token(&c.p, tok, sizeof(tok), false)) == 1)
		if (rule_option(&c, tok) < 0)
			return -EINVAL;
	if (t < 0) {
		snprintf(why, whylen, "unterminated quote or overlong argument");
		return -EINVAL;
	}
	return 0;
}

static int parse_rule_line(struct fwrules_table *t, const char *line, int lineno, char *err,
                           size_t errlen)
{
	char tok[FWRULES_TOKEN_MAX], chain_name[FWRULES_TOKEN_MAX], why[128] = "";
	struct fwrules_rule r = {.line = lineno};
	struct fwrules_chain *c;
	const char *p = line, *start;
	int n;

	if (line[0] == '[') {
		if (fwrules_next_token(&p, tok, sizeof(tok), false) != 1 ||
		    parse_counters(tok, &r.packets, &r.bytes) < 0)
			return fwrules_fail(err, errlen, lineno, -EINVAL, "malformed counters");
		r.has_counters = true;
	}
	while (*p == ' ')
		p++;
	start = p;
	if (fwrules_next_token(&p, tok, sizeof(tok), false) != 1 || strcmp(tok, "-A") != 0 ||
	    fwrules_next_token(&p, chain_name, sizeof(chain_name), false) != 1)
		return fwrules_fail(err, errlen, lineno, -EINVAL, "expected '-A CHAIN ...'");
	if (parse_rule_options(p, &r, why, sizeof(why)) < 0)
		return fwrules_fail(err, errlen, lineno, -EINVAL, "%s", why);
	if (!t)
		return 0;
	c = fwrules_find_chain_mut(t, chain_name);
	if (!c)
		return fwrules_fail(err, errlen, lineno, -EINVAL, "rule for undeclared chain %.32s",
		                    chain_name);
	n = (int)strlen(start);
	while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\r'))
		n--;
	r.text = strndup(start, (size_t)n);
	if (!r.text)
		return fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
	if (fwrules_add_rule(c, &r) < 0) {
		free(r.text);
		return fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
	}
	return 0;
}

static void parse_comment(struct fwrules_ruleset *rs, const char *line)
{
	/* "# Generated by iptables-save v1.8.9 (nf_tables) on ...", also
	 * by iptables-nft-save, ip6tables-legacy-save, ...; releases before
	 * 1.8 name no backend: those are legacy. */
	if (strncmp(line, "# Generated by ip", 17) == 0 && strstr(line, "tables") &&
	    strstr(line, "-save")) {
		if (strstr(line, "(nf_tables)"))
			strcpy(rs->backend, "nf_tables");
		else if (strstr(line, "(legacy)") || !strchr(line, '('))
			strcpy(rs->backend, "legacy");
	}
	/* iptables-nft-save: "# Warning: iptables-legacy tables present, use
	 * iptables-legacy-save to see them". */
	if (strstr(line, "iptables-legacy tables present") ||
	    strstr(line, "ip6tables-legacy tables present"))
		rs->legacy_tables_present = true;
}

int iptsave_parse(const char *buf, size_t len, int family, struct fwrules_ruleset *ret, char *err,
                  size_t errlen)
{
	struct fwrules_ruleset rs = {.family = family};
	struct fwrules_table *table = NULL;
	const char *pos = buf, *end = buf + len;
	char table_name[32] = "", *line = NULL;
	bool inside = false;
	int lineno = 0, r = 0;

	if (memchr(buf, '\0', len)) {
		r = fwrules_fail(err, errlen, 0, -EINVAL, "contains a NUL byte");
		goto out;
	}
	line = malloc(len + 1);
	if (!line) {
		r = fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
		goto out;
	}
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = (size_t)((nl ? nl : end) - pos);

		lineno++;
		if (!nl) {
			r = fwrules_fail(err, errlen, lineno, -EBADMSG,
			                 "output ends in the middle of a line: truncated");
			goto out;
		}
		memcpy(line, pos, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		pos = nl + 1;
		if (n == 0)
			continue;
		if (line[0] == '#') {
			parse_comment(&rs, line);
			continue;
		}
		if (line[0] == '*') {
			if (inside) {
				r = fwrules_fail(err, errlen, lineno, -EBADMSG,
				                 "table *%s starts before *%s has its COMMIT",
				                 line + 1, table_name);
				goto out;
			}
			inside = true;
			snprintf(table_name, sizeof(table_name), "%s", line + 1);
			table = strcmp(line, "*filter") == 0 ? &rs.filter
			        : strcmp(line, "*nat") == 0  ? &rs.nat
			                                     : NULL;
			if (table && table->present) {
				r = fwrules_fail(err, errlen, lineno, -EINVAL,
				                 "table %s appears twice", line);
				goto out;
			}
			if (table) {
				table->present = true;
				snprintf(table->family, sizeof(table->family), "%s",
				         family == 6 ? "ip6" : "ip");
				snprintf(table->name, sizeof(table->name), "%s", line + 1);
			}
			continue;
		}
		if (!inside) {
			r = fwrules_fail(err, errlen, lineno, -EINVAL, "line outside of any table");
			goto out;
		}
		if (strcmp(line, "COMMIT") == 0) {
			inside = false;
			table = NULL;
			continue;
		}
		if (line[0] == ':')
			r = parse_chain_line(table, line, lineno, err, errlen);
		else if (line[0] == '-' || line[0] == '[')
			r = parse_rule_line(table, line, lineno, err, errlen);
		else
			r = fwrules_fail(err, errlen, lineno, -EINVAL, "unexpected line");
		if (r < 0)
			goto out;
		if (table == &rs.filter || table == &rs.nat) {
			if (line[0] != ':' && ++rs.n_rules > FWRULES_RULES_MAX) {
				r = fwrules_fail(err, errlen, lineno, -E2BIG, "more than %d rules",
				                 FWRULES_RULES_MAX);
				goto out;
			}
		}
	}
	if (inside) {
		r = fwrules_fail(err, errlen, 0, -EBADMSG,
		                 "output ends inside table *%s (no COMMIT): truncated", table_name);
		goto out;
	}
	*ret = rs;
	memset(&rs, 0, sizeof(rs));
out:
	free(line);
	fwrules_ruleset_free(&rs);
	return r;
}
