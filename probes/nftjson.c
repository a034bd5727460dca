#include "probes/nftjson.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/array.h"
#include "probes/text.h"

#define NFTJSON_TEXT_MAX 256

static const char *member_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The one key of {"key": value}, the form of every nft JSON element. */
static const char *only_key(struct json_object *o, struct json_object **ret)
{
	struct json_object_iterator it, end;

	if (!json_object_is_type(o, json_type_object) || json_object_object_length(o) != 1)
		return NULL;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	if (json_object_iter_equal(&it, &end))
		return NULL;
	*ret = json_object_iter_peek_value(&it);
	return json_object_iter_peek_name(&it);
}

/* ---- tables and chains ---------------------------------------------------------- */

static struct fwrules_table *find_table(struct fwrules_tables *ts, const char *family,
                                        const char *name)
{
	for (size_t i = 0; i < ts->count; i++)
		if (strcmp(ts->items[i].family, family) == 0 &&
		    strcmp(ts->items[i].name, name) == 0)
			return &ts->items[i];
	return NULL;
}

static int add_table(struct fwrules_tables *ts, struct json_object *o, char *err, size_t errlen)
{
	const char *family = member_string(o, "family"), *name = member_string(o, "name");
	struct fwrules_table *t;

	if (!family || !name)
		return fwrules_fail(err, errlen, 0, -EINVAL, "table without family or name");
	if (strlen(family) >= sizeof(t->family) || strlen(name) >= sizeof(t->name))
		return fwrules_fail(err, errlen, 0, -EINVAL, "table name too long: %.64s", name);
	if (find_table(ts, family, name))
		return 0;
	if (array_grow((void **)&ts->items, &ts->cap, ts->count, sizeof(*ts->items), 4) < 0)
		return fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
	t = &ts->items[ts->count++];
	memset(t, 0, sizeof(*t));
	t->present = true;
	strcpy(t->family, family);
	strcpy(t->name, name);
	return 0;
}

/* "prio": a number, or (newer nft) a standard priority's name. */
static int chain_priority(struct json_object *o)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {{"raw", -300}, {"mangle", -150}, {"dstnat", -100},
	             {"filter", 0}, {"security", 50}, {"srcnat", 100}};
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, "prio", &v))
		return 0;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int(v);
	s = json_object_get_string(v);
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(s, names[i].name, strlen(names[i].name)) == 0)
			return names[i].value + atoi(s + strlen(names[i].name));
	return 0;
}

static void chain_base(struct fwrules_chain *c, struct json_object *o)
{
	const char *hook = member_string(o, "hook"), *type = member_string(o, "type");
	const char *policy = member_string(o, "policy");

	if (!hook)
		return;
	c->hook = strcmp(hook, "forward") == 0       ? FWRULES_HOOK_FORWARD
	          : strcmp(hook, "postrouting") == 0 ? FWRULES_HOOK_POSTROUTING
	          : strcmp(hook, "input") == 0       ? FWRULES_HOOK_INPUT
	                                             : FWRULES_HOOK_OTHER;
	c->nat = type && strcmp(type, "nat") == 0;
	if (c->nat && c->hook == FWRULES_HOOK_INPUT)
		c->hook = FWRULES_HOOK_OTHER;
	c->priority = chain_priority(o);
	/* A base chain without a policy accepts. */
	snprintf(c->policy, sizeof(c->policy), "%s",
	         policy && strcmp(policy, "drop") == 0 ? "DROP" : "ACCEPT");
}

static int add_chain(struct fwrules_tables *ts, struct json_object *o, char *err, size_t errlen)
{
	const char *family = member_string(o, "family"), *table = member_string(o, "table");
	const char *name = member_string(o, "name");
	struct fwrules_table *t;
	struct fwrules_chain *c;

	if (!family || !table || !name)
		return fwrules_fail(err, errlen, 0, -EINVAL, "chain without family, table or name");
	t = find_table(ts, family, table);
	if (!t)
		return fwrules_fail(err, errlen, 0, -EINVAL,
		                    "chain %.64s of unknown table %.8s %.64s", name, family, table);
	if (strlen(name) >= FWRULES_CHAIN_MAX)
		return fwrules_fail(err, errlen, 0, -EINVAL, "chain name too long: %.64s...", name);
	if (fwrules_find_chain(t, name))
		return fwrules_fail(err, errlen, 0, -EINVAL, "chain %s %s %s listed twice", family,
		                    table, name);
	c = fwrules_add_chain(t, name);
	if (!c)
		return errno == E2BIG ? fwrules_fail(err, errlen, 0, -E2BIG, "more than %d chains",
		                                     FWRULES_CHAINS_MAX)
		                      : fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
	chain_base(c, o);
	return 0;
}

/* ---- rules ---------------------------------------------------------------------- */

struct rule_text {
	char buf[NFTJSON_TEXT_MAX];
	size_t n;
};

static void add_text(struct rule_text *t, const char *s)
{
	int w;

	if (t->n >= sizeof(t->buf))
		return;
	w = snprintf(t->buf + t->n, sizeof(t->buf) - t->n, "%s%s", t->n ? " " : "", s);
	if (w > 0)
		t->n += (size_t)w;
	if (t->n >= sizeof(t->buf))
		t->n = sizeof(t->buf) - 1;
}

/* An nft interface name: a trailing '*' is a wildcard, like xtables' '+'. */
static bool set_iface(char *field, const char *value)
{
	size_t len = strlen(value);

	if (len >= IF_NAMESIZE)
		return false;
	memcpy(field, value, len + 1);
	if (len && field[len - 1] == '*')
		field[len - 1] = '+';
	return true;
}

/* The right side of an address match: "10.0.0.0" or {"prefix": {...}}. */
static bool address_text(struct json_object *right, char *buf, size_t size)
{
	struct json_object *prefix, *addr, *plen;

	if (json_object_is_type(right, json_type_string))
		return snprintf(buf, size, "%s", json_object_get_string(right)) < (int)size;
	if (!json_object_object_get_ex(right, "prefix", &prefix) ||
	    !json_object_object_get_ex(prefix, "addr", &addr) ||
	    !json_object_object_get_ex(prefix, "len", &plen))
		return false;
	return snprintf(buf, size, "%s/%d", json_object_get_string(addr),
	                json_object_get_int(plen)) < (int)size;
}

/* ct state VALUE: "established" or ["established", "related"]. */
static bool ct_states(struct json_object *right, unsigned *ret)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"new", FWRULES_CT_NEW},
	             {"established", FWRULES_CT_ESTABLISHED},
	             {"related", FWRULES_CT_RELATED},
	             {"invalid", FWRULES_CT_INVALID},
	             {"untracked", FWRULES_CT_UNTRACKED}};
	size_t n =
	    json_object_is_type(right, json_type_array) ? json_object_array_length(right) : 1;
	unsigned states = 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_is_type(right, json_type_array)
		                            ? json_object_array_get_idx(right, i)
		                            : right;
		const char *s =
		    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		bool known = false;

		for (size_t j = 0; s && j < sizeof(names) / sizeof(names[0]); j++)
			if (strcmp(s, names[j].name) == 0) {
				states |= names[j].bit;
				known = true;
			}
		if (!known)
			return false;
	}
	*ret = states;
	return states != 0;
}

static bool meta_match(struct fwrules_rule *r, const char *key, bool neg, struct json_object *right,
                       struct rule_text *t)
{
	const char *v =
	    json_object_is_type(right, json_type_string) ? json_object_get_string(right) : NULL;
	char piece[96];

	if (!v)
		return false;
	if (strcmp(key, "iifname") == 0 || strcmp(key, "iif") == 0 || strcmp(key, "oifname") == 0 ||
	    strcmp(key, "oif") == 0) {
		bool in = key[0] == 'i';

		if (!set_iface(in ? r->in : r->out, v))
			return false;
		*(in ? &r->in_neg : &r->out_neg) = neg;
		snprintf(piece, sizeof(piece), "%s %s\"%s\"", key, neg ? "!= " : "", v);
		add_text(t, piece);
		return true;
	}
	if (strcmp(key, "l4proto") == 0 && fwrules_proto_parse(v) && !r->proto) {
		r->proto = (uint8_t)fwrules_proto_parse(v);
		r->proto_neg = neg;
		snprintf(piece, sizeof(piece), "meta l4proto %s%s", neg ? "!= " : "", v);
		add_text(t, piece);
		return true;
	}
	if (strcmp(key, "nfproto") == 0 && !neg &&
	    (strcmp(v, "ipv4") == 0 || strcmp(v, "ipv6") == 0)) {
		r->family = v[3] == '4' ? 4 : 6;
		snprintf(piece, sizeof(piece), "meta nfproto %s", v);
		add_text(t, piece);
		return true;
	}
	return false;
}

/* tcp dport 22, udp dport 20-25, th dport 22 (either protocol): a single
 * port or a range; sets and maps are not understood. */
static bool dport_match(struct fwrules_rule *r, const char *proto, bool neg,
                        struct json_object *right, struct rule_text *t)
{
	struct json_object *range, *lo, *hi;
	char piece[64];
	int min, max;

	if (r->dport_min || (strcmp(proto, "th") != 0 && r->proto))
		return false;
	if (json_object_is_type(right, json_type_int)) {
		min = max = json_object_get_int(right);
	} else if (json_object_object_get_ex(right, "range", &range) &&
	           json_object_is_type(range, json_type_array) &&
	           json_object_array_length(range) == 2 &&
	           json_object_is_type(lo = json_object_array_get_idx(range, 0), json_type_int) &&
	           json_object_is_type(hi = json_object_array_get_idx(range, 1), json_type_int)) {
		min = json_object_get_int(lo);
		max = json_object_get_int(hi);
	} else {
		return false;
	}
	if (min < 1 || max > 65535 || min > max)
		return false;
	if (strcmp(proto, "th") != 0)
		r->proto = (uint8_t)fwrules_proto_parse(proto);
	r->dport_min = (uint16_t)min;
	r->dport_max = (uint16_t)max;
	r->dport_neg = neg;
	snprintf(piece, sizeof(piece), "%s dport %s%d%s%.0d", proto, neg ? "!= " : "", min,
	         min == max ? "" : "-", min == max ? 0 : max);
	add_text(t, piece);
	return true;
}

static bool payload_match(struct fwrules_rule *r, struct json_object *payload, bool neg,
                          struct json_object *right, struct rule_text *t)
{
	const char *proto = member_string(payload, "protocol"),
	           *field = member_string(payload, "field");
	char addr[FWRULES_ADDR_MAX], piece[128];
	bool src;

	if (proto && field && strcmp(field, "dport") == 0 &&
	    (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 || strcmp(proto, "th") == 0))
		return dport_match(r, proto, neg, right, t);
	if (!proto || !field || (strcmp(proto, "ip") != 0 && strcmp(proto, "ip6") != 0))
		return false;
	/* An address match only sees packets of its family. */
	r->family = proto[2] == '6' ? 6 : 4;
	if (strcmp(field, "saddr") != 0 && strcmp(field, "daddr") != 0)
		return false;
	src = field[0] == 's';
	if (!address_text(right, addr, sizeof(addr)) || *(src ? r->src : r->dst))
		return false;
	strcpy(src ? r->src : r->dst, addr);
	*(src ? &r->src_neg : &r->dst_neg) = neg;
	snprintf(piece, sizeof(piece), "%s %s %s%s", proto, field, neg ? "!= " : "", addr);
	add_text(t, piece);
	return true;
}

/* "ct state established,related", as nft lists it. */
static void add_states_text(struct rule_text *t, unsigned states, bool neg)
{
	static const char *const names[] = {"new", "established", "related", "invalid",
	                                    "untracked"};
	char piece[80] = "ct state ";

	if (neg)
		strcat(piece, "!= ");
	for (size_t i = 0, n = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (states & (1u << i)) {
			if (n++)
				strcat(piece, ",");
			strcat(piece, names[i]);
		}
	add_text(t, piece);
}

/* {"match": {"op", "left", "right"}}. Returns false for a match outside
 * what is understood: the rule then applies to some packets only. */
static bool match_expr(struct fwrules_rule *r, struct json_object *m, struct rule_text *t)
{
	struct json_object *left, *right, *sub;
	const char *op = member_string(m, "op"), *kind;
	bool neg;

	if (!json_object_object_get_ex(m, "left", &left) ||
	    !json_object_object_get_ex(m, "right", &right))
		return false;
	neg = op && strcmp(op, "!=") == 0;
	if (op && !neg && strcmp(op, "==") != 0 && strcmp(op, "in") != 0)
		return false;
	kind = only_key(left, &sub);
	if (!kind)
		return false;
	if (strcmp(kind, "meta") == 0) {
		const char *key = member_string(sub, "key");

		return key && meta_match(r, key, neg, right, t);
	}
	if (strcmp(kind, "payload") == 0)
		return payload_match(r, sub, neg, right, t);
	if (strcmp(kind, "ct") == 0) {
		const char *key = member_string(sub, "key");

		if (!key || strcmp(key, "state") != 0 || r->ct_states ||
		    !ct_states(right, &r->ct_states))
			return false;
		r->ct_neg = neg;
		add_states_text(t, r->ct_states, neg);
		return true;
	}
	return false;
}

/* Statements that change nothing about which packets the rule matches. */
static bool is_passive(const char *kind)
{
	static const char *const names[] = {"counter", "log",      "mangle", "notrack",
	                                    "dnat",    "redirect", "meta",   "comment"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(kind, names[i]) == 0)
			return true;
	return false;
}

/* A verdict or a NAT statement: the rule's target. Returns 1 when kind was
 * one, 0 when not, -EINVAL for a jump whose name is too long. */
static int target_expr(struct fwrules_rule *r, const char *kind, struct json_object *v,
                       struct rule_text *t)
{
	static const struct {
		const char *kind, *target;
	} verdicts[] = {{"accept", "ACCEPT"},         {"drop", "DROP"},
	                {"reject", "REJECT"},         {"return", "RETURN"},
	                {"masquerade", "MASQUERADE"}, {"snat", "SNAT"}};
	char piece[FWRULES_CHAIN_MAX + 8];

	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		if (strcmp(kind, verdicts[i].kind) == 0) {
			strcpy(r->target, verdicts[i].target);
			add_text(t, kind); /* the text says it the nft way */
			return 1;
		}
	if (strcmp(kind, "jump") == 0 || strcmp(kind, "goto") == 0) {
		const char *target = member_string(v, "target");

		if (!target || strlen(target) >= sizeof(r->target))
			return -EINVAL;
		strcpy(r->target, target);
		r->is_goto = kind[0] == 'g';
		snprintf(piece, sizeof(piece), "%s %s", kind, target);
		add_text(t, piece);
		return 1;
	}
	return 0;
}

/* xt: a match or target of iptables-nft that nft can only name. A
 * target of a known name is that target; a comment match changes nothing;
 * any other match narrows the rule. */
static int xt_expr(struct fwrules_rule *r, struct json_object *v, struct rule_text *t)
{
	static const char *const targets[] = {"ACCEPT", "DROP", "REJECT", "MASQUERADE", "SNAT"};
	const char *type = member_string(v, "type"), *name = member_string(v, "name");
	char piece[80];

	snprintf(piece, sizeof(piece), "xt %.10s %.40s", type ? type : "?", name ? name : "?");
	add_text(t, piece);
	if (type && name && strcmp(type, "target") == 0) {
		for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
			if (strcmp(name, targets[i]) == 0)
				strcpy(r->target, targets[i]);
		return 0;
	}
	if (!name || strcmp(name, "comment") != 0)
		r->conditional = true;
	return 0;
}

static int rule_expr(struct fwrules_rule *r, struct json_object *e, struct rule_text *t)
{
	struct json_object *v;
	const char *kind = only_key(e, &v);
	int k;

	if (!kind) {
		r->conditional = true;
		return 0;
	}
	k = target_expr(r, kind, v, t);
	if (k != 0)
		return k < 0 ? k : 0;
	if (strcmp(kind, "match") == 0) {
		if (!match_expr(r, v, t)) {
			r->conditional = true;
			add_text(t, "(match)");
		}
		return 0;
	}
	if (strcmp(kind, "xt") == 0)
		return xt_expr(r, v, t);
	if (!is_passive(kind)) {
		r->conditional = true;
		add_text(t, kind);
	}
	return 0;
}

#define NFTJSON_SET_MAX 32

/* The match of expression e when it compares an interface name with an
 * anonymous set ("iifname { "wg0", "wg1" }", not negated): the set's
 * elements, all strings; NULL otherwise. */
static struct json_object *name_set(struct json_object *e)
{
	struct json_object *m, *left, *right, *set, *meta;
	const char *kind = only_key(e, &m), *op, *key;

	if (!kind || strcmp(kind, "match") != 0 || !json_object_object_get_ex(m, "left", &left) ||
	    !json_object_object_get_ex(m, "right", &right) ||
	    !json_object_object_get_ex(right, "set", &set) ||
	    !json_object_is_type(set, json_type_array) || !json_object_array_length(set) ||
	    json_object_array_length(set) > NFTJSON_SET_MAX)
		return NULL;
	op = member_string(m, "op");
	if (op && strcmp(op, "==") != 0 && strcmp(op, "in") != 0)
		return NULL;
	kind = only_key(left, &meta);
	key = kind && strcmp(kind, "meta") == 0 ? member_string(meta, "key") : NULL;
	if (!key || (strcmp(key, "iifname") != 0 && strcmp(key, "oifname") != 0))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(set); i++)
		if (!json_object_is_type(json_object_array_get_idx(set, i), json_type_string))
			return NULL;
	return set;
}

/* {"match": {"op": "==", "left": <e's left>, "right": name}}: expression e
 * (a name_set() match) for one of its names. NULL when out of memory. */
static struct json_object *one_name(struct json_object *e, struct json_object *name)
{
	struct json_object *m, *left, *match = json_object_new_object();
	struct json_object *expr = json_object_new_object();

	if (!match || !expr) {
		json_object_put(match);
		json_object_put(expr);
		return NULL;
	}
	only_key(e, &m);
	json_object_object_get_ex(m, "left", &left);
	json_object_object_add(match, "op", json_object_new_string("=="));
	json_object_object_add(match, "left", json_object_get(left));
	json_object_object_add(match, "right", json_object_get(name));
	json_object_object_add(expr, "match", match);
	return expr;
}

/* Appends one rule made of exprs to c; expression number `at` (if not -1)
 * is replaced by `replaced`. */
static int add_one(struct fwrules_chain *c, struct json_object *exprs, size_t at,
                   struct json_object *replaced, const char *comment, char *err, size_t errlen)
{
	struct fwrules_rule r = {.line = 0};
	struct rule_text t = {.n = 0};

	for (size_t i = 0; i < json_object_array_length(exprs); i++)
		if (rule_expr(&r, i == at ? replaced : json_object_array_get_idx(exprs, i), &t) < 0)
			return fwrules_fail(err, errlen, 0, -EINVAL,
			                    "jump target too long in %.64s", c->name);
	if (comment)
		text_copy_utf8(r.comment, sizeof(r.comment), comment, strlen(comment));
	r.text = strdup(t.buf);
	if (!r.text || fwrules_add_rule(c, &r) < 0) {
		free(r.text);
		return fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
	}
	return 0;
}

/* A rule whose interface is one of an anonymous set of names is, for a
 * packet, the same as one rule per name, in the set's order: so it is
 * kept (each of them counts as a rule of the chain). */
static int add_rules(struct fwrules_chain *c, struct json_object *exprs, size_t *n_rules,
                     const char *comment, char *err, size_t errlen)
{
	struct json_object *set = NULL;
	size_t at = (size_t)-1;
	int r = 0;

	for (size_t i = 0; i < json_object_array_length(exprs) && !set; i++)
		if ((set = name_set(json_object_array_get_idx(exprs, i))))
			at = i;
	for (size_t i = 0; i < (set ? json_object_array_length(set) : 1) && r == 0; i++) {
		struct json_object *one = NULL;

		if (++*n_rules > FWRULES_RULES_MAX)
			return fwrules_fail(err, errlen, 0, -E2BIG, "more than %d rules",
			                    FWRULES_RULES_MAX);
		if (set) {
			one = one_name(json_object_array_get_idx(exprs, at),
			               json_object_array_get_idx(set, i));
			if (!one)
				return fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
		}
		r = add_one(c, exprs, at, one, comment, err, errlen);
		json_object_put(one);
	}
	return r;
}

static int add_rule(struct fwrules_tables *ts, struct json_object *o, size_t *n_rules, char *err,
                    size_t errlen)
{
	const char *family = member_string(o, "family"), *table = member_string(o, "table");
	const char *chain = member_string(o, "chain"), *comment = member_string(o, "comment");
	struct json_object *exprs;
	struct fwrules_table *tab;
	struct fwrules_chain *c;

	if (!family || !table || !chain)
		return fwrules_fail(err, errlen, 0, -EINVAL, "rule without family, table or chain");
	tab = find_table(ts, family, table);
	c = tab ? fwrules_find_chain_mut(tab, chain) : NULL;
	if (!c)
		return fwrules_fail(err, errlen, 0, -EINVAL,
		                    "rule of unknown chain %.8s %.64s %.64s", family, table, chain);
	if (!json_object_object_get_ex(o, "expr", &exprs) ||
	    !json_object_is_type(exprs, json_type_array))
		return fwrules_fail(err, errlen, 0, -EINVAL, "rule of %.64s without expressions",
		                    chain);
	return add_rules(c, exprs, n_rules, comment, err, errlen);
}

/* ---- the document --------------------------------------------------------------- */

static int parse_elements(struct json_object *list, struct fwrules_tables *ts, char *err,
                          size_t errlen)
{
	size_t n_rules = 0;
	int r = 0;

	for (size_t i = 0; i < json_object_array_length(list) && r == 0; i++) {
		struct json_object *v;
		const char *kind = only_key(json_object_array_get_idx(list, i), &v);

		if (!kind || !json_object_is_type(v, json_type_object))
			r = fwrules_fail(err, errlen, 0, -EINVAL,
			                 "element %zu is not {\"kind\": {...}}", i);
		else if (strcmp(kind, "table") == 0)
			r = add_table(ts, v, err, errlen);
		else if (strcmp(kind, "chain") == 0)
			r = add_chain(ts, v, err, errlen);
		else if (strcmp(kind, "rule") == 0)
			r = add_rule(ts, v, &n_rules, err, errlen);
		/* metainfo, sets, maps, flowtables, objects: not needed. */
	}
	return r;
}

static bool only_blanks(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

int nftjson_parse(const char *buf, size_t len, struct fwrules_tables *ret, char *err, size_t errlen)
{
	struct fwrules_tables ts = {.items = NULL};
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc = NULL, *list;
	int r;

	if (!tok)
		return fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
	if (len > INT32_MAX || memchr(buf, '\0', len)) {
		r = fwrules_fail(err, errlen, 0, -EINVAL, "not JSON text (NUL byte or too long)");
		goto out;
	}
	doc = json_tokener_parse_ex(tok, buf, (int)len);
	if (!doc && json_tokener_get_error(tok) == json_tokener_continue) {
		r = fwrules_fail(err, errlen, 0, -EINVAL, "JSON ends early: truncated");
		goto out;
	}
	if (!doc) {
		r = fwrules_fail(err, errlen, 0, -EINVAL, "not JSON: %s",
		                 json_tokener_error_desc(json_tokener_get_error(tok)));
		goto out;
	}
	if (!only_blanks(buf + json_tokener_get_parse_end(tok),
	                 len - json_tokener_get_parse_end(tok))) {
		r = fwrules_fail(err, errlen, 0, -EINVAL, "text after the JSON document");
		goto out;
	}
	if (!json_object_object_get_ex(doc, "nftables", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		r = fwrules_fail(err, errlen, 0, -EINVAL,
		                 "no \"nftables\" array: not an nft ruleset");
		goto out;
	}
	r = parse_elements(list, &ts, err, errlen);
	if (r < 0)
		goto out;
	*ret = ts;
	memset(&ts, 0, sizeof(ts));
out:
	fwrules_tables_free(&ts);
	json_object_put(doc);
	json_tokener_free(tok);
	return r;
}
