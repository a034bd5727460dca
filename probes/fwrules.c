#include "probes/fwrules.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/array.h"
#include "probes/text.h"

int fwrules_fail(char *err, size_t errlen, int line, int r, const char *fmt, ...)
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
	text_sanitize_utf8(err);
	return r;
}

bool fwrules_copy_field(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

bool fwrules_rule_narrowed(const struct fwrules_rule *r)
{
	return r->conditional || r->proto || r->dport_min || r->dst_types;
}

int fwrules_proto_parse(const char *name)
{
	static const struct {
		const char *name;
		int number;
	} names[] = {{"tcp", 6},        {"udp", 17},   {"icmp", 1},      {"icmpv6", 58},
	             {"ipv6-icmp", 58}, {"sctp", 132}, {"udplite", 136}, {"esp", 50},
	             {"ah", 51},        {"gre", 47}};
	char *end;
	long n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].number;
	if (!isdigit((unsigned char)name[0]))
		return 0;
	n = strtol(name, &end, 10);
	return *end || n < 0 || n > 255 ? 0 : (int)n;
}

static int port_parse(const char *text, size_t len, uint16_t *ret)
{
	unsigned long n = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)text[i]))
			return -EINVAL;
		n = n * 10 + (unsigned long)(text[i] - '0');
	}
	if (n == 0 || n > 65535)
		return -EINVAL;
	*ret = (uint16_t)n;
	return 0;
}

int fwrules_ports_parse(const char *text, uint16_t *min, uint16_t *max)
{
	size_t len = strcspn(text, ":-");
	uint16_t lo, hi;

	if (port_parse(text, len, &lo) < 0)
		return -EINVAL;
	hi = lo;
	if (text[len] && port_parse(text + len + 1, strlen(text + len + 1), &hi) < 0)
		return -EINVAL;
	if (hi < lo)
		return -EINVAL;
	*min = lo;
	*max = hi;
	return 0;
}

bool fwrules_iface_matches(const char *pattern, const char *name)
{
	size_t len = strlen(pattern);

	/* xtables: a trailing '+' matches every name with that prefix. */
	if (len > 0 && pattern[len - 1] == '+')
		return strncmp(pattern, name, len - 1) == 0;
	return strcmp(pattern, name) == 0;
}

/* ---- the model ---------------------------------------------------------------- */

void fwrules_table_free(struct fwrules_table *t)
{
	for (size_t i = 0; i < t->n_chains; i++) {
		for (size_t j = 0; j < t->chains[i].n_rules; j++)
			free(t->chains[i].rules[j].text);
		free(t->chains[i].rules);
	}
	free(t->chains);
	memset(t, 0, sizeof(*t));
}

void fwrules_ruleset_free(struct fwrules_ruleset *rs)
{
	if (!rs)
		return;
	fwrules_table_free(&rs->filter);
	fwrules_table_free(&rs->nat);
}

void fwrules_tables_free(struct fwrules_tables *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->count; i++)
		fwrules_table_free(&ts->items[i]);
	free(ts->items);
	memset(ts, 0, sizeof(*ts));
}

struct fwrules_chain *fwrules_find_chain_mut(struct fwrules_table *table, const char *name)
{
	for (size_t i = 0; i < table->n_chains; i++)
		if (strcmp(table->chains[i].name, name) == 0)
			return &table->chains[i];
	return NULL;
}

const struct fwrules_chain *fwrules_find_chain(const struct fwrules_table *table, const char *name)
{
	return fwrules_find_chain_mut((struct fwrules_table *)(uintptr_t)table, name);
}

struct fwrules_chain *fwrules_add_chain(struct fwrules_table *t, const char *name)
{
	struct fwrules_chain *c;

	if (t->n_chains >= FWRULES_CHAINS_MAX) {
		errno = E2BIG;
		return NULL;
	}
	if (array_grow((void **)&t->chains, &t->cap, t->n_chains, sizeof(*t->chains), 16) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	c = &t->chains[t->n_chains++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

int fwrules_add_rule(struct fwrules_chain *c, const struct fwrules_rule *r)
{
	if (array_grow((void **)&c->rules, &c->cap, c->n_rules, sizeof(*c->rules), 8) < 0)
		return -ENOMEM;
	c->rules[c->n_rules++] = *r;
	return 0;
}

/* ---- tokens ------------------------------------------------------------------- */

int fwrules_next_token(const char **pos, char *out, size_t size, bool shell)
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

/* ---- networks ----------------------------------------------------------------- */

static void clear_host_bits(struct fwrules_net *n)
{
	unsigned bytes = n->family == 4 ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = n->prefix > i * 8 ? n->prefix - i * 8 : 0;

		if (keep < 8)
			n->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* "/24" or, for IPv4, "/255.255.255.0" (a contiguous mask only). */
static int parse_prefix(const char *text, int family, unsigned *ret)
{
	unsigned max = family == 4 ? 32 : 128;
	struct in_addr m;
	unsigned long p;
	char *end;

	if (family == 4 && inet_pton(AF_INET, text, &m) == 1) {
		uint32_t mask = ntohl(m.s_addr);
		unsigned prefix = (unsigned)__builtin_popcount(mask);

		if (mask != (prefix ? 0xffffffffu << (32 - prefix) : 0))
			return -EINVAL;
		*ret = prefix;
		return 0;
	}
	errno = 0;
	p = strtoul(text, &end, 10);
	if (!isdigit((unsigned char)*text) || *end || errno || p > max)
		return -EINVAL;
	*ret = (unsigned)p;
	return 0;
}

int fwrules_net_parse(const char *text, struct fwrules_net *ret)
{
	char buf[FWRULES_ADDR_MAX], *slash;
	struct fwrules_net n = {.family = 4};

	if (!fwrules_copy_field(buf, sizeof(buf), text))
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, n.addr) == 1)
		n.family = 4;
	else if (inet_pton(AF_INET6, buf, n.addr) == 1)
		n.family = 6;
	else
		return -EINVAL;
	n.prefix = n.family == 4 ? 32 : 128;
	if (slash && parse_prefix(slash, n.family, &n.prefix) < 0)
		return -EINVAL;
	clear_host_bits(&n);
	*ret = n;
	return 0;
}

void fwrules_net_format(const struct fwrules_net *n, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(n->family == 4 ? AF_INET : AF_INET6, n->addr, text, sizeof(text));
	snprintf(buf, size, "%s/%u", text, n->prefix);
}

bool fwrules_net_contains(const struct fwrules_net *outer, const struct fwrules_net *inner)
{
	struct fwrules_net cut;

	if (outer->family != inner->family || inner->prefix < outer->prefix)
		return false;
	cut = *inner;
	cut.prefix = outer->prefix;
	clear_host_bits(&cut);
	return memcmp(cut.addr, outer->addr, sizeof(cut.addr)) == 0;
}

bool fwrules_same_net(const char *a, const char *b)
{
	struct fwrules_net na, nb;

	if (!*a || !*b)
		return !*a && !*b;
	if (fwrules_net_parse(a, &na) < 0 || fwrules_net_parse(b, &nb) < 0)
		return strcmp(a, b) == 0;
	return na.family == nb.family && na.prefix == nb.prefix &&
	       memcmp(na.addr, nb.addr, sizeof(na.addr)) == 0;
}
