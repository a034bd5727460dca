#include "probes/firewall.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/config.h"
#include "probes/caps.h"
#include "probes/rtnl.h"
#include "probes/runner.h"
#include "probes/text.h"
#include "probes/wgquick.h"

/* iptables-save of a large Docker host is tens of kilobytes; 5000 rules
 * are about 500 KiB. Past this, something is wrong. */
#define FIREWALL_OUTPUT_MAX (8 * 1024 * 1024)
#define FIREWALL_TIMEOUT_MS 5000
#define FIREWALL_DEPTH_MAX  16
#define FIREWALL_TOKEN_MAX  1024

/* ---- small helpers ---------------------------------------------------------- */

static int fail_line(char *err, size_t errlen, int line, int r, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_line(char *err, size_t errlen, int line, int r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err, errlen, "line %d: %s", line, msg);
	else
		snprintf(err, errlen, "%s", msg);
	/* Messages quote the ruleset and iptables-save's stderr. */
	text_sanitize_utf8(err);
	return r;
}

static bool copy_field(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

/* Text from the ruleset that ends up in summaries: control bytes and bytes
 * that are not UTF-8 become '?', and a cut never splits a character. */
static void copy_display(char *dst, size_t size, const char *src)
{
	text_copy_utf8(dst, size, src, strlen(src));
}

bool firewall_iface_matches(const char *pattern, const char *name)
{
	size_t len = strlen(pattern);

	/* xtables: a trailing '+' matches every name with that prefix. */
	if (len > 0 && pattern[len - 1] == '+')
		return strncmp(pattern, name, len - 1) == 0;
	return strcmp(pattern, name) == 0;
}

/* ---- IPv4 networks ------------------------------------------------------------ */

struct net4 {
	uint32_t addr; /* host order, host bits cleared */
	unsigned prefix;
};

static uint32_t mask_of(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* "10.0.0.0/24", "10.0.0.5" (= /32), "10.0.0.0/255.255.255.0". */
static int net4_parse(const char *text, struct net4 *ret)
{
	char buf[FIREWALL_ADDR_MAX], *slash;
	struct in_addr a, m;
	unsigned prefix = 32;

	if (!copy_field(buf, sizeof(buf), text))
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash) {
		char *end;
		unsigned long p;

		*slash++ = '\0';
		if (inet_pton(AF_INET, slash, &m) == 1) {
			uint32_t mask = ntohl(m.s_addr);

			prefix = (unsigned)__builtin_popcount(mask);
			if (mask != mask_of(prefix))
				return -EINVAL;
		} else {
			errno = 0;
			p = strtoul(slash, &end, 10);
			if (!isdigit((unsigned char)*slash) || *end || errno || p > 32)
				return -EINVAL;
			prefix = (unsigned)p;
		}
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	ret->prefix = prefix;
	ret->addr = ntohl(a.s_addr) & mask_of(prefix);
	return 0;
}

static void net4_format(const struct net4 *n, char *buf, size_t size)
{
	struct in_addr a = {.s_addr = htonl(n->addr)};
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, text, sizeof(text));
	snprintf(buf, size, "%s/%u", text, n->prefix);
}

static bool net4_contains(const struct net4 *outer, const struct net4 *inner)
{
	return inner->prefix >= outer->prefix &&
	       (inner->addr & mask_of(outer->prefix)) == outer->addr;
}

/* Two address texts name the same network ("10.0.0.5" = "10.0.0.5/32"). */
static bool same_net(const char *a, const char *b)
{
	struct net4 na, nb;

	if (!*a || !*b)
		return !*a && !*b;
	if (net4_parse(a, &na) < 0 || net4_parse(b, &nb) < 0)
		return strcmp(a, b) == 0;
	return na.addr == nb.addr && na.prefix == nb.prefix;
}

/* ---- tokenizer ---------------------------------------------------------------- */

/* Next blank-separated token. iptables-save quotes arguments with blanks in
 * double quotes and escapes '"' and '\' inside with a backslash; PostUp
 * commands are shell text, where single quotes also quote. Returns 1 with a
 * token, 0 at the end, -EINVAL for an unterminated quote or an overlong one. */
static int next_token(const char **pos, char *out, size_t size, bool shell)
{
	const char *p = *pos;
	size_t n = 0;
	char quote = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p) {
		*pos = p;
		return 0;
	}
	for (; *p; p++) {
		char c = *p;

		if (quote) {
			if (c == quote) {
				quote = 0;
				continue;
			}
			if (c == '\\' && quote == '"' && (p[1] == '"' || p[1] == '\\'))
				c = *++p;
		} else if (c == ' ' || c == '\t') {
			break;
		} else if (c == '"' || (shell && c == '\'')) {
			quote = c;
			continue;
		} else if (c == '\\' && p[1]) {
			c = *++p;
		}
		if (n + 1 >= size)
			return -EINVAL;
		out[n++] = c;
	}
	if (quote)
		return -EINVAL;
	out[n] = '\0';
	*pos = p;
	return 1;
}

/* ---- the ruleset -------------------------------------------------------------- */

static void table_free(struct firewall_table *t)
{
	for (size_t i = 0; i < t->n_chains; i++) {
		for (size_t j = 0; j < t->chains[i].n_rules; j++)
			free(t->chains[i].rules[j].text);
		free(t->chains[i].rules);
	}
	free(t->chains);
	memset(t, 0, sizeof(*t));
}

void firewall_ruleset_free(struct firewall_ruleset *rs)
{
	if (!rs)
		return;
	table_free(&rs->filter);
	table_free(&rs->nat);
}

const struct firewall_chain *firewall_find_chain(const struct firewall_table *table,
                                                 const char *name)
{
	for (size_t i = 0; i < table->n_chains; i++)
		if (strcmp(table->chains[i].name, name) == 0)
			return &table->chains[i];
	return NULL;
}

static struct firewall_chain *find_chain_mut(struct firewall_table *table, const char *name)
{
	for (size_t i = 0; i < table->n_chains; i++)
		if (strcmp(table->chains[i].name, name) == 0)
			return &table->chains[i];
	return NULL;
}

/* ":NAME POLICY [packets:bytes]" */
static int parse_chain_line(struct firewall_table *t, const char *line, int lineno, char *err,
                            size_t errlen)
{
	char name[FIREWALL_TOKEN_MAX], policy[FIREWALL_TOKEN_MAX];
	const char *p = line + 1;
	struct firewall_chain *c;

	if (next_token(&p, name, sizeof(name), false) != 1 ||
	    next_token(&p, policy, sizeof(policy), false) != 1)
		return fail_line(err, errlen, lineno, -EINVAL, "malformed chain line");
	if (strlen(name) >= FIREWALL_CHAIN_MAX || strlen(policy) >= sizeof(c->policy))
		return fail_line(err, errlen, lineno, -EINVAL, "chain name or policy too long");
	if (!t)
		return 0;
	if (find_chain_mut(t, name))
		return fail_line(err, errlen, lineno, -EINVAL, "chain %s declared twice", name);
	if (t->n_chains >= FIREWALL_CHAINS_MAX)
		return fail_line(err, errlen, lineno, -E2BIG, "more than %d chains",
		                 FIREWALL_CHAINS_MAX);
	if (t->n_chains == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct firewall_chain *grown = realloc(t->chains, cap * sizeof(*grown));

		if (!grown)
			return fail_line(err, errlen, 0, -ENOMEM, "out of memory");
		t->chains = grown;
		t->cap = cap;
	}
	c = &t->chains[t->n_chains++];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	if (strcmp(policy, "-") != 0)
		strcpy(c->policy, policy);
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
	struct firewall_rule *r;
	char *why;
	size_t whylen;
	bool neg, in_comment, in_target;
};

/* -i, -o, -s or -d and its value, negated by a '!' before it. */
static int rule_iface_or_addr(struct rule_cursor *c, const char *tok)
{
	char val[FIREWALL_TOKEN_MAX];
	struct firewall_rule *r = c->r;
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
		field_size = FIREWALL_ADDR_MAX;
	}
	if (next_token(&c->p, val, sizeof(val), false) != 1 ||
	    !copy_field(field, field_size, val)) {
		snprintf(c->why, c->whylen, "bad value for %.8s", tok);
		return -EINVAL;
	}
	*field_neg = c->neg;
	c->neg = false;
	c->in_comment = c->in_target = false;
	return 0;
}

/* -j or -g and the target; the options after it are the target's. */
static int rule_target(struct rule_cursor *c, const char *tok)
{
	char val[FIREWALL_TOKEN_MAX];

	if (next_token(&c->p, val, sizeof(val), false) != 1 ||
	    !copy_field(c->r->target, sizeof(c->r->target), val)) {
		snprintf(c->why, c->whylen, "bad target after %.8s", tok);
		return -EINVAL;
	}
	c->r->is_goto = tok[1] == 'g';
	c->in_target = true;
	c->in_comment = false;
	c->neg = false;
	return 0;
}

/* -p PROTOCOL or -m MODULE: each narrows the rule, except the comment
 * match, whose --comment is kept for display. */
static int rule_match(struct rule_cursor *c, const char *tok)
{
	char val[FIREWALL_TOKEN_MAX];

	if (next_token(&c->p, val, sizeof(val), false) != 1) {
		snprintf(c->why, c->whylen, "missing value after %.8s", tok);
		return -EINVAL;
	}
	c->in_comment = tok[1] == 'm' && strcmp(val, "comment") == 0;
	if (!c->in_comment)
		c->r->conditional = true;
	c->in_target = false;
	c->neg = false;
	return 0;
}

/* --comment TEXT of the comment match. */
static int rule_comment(struct rule_cursor *c)
{
	char val[FIREWALL_TOKEN_MAX];
	int t = next_token(&c->p, val, sizeof(val), false);

	if (t != 1) {
		snprintf(c->why, c->whylen, "%s",
		         t < 0 ? "unterminated quote or overlong argument"
		               : "missing comment text");
		return -EINVAL;
	}
	copy_display(c->r->comment, sizeof(c->r->comment), val);
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
	/* Options of a match module or of the target, and their
	 * values: a match's options narrow the rule, a target's do not. */
	if (!c->in_target && tok[0] == '-')
		c->r->conditional = true;
	c->neg = false;
	return 0;
}

/* The options of one rule, after "-A CHAIN". */
static int parse_rule_options(const char *p, struct firewall_rule *r, char *why, size_t whylen)
{
	struct rule_cursor c = {.p = p, .r = r, .why = why, .whylen = whylen};
	char tok[FIREWALL_TOKEN_MAX];
	int t;

	while ((t = next_token(&c.p, tok, sizeof(tok), false)) == 1)
		if (rule_option(&c, tok) < 0)
			return -EINVAL;
	if (t < 0) {
		snprintf(why, whylen, "unterminated quote or overlong argument");
		return -EINVAL;
	}
	return 0;
}

static int parse_rule_line(struct firewall_table *t, const char *line, int lineno, char *err,
                           size_t errlen)
{
	char tok[FIREWALL_TOKEN_MAX], chain_name[FIREWALL_TOKEN_MAX], why[128] = "";
	struct firewall_rule r = {.line = lineno};
	struct firewall_chain *c;
	const char *p = line, *start;
	int n;

	if (line[0] == '[') {
		if (next_token(&p, tok, sizeof(tok), false) != 1 ||
		    parse_counters(tok, &r.packets, &r.bytes) < 0)
			return fail_line(err, errlen, lineno, -EINVAL, "malformed counters");
		r.has_counters = true;
	}
	while (*p == ' ')
		p++;
	start = p;
	if (next_token(&p, tok, sizeof(tok), false) != 1 || strcmp(tok, "-A") != 0 ||
	    next_token(&p, chain_name, sizeof(chain_name), false) != 1)
		return fail_line(err, errlen, lineno, -EINVAL, "expected '-A CHAIN ...'");
	if (parse_rule_options(p, &r, why, sizeof(why)) < 0)
		return fail_line(err, errlen, lineno, -EINVAL, "%s", why);
	if (!t)
		return 0;
	c = find_chain_mut(t, chain_name);
	if (!c)
		return fail_line(err, errlen, lineno, -EINVAL, "rule for undeclared chain %.32s",
		                 chain_name);
	if (c->n_rules == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct firewall_rule *grown = realloc(c->rules, cap * sizeof(*grown));

		if (!grown)
			return fail_line(err, errlen, 0, -ENOMEM, "out of memory");
		c->rules = grown;
		c->cap = cap;
	}
	n = (int)strlen(start);
	while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\r'))
		n--;
	r.text = strndup(start, (size_t)n);
	if (!r.text)
		return fail_line(err, errlen, 0, -ENOMEM, "out of memory");
	c->rules[c->n_rules++] = r;
	return 0;
}

static void parse_comment(struct firewall_ruleset *rs, const char *line)
{
	if (strncmp(line, "# Generated by iptables-save", 28) == 0) {
		if (strstr(line, "(nf_tables)"))
			strcpy(rs->backend, "nf_tables");
		else if (strstr(line, "(legacy)") || !strchr(line, '('))
			strcpy(rs->backend, "legacy");
	}
	/* iptables-nft-save: "# Warning: iptables-legacy tables present, use
	 * iptables-legacy-save to see them". */
	if (strstr(line, "iptables-legacy tables present"))
		rs->legacy_tables_present = true;
}

int firewall_parse(const char *buf, size_t len, struct firewall_ruleset *ret, char *err,
                   size_t errlen)
{
	struct firewall_ruleset rs = {.backend = ""};
	struct firewall_table *table = NULL;
	const char *pos = buf, *end = buf + len;
	char table_name[32] = "", *line = NULL;
	bool inside = false;
	int lineno = 0, r = 0;

	if (memchr(buf, '\0', len)) {
		r = fail_line(err, errlen, 0, -EINVAL, "contains a NUL byte");
		goto out;
	}
	line = malloc(len + 1);
	if (!line) {
		r = fail_line(err, errlen, 0, -ENOMEM, "out of memory");
		goto out;
	}
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = (size_t)((nl ? nl : end) - pos);

		lineno++;
		if (!nl) {
			r = fail_line(err, errlen, lineno, -EBADMSG,
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
				r = fail_line(err, errlen, lineno, -EBADMSG,
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
				r = fail_line(err, errlen, lineno, -EINVAL,
				              "table %s appears twice", line);
				goto out;
			}
			if (table)
				table->present = true;
			continue;
		}
		if (!inside) {
			r = fail_line(err, errlen, lineno, -EINVAL, "line outside of any table");
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
			r = fail_line(err, errlen, lineno, -EINVAL, "unexpected line");
		if (r < 0)
			goto out;
		if (table == &rs.filter || table == &rs.nat) {
			if (line[0] != ':' && ++rs.n_rules > FIREWALL_RULES_MAX) {
				r = fail_line(err, errlen, lineno, -E2BIG, "more than %d rules",
				              FIREWALL_RULES_MAX);
				goto out;
			}
		}
	}
	if (inside) {
		r = fail_line(err, errlen, 0, -EBADMSG,
		              "output ends inside table *%s (no COMMIT): truncated", table_name);
		goto out;
	}
	*ret = rs;
	memset(&rs, 0, sizeof(rs));
out:
	free(line);
	firewall_ruleset_free(&rs);
	return r;
}

/* ---- PostUp commands ----------------------------------------------------------- */

static void not_understood(struct firewall_expectation *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void not_understood(struct firewall_expectation *e, const char *fmt, ...)
{
	va_list ap;

	e->understood = false;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
}

/* wg-quick replaces every %i with the interface name before running it. */
static void substitute_iface(const char *command, const char *iface, char *buf, size_t size)
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
static bool valid_net4_or_empty(const char *text)
{
	struct net4 n;

	return !*text || net4_parse(text, &n) == 0;
}

static bool opt_is(const char *tok, const char *s, const char *l)
{
	return strcmp(tok, s) == 0 || strcmp(tok, l) == 0;
}

/* -w and -I CHAIN take an optional number (seconds to wait for the
 * xtables lock, the rule's position): skip it if it is there. */
static void skip_optional_number(const char **p)
{
	char val[FIREWALL_TOKEN_MAX];
	const char *save = *p;

	if (next_token(p, val, sizeof(val), true) != 1 || !isdigit((unsigned char)val[0]))
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
static bool command_field(struct firewall_expectation *e, const char *tok, bool *have_chain,
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
                          struct firewall_expectation *e)
{
	char val[FIREWALL_TOKEN_MAX];
	struct option_field f;
	int t;

	if (!command_field(e, tok, have_chain, &f))
		return -EINVAL;
	if (neg && !f.neg) {
		not_understood(e, "'!' before %.40s", tok);
		return -EINVAL;
	}
	t = next_token(p, val, sizeof(val), true);
	if (t < 0) {
		not_understood(e, "unbalanced quotes");
		return -EINVAL;
	}
	if (t != 1 || val[0] == '-' || !copy_field(f.field, f.size, val)) {
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
static int command_options(const char **p, struct firewall_expectation *e)
{
	char tok[FIREWALL_TOKEN_MAX];
	bool neg = false, have_chain = false;
	int t;

	while ((t = next_token(p, tok, sizeof(tok), true)) == 1) {
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
static bool command_checkable(struct firewall_expectation *e)
{
	if (!e->target[0]) {
		not_understood(e, "no -j target");
		return false;
	}
	if (e->family == 4 && !valid_net4_or_empty(e->src)) {
		not_understood(e, "source %.40s is not an IPv4 network", e->src);
		return false;
	}
	if (e->family == 4 && !valid_net4_or_empty(e->dst)) {
		not_understood(e, "destination %.40s is not an IPv4 network", e->dst);
		return false;
	}
	if (strcmp(e->table, "filter") != 0 && strcmp(e->table, "nat") != 0) {
		not_understood(e, "only the filter and nat tables are checked");
		return false;
	}
	return true;
}

void firewall_parse_command(const char *command, const char *iface,
                            struct firewall_expectation *ret)
{
	struct firewall_expectation e = {.understood = true, .family = 4};
	char text[FIREWALL_TEXT_MAX], tok[FIREWALL_TOKEN_MAX];
	const char *p;
	int t;

	substitute_iface(command, iface, text, sizeof(text));
	copy_display(e.command, sizeof(e.command), text);
	strcpy(e.table, "filter");
	p = text;
	t = next_token(&p, tok, sizeof(tok), true);
	if (t != 1) {
		not_understood(&e, t == 0 ? "empty command" : "unbalanced quotes");
		goto out;
	}
	if (!is_iptables(tok, &e.family)) {
		not_understood(&e, "not an iptables command");
		goto out;
	}
	if (command_options(&p, &e) < 0 || !command_checkable(&e))
		goto out;
	e.checked = e.family == 4;
out:
	*ret = e;
}

/* ---- matching the live ruleset ------------------------------------------------ */

bool firewall_expectation_present(const struct firewall_ruleset *rs,
                                  const struct firewall_expectation *e)
{
	const struct firewall_table *t = strcmp(e->table, "nat") == 0 ? &rs->nat : &rs->filter;
	const struct firewall_chain *c;

	if (!e->understood || !e->checked || !t->present)
		return false;
	c = firewall_find_chain(t, e->chain);
	if (!c)
		return false;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct firewall_rule *r = &c->rules[i];

		if (!r->conditional && strcmp(r->in, e->in) == 0 && r->in_neg == e->in_neg &&
		    strcmp(r->out, e->out) == 0 && r->out_neg == e->out_neg &&
		    same_net(r->src, e->src) && r->src_neg == e->src_neg &&
		    same_net(r->dst, e->dst) && r->dst_neg == e->dst_neg &&
		    strcmp(r->target, e->target) == 0 && !r->is_goto)
			return true;
	}
	return false;
}

/* Whether a rule applies to the packets in question: to all, none, or only
 * some of them (other matches, or facts not known here). */
enum applies { APPLIES_NONE, APPLIES_SOME, APPLIES_ALL };

struct packet {
	const char *in;  /* "" = not matched on (POSTROUTING has no -i) */
	const char *out; /* "" = not known */
	bool vpn_known;
	struct net4 vpn;
};

static enum applies iface_applies(const char *pattern, bool neg, const char *name)
{
	if (!*pattern)
		return APPLIES_ALL;
	if (!*name)
		return APPLIES_SOME;
	return firewall_iface_matches(pattern, name) != neg ? APPLIES_ALL : APPLIES_NONE;
}

static enum applies source_applies(const struct firewall_rule *r, const struct packet *pk)
{
	struct net4 n;
	bool inside, disjoint;

	if (!r->src[0])
		return APPLIES_ALL;
	if (!pk->vpn_known || net4_parse(r->src, &n) < 0)
		return APPLIES_SOME;
	inside = net4_contains(&n, &pk->vpn);
	disjoint = !inside && !net4_contains(&pk->vpn, &n);
	if (inside)
		return r->src_neg ? APPLIES_NONE : APPLIES_ALL;
	if (disjoint)
		return r->src_neg ? APPLIES_ALL : APPLIES_NONE;
	return APPLIES_SOME;
}

static enum applies combine(enum applies a, enum applies b)
{
	return a < b ? a : b;
}

static enum applies rule_applies(const struct firewall_rule *r, const struct packet *pk)
{
	enum applies a = APPLIES_ALL;

	a = combine(a, iface_applies(r->in, r->in_neg, pk->in));
	a = combine(a, iface_applies(r->out, r->out_neg, pk->out));
	a = combine(a, source_applies(r, pk));
	if (r->dst[0] || r->conditional)
		a = combine(a, APPLIES_SOME);
	return a;
}

enum walk_result { WALK_FELL_OFF, WALK_RETURNED, WALK_ACCEPT, WALK_DROP };

struct walk {
	const struct firewall_table *table;
	const struct packet *pk;
	const struct firewall_rule *decider;
	const struct firewall_chain *decider_chain;
	size_t decider_index;
	bool docker_seen;
};

static bool is_docker_chain(const char *name)
{
	return strncmp(name, "DOCKER", 6) == 0;
}

static enum walk_result walk_chain(struct walk *w, const struct firewall_chain *c, bool partial,
                                   int depth)
{
	if (depth > FIREWALL_DEPTH_MAX)
		return WALK_FELL_OFF;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct firewall_rule *r = &c->rules[i];
		enum applies a = rule_applies(r, w->pk);
		bool all = a == APPLIES_ALL && !partial;
		const struct firewall_chain *sub;
		enum walk_result res;

		if (a == APPLIES_NONE)
			continue;
		if (strcmp(r->target, "ACCEPT") == 0 || strcmp(r->target, "DROP") == 0 ||
		    strcmp(r->target, "REJECT") == 0) {
			if (!all)
				continue;
			w->decider = r;
			w->decider_chain = c;
			w->decider_index = i;
			return r->target[0] == 'A' ? WALK_ACCEPT : WALK_DROP;
		}
		if (strcmp(r->target, "RETURN") == 0) {
			if (all)
				return WALK_RETURNED;
			continue;
		}
		sub = r->target[0] ? firewall_find_chain(w->table, r->target) : NULL;
		if (!sub)
			continue; /* LOG, MARK, ...: the packet goes on */
		if (is_docker_chain(sub->name))
			w->docker_seen = true;
		res = walk_chain(w, sub, partial || a != APPLIES_ALL, depth + 1);
		if (res == WALK_ACCEPT || res == WALK_DROP)
			return res;
		/* -g: at the end of the chain gone to, the packet returns to
		 * the chain that called this one. */
		if (r->is_goto && all)
			return WALK_RETURNED;
	}
	return WALK_FELL_OFF;
}

static void fill_decider(const struct walk *w, struct firewall_forward *ret)
{
	snprintf(ret->chain, sizeof(ret->chain), "%s", w->decider_chain->name);
	ret->rule_number = (int)w->decider_index + 1;
	copy_display(ret->rule, sizeof(ret->rule), w->decider->text);
}

void firewall_forward_decide(const struct firewall_ruleset *rs, const char *in_if,
                             const char *out_if, const char *vpn_subnet,
                             struct firewall_forward *ret)
{
	struct firewall_forward f = {.result = FIREWALL_FORWARD_POLICY_ACCEPTS};
	struct packet pk = {.in = in_if, .out = out_if ? out_if : ""};
	struct walk w = {.table = &rs->filter, .pk = &pk};
	const struct firewall_chain *fwd;
	enum walk_result res;

	snprintf(f.iface, sizeof(f.iface), "%s", in_if);
	strcpy(f.chain, "FORWARD");
	pk.vpn_known = vpn_subnet && *vpn_subnet && net4_parse(vpn_subnet, &pk.vpn) == 0;
	/* No filter table at all: nothing filters, the kernel forwards. */
	fwd = rs->filter.present ? firewall_find_chain(&rs->filter, "FORWARD") : NULL;
	if (!fwd)
		goto out;
	res = walk_chain(&w, fwd, false, 0);
	f.after_docker = w.docker_seen;
	if (res == WALK_ACCEPT || res == WALK_DROP) {
		f.result = res == WALK_ACCEPT ? FIREWALL_FORWARD_RULE_ACCEPTS
		                              : FIREWALL_FORWARD_RULE_DROPS;
		fill_decider(&w, &f);
		goto out;
	}
	f.result = strcmp(fwd->policy, "ACCEPT") == 0 ? FIREWALL_FORWARD_POLICY_ACCEPTS
	                                              : FIREWALL_FORWARD_POLICY_DROPS;
out:
	*ret = f;
}

/* ---- MASQUERADE ------------------------------------------------------------------ */

struct masq_search {
	const struct firewall_table *table;
	const struct packet *pk;
	const char *prefer_out;
	const struct firewall_rule *best, *fallback;
	const struct firewall_chain *best_chain, *fallback_chain;
	size_t best_index, fallback_index;
	bool best_preferred;
	bool stopped;
};

static bool is_snat(const char *target)
{
	return strcmp(target, "MASQUERADE") == 0 || strcmp(target, "SNAT") == 0;
}

static void masq_walk(struct masq_search *s, const struct firewall_chain *c, int depth)
{
	if (depth > FIREWALL_DEPTH_MAX)
		return;
	for (size_t i = 0; i < c->n_rules && !s->stopped; i++) {
		const struct firewall_rule *r = &c->rules[i];
		enum applies src = source_applies(r, s->pk);
		const struct firewall_chain *sub;

		if (src == APPLIES_NONE)
			continue;
		if (is_snat(r->target)) {
			bool preferred = s->prefer_out && *s->prefer_out && !r->out_neg &&
			                 firewall_iface_matches(r->out, s->prefer_out);

			/* A rule for another source network (Docker's
			 * 172.17.0.0/16) is only a fallback when the VPN's
			 * network is unknown. */
			if (src == APPLIES_ALL) {
				if (!s->best || (preferred && !s->best_preferred)) {
					s->best = r;
					s->best_chain = c;
					s->best_index = i;
					s->best_preferred = preferred;
				}
			} else if (!s->fallback && !s->pk->vpn_known) {
				s->fallback = r;
				s->fallback_chain = c;
				s->fallback_index = i;
			}
			continue;
		}
		/* ACCEPT or RETURN from POSTROUTING for all VPN traffic ends
		 * NAT for it: later rules are not reached. */
		if ((strcmp(r->target, "ACCEPT") == 0 ||
		     (strcmp(r->target, "RETURN") == 0 && depth == 0)) &&
		    src == APPLIES_ALL && !r->out[0] && !r->dst[0] && !r->conditional) {
			s->stopped = true;
			return;
		}
		if (strcmp(r->target, "RETURN") == 0 && src == APPLIES_ALL && !r->out[0] &&
		    !r->dst[0] && !r->conditional)
			return;
		sub = r->target[0] ? firewall_find_chain(s->table, r->target) : NULL;
		if (sub)
			masq_walk(s, sub, depth + 1);
	}
}

bool firewall_find_masquerade(const struct firewall_ruleset *rs, const char *vpn_subnet,
                              const char *prefer_out, struct firewall *fw)
{
	struct packet pk = {.in = "", .out = ""};
	struct masq_search s = {.table = &rs->nat, .pk = &pk, .prefer_out = prefer_out};
	const struct firewall_chain *post;
	const struct firewall_rule *r;
	const struct firewall_chain *c;
	size_t index;

	pk.vpn_known = vpn_subnet && *vpn_subnet && net4_parse(vpn_subnet, &pk.vpn) == 0;
	fw->masq_found = false;
	post = rs->nat.present ? firewall_find_chain(&rs->nat, "POSTROUTING") : NULL;
	if (!post)
		return false;
	masq_walk(&s, post, 0);
	r = s.best ? s.best : s.fallback;
	c = s.best ? s.best_chain : s.fallback_chain;
	index = s.best ? s.best_index : s.fallback_index;
	if (!r)
		return false;
	fw->masq_found = true;
	copy_display(fw->masq_rule, sizeof(fw->masq_rule), r->text);
	snprintf(fw->masq_chain, sizeof(fw->masq_chain), "%s", c->name);
	fw->masq_rule_number = (int)index + 1;
	snprintf(fw->masq_out, sizeof(fw->masq_out), "%s", r->out);
	fw->masq_out_neg = r->out_neg;
	return true;
}

/* ---- rtnetlink: links, the default route, the VPN's address ----------------------- */

struct net_state {
	struct rtnl_links links;
	/* The IPv4 default route: of the main table's, the lowest metric. */
	bool have_default;
	struct rtnl_route default_route;
};

static bool link_is_wireguard(const struct rtnl_link *link)
{
	return strcmp(link->kind, "wireguard") == 0;
}

static bool link_pattern_exists(const struct net_state *st, const char *pattern)
{
	for (size_t i = 0; i < st->links.count; i++)
		if (firewall_iface_matches(pattern, st->links.items[i].name))
			return true;
	return false;
}

/* Links and routes the kernel sends malformed are skipped. */
static int read_net(struct net_state *st, char *err, size_t errlen)
{
	int r;

	r = rtnl_dump_links(&st->links, 0);
	if (r < 0)
		return fail_line(err, errlen, 0, r, "rtnetlink link dump: %s", strerror(-r));
	r = rtnl_dump_default_route(AF_INET, &st->default_route, 0);
	if (r < 0 && r != -ENOENT)
		return fail_line(err, errlen, 0, r, "rtnetlink route dump: %s", strerror(-r));
	st->have_default = r == 0;
	return 0;
}

/* The first IPv4 address of a link, as its network. */
static int read_vpn_address(int ifindex, struct net4 *ret)
{
	struct rtnl_addrs addrs = {.items = NULL};
	uint32_t addr;
	int r;

	r = rtnl_dump_addrs(AF_INET, ifindex, &addrs, 0);
	if (r == 0 && !addrs.count)
		r = -ENOENT;
	if (r == 0) {
		memcpy(&addr, addrs.items[0].address, sizeof(addr));
		ret->prefix = addrs.items[0].prefixlen;
		ret->addr = ntohl(addr) & mask_of(ret->prefix);
	}
	rtnl_addrs_free(&addrs);
	return r;
}

/* ---- the probe -------------------------------------------------------------------- */

struct iface_files {
	char name[IF_NAMESIZE];
	char path[PATH_MAX];
	bool have_file;
	struct wgquick_file file;
};

/* The wg-quick path of an interface: the configured template with %i
 * replaced, under the configured root. */
static int wgquick_path(const struct config *cfg, const char *iface, char *display, size_t dsize,
                        char *path, size_t psize)
{
	substitute_iface(cfg->wireguard_wg_quick_file, iface, display, dsize);
	return config_path(cfg, display, path, psize);
}

/* The interfaces to look at: the configured ones, else the WireGuard links
 * that exist, else the wg-quick files in the template's folder. */
static size_t pick_interfaces(const struct config *cfg, const struct net_state *st,
                              struct iface_files *out)
{
	size_t n = 0;

	for (uint32_t i = 0; i < cfg->wireguard_interfaces.count && n < FIREWALL_IFACES_MAX; i++)
		snprintf(out[n++].name, IF_NAMESIZE, "%s", cfg->wireguard_interfaces.names[i]);
	if (cfg->wireguard_interfaces.count)
		return n;
	for (size_t i = 0; i < st->links.count && n < FIREWALL_IFACES_MAX; i++)
		if (link_is_wireguard(&st->links.items[i]))
			snprintf(out[n++].name, IF_NAMESIZE, "%s", st->links.items[i].name);
	if (n || !strstr(cfg->wireguard_wg_quick_file, "/%i.conf"))
		return n;
	{
		char dir[PATH_MAX], display[PATH_MAX];
		const char *tmpl = cfg->wireguard_wg_quick_file;
		size_t dlen = (size_t)(strstr(tmpl, "/%i.conf") - tmpl);
		DIR *d;
		struct dirent *de;

		snprintf(display, sizeof(display), "%.*s", (int)dlen, tmpl);
		if (config_path(cfg, display[0] ? display : "/", dir, sizeof(dir)) < 0)
			return 0;
		d = opendir(dir);
		if (!d)
			return 0;
		while ((de = readdir(d)) && n < FIREWALL_IFACES_MAX) {
			size_t len = strlen(de->d_name);

			if (len > 5 && len - 5 < IF_NAMESIZE &&
			    strcmp(de->d_name + len - 5, ".conf") == 0)
				snprintf(out[n++].name, IF_NAMESIZE, "%.*s", (int)(len - 5),
				         de->d_name);
		}
		closedir(d);
	}
	return n;
}

static void add_expectation(struct firewall *fw, const struct firewall_expectation *e)
{
	if (fw->n_expect < FIREWALL_EXPECT_MAX)
		fw->expect[fw->n_expect++] = *e;
}

/* Splits PostUp values on ';' into expectations, as the shell would run
 * them one after another. */
static void expectations_from_file(struct firewall *fw, const struct iface_files *f,
                                   const char *display)
{
	for (size_t i = 0; i < f->file.n_post_up; i++) {
		char *copy = strdup(f->file.post_up[i]), *save = NULL;

		if (!copy)
			return;
		for (char *cmd = strtok_r(copy, ";", &save); cmd;
		     cmd = strtok_r(NULL, ";", &save)) {
			struct firewall_expectation e;

			while (*cmd == ' ' || *cmd == '\t')
				cmd++;
			if (!*cmd)
				continue;
			firewall_parse_command(cmd, f->name, &e);
			snprintf(e.origin, sizeof(e.origin), "%.200s PostUp", display);
			add_expectation(fw, &e);
		}
		free(copy);
	}
}

/* The guide's two rules, when there is no wg-quick file to read them from. */
static void expectations_standard(struct firewall *fw, const char *iface, const char *uplink)
{
	struct firewall_expectation e;
	char cmd[FIREWALL_TEXT_MAX];

	snprintf(cmd, sizeof(cmd), "iptables -A FORWARD -i %s -j ACCEPT", iface);
	firewall_parse_command(cmd, iface, &e);
	snprintf(e.origin, sizeof(e.origin), "standard setup");
	add_expectation(fw, &e);
	if (*uplink)
		snprintf(cmd, sizeof(cmd), "iptables -t nat -A POSTROUTING -o %s -j MASQUERADE",
		         uplink);
	else
		snprintf(cmd, sizeof(cmd), "iptables -t nat -A POSTROUTING -j MASQUERADE");
	firewall_parse_command(cmd, iface, &e);
	snprintf(e.origin, sizeof(e.origin), "standard setup");
	add_expectation(fw, &e);
}

/* The first PostUp/PostDown value that names "-o <nic>", %i replaced. */
static void find_line(const struct iface_files *files, size_t n, bool up, const char *nic,
                      char *buf, size_t size)
{
	char needle[IF_NAMESIZE + 4];

	snprintf(needle, sizeof(needle), "-o %s", nic);
	for (size_t i = 0; i < n; i++) {
		char **lines = up ? files[i].file.post_up : files[i].file.post_down;
		size_t count = up ? files[i].file.n_post_up : files[i].file.n_post_down;

		for (size_t j = 0; j < count; j++) {
			char text[FIREWALL_TEXT_MAX * 2];
			const char *hit;

			substitute_iface(lines[j], files[i].name, text, sizeof(text));
			hit = strstr(text, needle);
			if (hit && (hit[strlen(needle)] == ' ' || hit[strlen(needle)] == '\0' ||
			            hit[strlen(needle)] == ';')) {
				/* As written in the file (with %i), for the hint. */
				copy_display(buf, size, lines[j]);
				return;
			}
		}
	}
}

static int run_iptables_save(const char *program, char **ret, size_t *ret_len, char *err,
                             size_t errlen)
{
	const char *argv[] = {program, NULL};
	struct runner_options opts = {.timeout_ms = FIREWALL_TIMEOUT_MS,
	                              .max_output = FIREWALL_OUTPUT_MAX,
	                              .keep_caps = CAPS_RULESET_DUMP};
	struct runner_result res;
	char how[128];
	int r;

	r = runner_run(argv, &opts, &res);
	if (r < 0)
		return fail_line(err, errlen, 0, r, "cannot run %s: %s", program, strerror(-r));
	if (res.timed_out || res.truncated || !res.exited || res.exit_code != 0) {
		char stderr_text[200];

		runner_describe(&res, how, sizeof(how));
		copy_display(stderr_text, sizeof(stderr_text), res.err);
		/* iptables-save exits 1 or 4 when not permitted; its message
		 * says why ("Permission denied (you must be root)"). */
		r = res.timed_out   ? -ETIMEDOUT
		    : res.truncated ? -EFBIG
		    : strstr(res.err, "ermission denied") || strstr(res.err, "must be root")
		        ? -EPERM
		        : -EIO;
		fail_line(err, errlen, 0, r, "%s: %s%s%s", program, how, stderr_text[0] ? ": " : "",
		          stderr_text);
		runner_result_free(&res);
		return r;
	}
	*ret = res.out;
	*ret_len = res.out_len;
	res.out = NULL;
	runner_result_free(&res);
	return 0;
}

/* Every name kept comes from iptables-save or a wg-quick file, which may
 * hold any bytes (chain names and interface patterns are copied as they
 * are, for matching): make each one valid UTF-8 text for the outputs. */
static void sanitize_facts(struct firewall *fw)
{
	char *texts[] = {fw->iptables_save, fw->backend,    fw->forward_policy, fw->wgquick_path,
	                 fw->wgquick_error, fw->vpn_subnet, fw->masq_rule,      fw->masq_chain,
	                 fw->masq_out,      fw->default_if, fw->default_via,    fw->postup_line,
	                 fw->postdown_line};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		text_sanitize_utf8(texts[i]);
	for (size_t i = 0; i < fw->n_forward; i++) {
		text_sanitize_utf8(fw->forward[i].iface);
		text_sanitize_utf8(fw->forward[i].chain);
		text_sanitize_utf8(fw->forward[i].rule);
	}
	for (size_t i = 0; i < fw->n_expect; i++) {
		struct firewall_expectation *e = &fw->expect[i];
		char *etexts[] = {e->command, e->origin, e->reason, e->table, e->chain,
		                  e->target,  e->in,     e->out,    e->src,   e->dst};

		for (size_t j = 0; j < sizeof(etexts) / sizeof(etexts[0]); j++)
			text_sanitize_utf8(etexts[j]);
	}
}

/* Runs iptables-save and parses what it prints. */
static int read_ruleset(const char *program, struct firewall_ruleset *ret, char *err, size_t errlen)
{
	char *out = NULL, perr[256] = "";
	size_t out_len = 0;
	int r;

	r = run_iptables_save(program, &out, &out_len, err, errlen);
	if (r < 0)
		goto out;
	r = firewall_parse(out, out_len, ret, perr, sizeof(perr));
	if (r < 0)
		fail_line(err, errlen, 0, r, "%s output: %s", program, perr);
out:
	free(out);
	return r;
}

/* What the ruleset holds overall: backend, tables, FORWARD policy, Docker,
 * rule counts. */
static void summarize_ruleset(struct firewall *fw, const struct firewall_ruleset *rs)
{
	snprintf(fw->backend, sizeof(fw->backend), "%s", rs->backend);
	fw->legacy_tables_present = rs->legacy_tables_present;
	fw->filter_present = rs->filter.present;
	fw->nat_present = rs->nat.present;
	strcpy(fw->forward_policy, "ACCEPT");
	for (size_t i = 0; i < rs->filter.n_chains; i++) {
		const struct firewall_chain *c = &rs->filter.chains[i];

		if (strcmp(c->name, "FORWARD") == 0 && c->policy[0])
			snprintf(fw->forward_policy, sizeof(fw->forward_policy), "%s", c->policy);
		if (is_docker_chain(c->name))
			fw->docker = true;
		fw->filter_rules += (unsigned)c->n_rules;
	}
	for (size_t i = 0; i < rs->nat.n_chains; i++)
		fw->nat_rules += (unsigned)rs->nat.chains[i].n_rules;
}

/* Records the default route; returns its NIC, the uplink ("" if none). */
static const char *note_default_route(struct firewall *fw, const struct net_state *st)
{
	const struct rtnl_route *route = &st->default_route;

	if (!st->have_default)
		return "";
	for (size_t i = 0; i < st->links.count; i++)
		if (st->links.items[i].ifindex == route->oif)
			snprintf(fw->default_if, sizeof(fw->default_if), "%s",
			         st->links.items[i].name);
	fw->default_route = true;
	fw->default_via[0] = '\0';
	if (route->has_gateway)
		inet_ntop(AF_INET, route->gateway, fw->default_via, sizeof(fw->default_via));
	return fw->default_if;
}

/* Address = 10.100.0.1/24, fd00::1/64: the VPN network is the first IPv4 one. */
static void vpn_subnet_from_file(struct firewall *fw, const struct wgquick_file *file)
{
	char addrs[WGQUICK_TEXT_MAX], *save = NULL;

	snprintf(addrs, sizeof(addrs), "%s", file->address);
	for (char *a = strtok_r(addrs, ", ", &save); a; a = strtok_r(NULL, ", ", &save)) {
		struct net4 n;

		if (net4_parse(a, &n) == 0) {
			net4_format(&n, fw->vpn_subnet, sizeof(fw->vpn_subnet));
			return;
		}
	}
}

/* Reads an interface's wg-quick file into f; the first file read and the
 * first error other than a missing file are kept for the outputs. */
static void read_iface_file(struct iface_files *f, const char *display, struct firewall *fw)
{
	char ferr[160];
	int r;

	r = wgquick_read(f->path, &f->file, ferr, sizeof(ferr));
	if (r == 0) {
		f->have_file = true;
		if (!fw->wgquick_path[0])
			snprintf(fw->wgquick_path, sizeof(fw->wgquick_path), "%.250s", display);
	} else if (r != -ENOENT && !fw->wgquick_error[0]) {
		snprintf(fw->wgquick_error, sizeof(fw->wgquick_error), "%s", ferr);
	}
}

/* One VPN interface: its IPv4 network and the rules its wg-quick file
 * (or, without one, the standard setup) adds. */
static void read_vpn_iface(const struct config *cfg, const struct net_state *st,
                           struct iface_files *f, const char *uplink, struct firewall *fw)
{
	const struct rtnl_link *l = rtnl_links_find(&st->links, f->name);
	char display[PATH_MAX];
	struct net4 addr;

	if (!fw->vpn_subnet[0] && l && read_vpn_address(l->ifindex, &addr) == 0)
		net4_format(&addr, fw->vpn_subnet, sizeof(fw->vpn_subnet));
	if (!cfg->wireguard_wg_quick_file[0] ||
	    wgquick_path(cfg, f->name, display, sizeof(display), f->path, sizeof(f->path)) < 0)
		return;
	read_iface_file(f, display, fw);
	if (f->have_file && !fw->vpn_subnet[0])
		vpn_subnet_from_file(fw, &f->file);
	if (f->have_file)
		expectations_from_file(fw, f, display);
	else
		expectations_standard(fw, f->name, uplink);
}

/* Looks for each checkable expected rule in the ruleset and counts what
 * is missing or not understood. Returns the NIC that the first expected
 * MASQUERADE or SNAT names, or NULL. */
static const char *check_expectations(struct firewall *fw, const struct firewall_ruleset *rs)
{
	const char *prefer = NULL;

	for (size_t i = 0; i < fw->n_expect; i++) {
		struct firewall_expectation *e = &fw->expect[i];

		if (!e->understood) {
			fw->not_understood++;
			continue;
		}
		if (!e->checked)
			continue;
		e->present = firewall_expectation_present(rs, e);
		if (!e->present)
			fw->missing++;
		/* The NIC the PostUp MASQUERADE names is the one to judge. */
		if (!prefer && strcmp(e->table, "nat") == 0 &&
		    strcmp(e->chain, "POSTROUTING") == 0 &&
		    (strcmp(e->target, "MASQUERADE") == 0 || strcmp(e->target, "SNAT") == 0) &&
		    e->out[0] && !e->out_neg)
			prefer = e->out;
	}
	return prefer;
}

/* The MASQUERADE rule for the VPN network, whether its NIC exists, and the
 * PostUp/PostDown lines that name that NIC, for the hint. */
static void judge_masquerade(struct firewall *fw, const struct firewall_ruleset *rs,
                             const struct net_state *st, const struct iface_files *files,
                             size_t n_ifaces, const char *nic)
{
	firewall_find_masquerade(rs, fw->vpn_subnet, nic, fw);
	if (fw->masq_found && fw->masq_out[0])
		fw->masq_out_exists = link_pattern_exists(st, fw->masq_out);
	if (fw->masq_found && fw->masq_out[0] && !fw->masq_out_neg) {
		find_line(files, n_ifaces, true, fw->masq_out, fw->postup_line,
		          sizeof(fw->postup_line));
		find_line(files, n_ifaces, false, fw->masq_out, fw->postdown_line,
		          sizeof(fw->postdown_line));
	}
}

int firewall_read(const struct config *cfg, struct firewall *ret, char *err, size_t errlen)
{
	struct firewall *fw = calloc(1, sizeof(*fw));
	struct net_state *st = calloc(1, sizeof(*st));
	struct iface_files *files = calloc(FIREWALL_IFACES_MAX, sizeof(*files));
	struct firewall_ruleset rs = {.backend = ""};
	const char *uplink, *prefer;
	size_t n_ifaces;
	bool have_rs = false;
	int r;

	if (!fw || !st || !files) {
		r = fail_line(err, errlen, 0, -ENOMEM, "out of memory");
		goto out;
	}
	snprintf(fw->iptables_save, sizeof(fw->iptables_save), "%s", cfg->firewall_iptables_save);
	r = read_ruleset(cfg->firewall_iptables_save, &rs, err, errlen);
	if (r < 0)
		goto out;
	have_rs = true;
	r = read_net(st, err, errlen);
	if (r < 0)
		goto out;

	summarize_ruleset(fw, &rs);
	uplink = note_default_route(fw, st);
	/* The VPN: its interfaces, their wg-quick files, its IPv4 network. */
	n_ifaces = pick_interfaces(cfg, st, files);
	for (size_t i = 0; i < n_ifaces; i++)
		read_vpn_iface(cfg, st, &files[i], uplink, fw);
	prefer = check_expectations(fw, &rs);
	judge_masquerade(fw, &rs, st, files, n_ifaces, prefer ? prefer : uplink);

	/* Forwarded VPN traffic leaves by the default route's NIC. */
	for (size_t i = 0; i < n_ifaces; i++)
		firewall_forward_decide(&rs, files[i].name, uplink, fw->vpn_subnet,
		                        &fw->forward[fw->n_forward++]);
	sanitize_facts(fw);
	*ret = *fw;
	r = 0;
out:
	if (files)
		for (size_t i = 0; i < FIREWALL_IFACES_MAX; i++)
			if (files[i].have_file)
				wgquick_free(&files[i].file);
	if (have_rs)
		firewall_ruleset_free(&rs);
	if (st)
		rtnl_links_free(&st->links);
	free(files);
	free(st);
	free(fw);
	return r;
}
