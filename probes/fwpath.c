#include "probes/fwpath.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool fwpath_is_docker_chain(const char *name)
{
	return strncmp(name, "DOCKER", 6) == 0;
}

void fwpath_packet_for(enum fwpath_direction dir, int family, const char *wg, const char *uplink,
                       const char *vpn_net, struct fwpath_packet *ret)
{
	struct fwpath_packet pk = {.family = family, .src = "", .dst = ""};

	/* The other end is a host on the internet: what a full-tunnel
	 * client reaches through the uplink. */
	if (dir == FWPATH_OUT) {
		pk.in = wg;
		pk.out = uplink;
		pk.src = vpn_net;
		pk.dst = FWPATH_INTERNET;
		pk.ct_state = FWRULES_CT_NEW;
	} else {
		/* After MASQUERADE, conntrack turns the reply's destination
		 * back into the VPN client's address before FORWARD. */
		pk.in = uplink;
		pk.out = wg;
		pk.src = FWPATH_INTERNET;
		pk.dst = vpn_net;
		pk.ct_state = FWRULES_CT_ESTABLISHED;
	}
	*ret = pk;
}

void fwpath_packet_input(int family, const char *wg, const char *vpn_net, uint8_t proto,
                         uint16_t dport, struct fwpath_packet *ret)
{
	struct fwpath_packet pk = {.family = family,
	                           .in = wg,
	                           .out = "",
	                           .src = vpn_net,
	                           .dst = "",
	                           .ct_state = FWRULES_CT_NEW,
	                           .proto = proto,
	                           .dport = dport,
	                           .dst_types = FWRULES_ADDRTYPE_LOCAL | FWRULES_ADDRTYPE_UNICAST};

	*ret = pk;
}

/* ---- does a rule apply? ------------------------------------------------------- */

/* Whether a rule applies to the packets in question: to all, none, or only
 * some of them (other matches, or facts not known here). */
enum applies { APPLIES_NONE, APPLIES_SOME, APPLIES_ALL };

static enum applies combine(enum applies a, enum applies b)
{
	return a < b ? a : b;
}

static enum applies iface_applies(const char *pattern, bool neg, const char *name)
{
	if (!*pattern)
		return APPLIES_ALL;
	if (!name || !*name)
		return APPLIES_SOME;
	return fwrules_iface_matches(pattern, name) != neg ? APPLIES_ALL : APPLIES_NONE;
}

/* Networks no internet host has an address in: private, shared (CGNAT),
 * loopback, link-local, multicast and reserved ranges. */
static bool is_not_internet(const struct fwrules_net *n)
{
	static const char *const ranges[] = {"0.0.0.0/8",      "10.0.0.0/8",     "100.64.0.0/10",
	                                     "127.0.0.0/8",    "169.254.0.0/16", "172.16.0.0/12",
	                                     "192.168.0.0/16", "224.0.0.0/3",    "::/127",
	                                     "fc00::/7",       "fe80::/10",      "ff00::/8"};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		struct fwrules_net r;

		if (fwrules_net_parse(ranges[i], &r) == 0 && fwrules_net_contains(&r, n))
			return true;
	}
	return false;
}

/* A rule's network against "any host on the internet": all of them (a /0),
 * none (a LAN or special range), or some (any other public range). */
static enum applies internet_applies(const struct fwrules_net *r, bool neg)
{
	if (r->prefix == 0)
		return neg ? APPLIES_NONE : APPLIES_ALL;
	if (is_not_internet(r))
		return neg ? APPLIES_ALL : APPLIES_NONE;
	return APPLIES_SOME;
}

static enum applies addr_applies(const char *rule_net, bool neg, const char *packet_net)
{
	struct fwrules_net r, p;
	bool inside, disjoint;

	if (!*rule_net)
		return APPLIES_ALL;
	if (packet_net && strcmp(packet_net, FWPATH_INTERNET) == 0)
		return fwrules_net_parse(rule_net, &r) < 0 ? APPLIES_SOME
		                                           : internet_applies(&r, neg);
	if (!packet_net || !*packet_net || fwrules_net_parse(rule_net, &r) < 0 ||
	    fwrules_net_parse(packet_net, &p) < 0)
		return APPLIES_SOME;
	if (r.family != p.family)
		return neg ? APPLIES_ALL : APPLIES_NONE;
	inside = fwrules_net_contains(&r, &p);
	disjoint = !inside && !fwrules_net_contains(&p, &r);
	if (inside)
		return neg ? APPLIES_NONE : APPLIES_ALL;
	if (disjoint)
		return neg ? APPLIES_ALL : APPLIES_NONE;
	return APPLIES_SOME;
}

static enum applies state_applies(const struct fwrules_rule *r, unsigned ct_state)
{
	bool match;

	if (!r->ct_states)
		return APPLIES_ALL;
	match = (r->ct_states & ct_state) != 0;
	return match != r->ct_neg ? APPLIES_ALL : APPLIES_NONE;
}

static enum applies proto_applies(const struct fwrules_rule *r, const struct fwpath_packet *pk)
{
	if (!r->proto)
		return APPLIES_ALL;
	if (!pk->proto)
		return APPLIES_SOME;
	return (r->proto == pk->proto) != r->proto_neg ? APPLIES_ALL : APPLIES_NONE;
}

static enum applies dport_applies(const struct fwrules_rule *r, const struct fwpath_packet *pk)
{
	if (!r->dport_min)
		return APPLIES_ALL;
	if (!pk->dport)
		return APPLIES_SOME;
	return (pk->dport >= r->dport_min && pk->dport <= r->dport_max) != r->dport_neg
	           ? APPLIES_ALL
	           : APPLIES_NONE;
}

static enum applies addrtype_applies(const struct fwrules_rule *r, const struct fwpath_packet *pk)
{
	if (!r->dst_types)
		return APPLIES_ALL;
	if (!pk->dst_types)
		return APPLIES_SOME;
	return ((r->dst_types & pk->dst_types) != 0) != r->dst_types_neg ? APPLIES_ALL
	                                                                 : APPLIES_NONE;
}

static enum applies rule_applies(const struct fwrules_rule *r, const struct fwpath_packet *pk)
{
	enum applies a = APPLIES_ALL;

	if (r->family && r->family != pk->family)
		return APPLIES_NONE;
	a = combine(a, iface_applies(r->in, r->in_neg, pk->in));
	a = combine(a, iface_applies(r->out, r->out_neg, pk->out));
	a = combine(a, addr_applies(r->src, r->src_neg, pk->src));
	a = combine(a, addr_applies(r->dst, r->dst_neg, pk->dst));
	a = combine(a, state_applies(r, pk->ct_state));
	a = combine(a, proto_applies(r, pk));
	a = combine(a, dport_applies(r, pk));
	a = combine(a, addrtype_applies(r, pk));
	if (r->conditional)
		a = combine(a, APPLIES_SOME);
	return a;
}

/* ---- the walk ----------------------------------------------------------------- */

enum walk_result { WALK_CONTINUE, WALK_ACCEPT, WALK_DROP, WALK_COMPLEX };

enum memo_state { MEMO_UNSEEN, MEMO_VISITING, MEMO_DONE };

/* The fate of the packet in one chain, computed once per evaluation. */
struct memo {
	enum memo_state state;
	enum walk_result result;
	const struct fwrules_chain *chain; /* of the deciding rule */
	const struct fwrules_rule *rule;
	size_t index;
};

struct walk {
	const struct fwrules_table *table;
	const struct fwpath_packet *pk;
	struct memo *memo; /* one per chain of the table */
	size_t steps;
	bool docker_seen;
};

static bool is_verdict(const char *target)
{
	return strcmp(target, "ACCEPT") == 0 || strcmp(target, "DROP") == 0 ||
	       strcmp(target, "REJECT") == 0;
}

static enum walk_result walk_chain(struct walk *w, const struct fwrules_chain *c, int depth);

/* A jump (or goto) that every such packet takes: the fate in the chain
 * jumped to. */
static enum walk_result walk_jump(struct walk *w, const struct fwrules_chain *c,
                                  const struct fwrules_chain *sub, int depth, struct memo *m)
{
	enum walk_result res = walk_chain(w, sub, depth + 1);
	struct memo *sm = &w->memo[sub - w->table->chains];

	(void)c;
	if (res == WALK_ACCEPT || res == WALK_DROP) {
		m->chain = sm->chain;
		m->rule = sm->rule;
		m->index = sm->index;
	}
	return res;
}

/* Walks chain c; returns its outcome and records the deciding rule in its
 * memo entry. */
static enum walk_result walk_rules(struct walk *w, const struct fwrules_chain *c, int depth,
                                   struct memo *m)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct fwrules_rule *r = &c->rules[i];
		const struct fwrules_chain *sub;
		enum applies a;
		enum walk_result res;

		if (++w->steps > FWPATH_STEPS_MAX)
			return WALK_COMPLEX;
		a = rule_applies(r, w->pk);
		if (a == APPLIES_NONE)
			continue;
		if (is_verdict(r->target)) {
			/* A rule for some of the packets never decides. */
			if (a != APPLIES_ALL)
				continue;
			m->chain = c;
			m->rule = r;
			m->index = i;
			return r->target[0] == 'A' ? WALK_ACCEPT : WALK_DROP;
		}
		if (strcmp(r->target, "RETURN") == 0) {
			if (a == APPLIES_ALL)
				return WALK_CONTINUE;
			continue;
		}
		sub = r->target[0] ? fwrules_find_chain(w->table, r->target) : NULL;
		if (!sub)
			continue; /* LOG, MARK, ...: the packet goes on */
		if (fwpath_is_docker_chain(sub->name))
			w->docker_seen = true;
		if (a != APPLIES_ALL)
			continue; /* what decides for some packets decides nothing */
		res = walk_jump(w, c, sub, depth, m);
		if (res != WALK_CONTINUE)
			return res;
		/* -g: at the end of the chain gone to (or at its RETURN), the
		 * packet returns to the chain that called this one. */
		if (r->is_goto)
			return WALK_CONTINUE;
	}
	return WALK_CONTINUE;
}

static enum walk_result walk_chain(struct walk *w, const struct fwrules_chain *c, int depth)
{
	struct memo *m = &w->memo[c - w->table->chains];

	if (m->state == MEMO_DONE)
		return m->result;
	/* A loop (the kernel refuses them) or nesting past the limit. */
	if (m->state == MEMO_VISITING || depth > FWPATH_DEPTH_MAX)
		return WALK_COMPLEX;
	m->state = MEMO_VISITING;
	m->result = walk_rules(w, c, depth, m);
	m->state = MEMO_DONE;
	return m->result;
}

int fwpath_decide(const struct fwrules_table *t, const struct fwrules_chain *base,
                  const struct fwpath_packet *pk, struct fwpath_decision *ret)
{
	struct walk w = {.table = t, .pk = pk};
	struct fwpath_decision d = {.chain = base};
	const struct memo *m;
	enum walk_result res;

	w.memo = calloc(t->n_chains ? t->n_chains : 1, sizeof(*w.memo));
	if (!w.memo)
		return -ENOMEM;
	res = walk_chain(&w, base, 0);
	m = &w.memo[base - t->chains];
	d.after_docker = w.docker_seen;
	d.steps = w.steps;
	switch (res) {
	case WALK_ACCEPT:
	case WALK_DROP:
		d.result = res == WALK_ACCEPT ? FWPATH_RULE_ACCEPTS : FWPATH_RULE_DROPS;
		d.chain = m->chain;
		d.rule = m->rule;
		d.rule_index = m->index;
		break;
	case WALK_COMPLEX:
		d.result = FWPATH_TOO_COMPLEX;
		break;
	case WALK_CONTINUE:
		/* nft policies are "accept"/"drop"; xtables' "ACCEPT"/"DROP". */
		d.result = strcasecmp(base->policy, "DROP") == 0 ? FWPATH_POLICY_DROPS
		                                                 : FWPATH_POLICY_ACCEPTS;
		break;
	}
	free(w.memo);
	*ret = d;
	return 0;
}

/* ---- base chains --------------------------------------------------------------- */

bool fwpath_is_xt_chain(const struct fwrules_table *t, const struct fwrules_chain *c)
{
	static const char *const names[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
	                                    "POSTROUTING"};

	if (!fwpath_is_xt_table(t))
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(c->name, names[i]) == 0)
			return true;
	return false;
}

bool fwpath_is_xt_table(const struct fwrules_table *t)
{
	static const char *const names[] = {"filter", "nat", "mangle", "raw", "security"};

	if (strcmp(t->family, "ip") != 0 && strcmp(t->family, "ip6") != 0)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t->name, names[i]) == 0)
			return true;
	return false;
}

static bool family_matches(const struct fwrules_table *t, int family)
{
	return strcmp(t->family, "inet") == 0 || strcmp(t->family, family == 4 ? "ip" : "ip6") == 0;
}

/* A chain that can drop a forwarded packet: filter-type base chains on
 * the forward hook, and on postrouting (which forwarded packets cross). */
static bool filters_forwarded(const struct fwrules_chain *c)
{
	return !c->nat && (c->hook == FWRULES_HOOK_FORWARD || c->hook == FWRULES_HOOK_POSTROUTING);
}

static int compare_layers(const void *a, const void *b)
{
	const struct fwpath_layer *x = a, *y = b;

	/* By hook (forward comes before postrouting), then priority. */
	if (x->chain->hook != y->chain->hook)
		return x->chain->hook < y->chain->hook ? -1 : 1;
	return (x->chain->priority > y->chain->priority) -
	       (x->chain->priority < y->chain->priority);
}

static bool filters_input(const struct fwrules_chain *c)
{
	return !c->nat && c->hook == FWRULES_HOOK_INPUT;
}

/* The iptables view's chain of that name, then the native nft tables'
 * chains for which filters() holds, sorted. */
static size_t collect_layers(const struct fwrules_ruleset *ipt, const struct fwrules_tables *nft,
                             bool skip_xt_tables, int family, const char *xt_chain,
                             bool (*filters)(const struct fwrules_chain *),
                             struct fwpath_layer *out, size_t max)
{
	size_t n = 0;

	if (ipt && ipt->filter.present) {
		const struct fwrules_chain *base = fwrules_find_chain(&ipt->filter, xt_chain);

		if (base && n < max)
			out[n++] = (struct fwpath_layer){&ipt->filter, base, false};
	}
	for (size_t i = 0; nft && i < nft->count; i++) {
		const struct fwrules_table *t = &nft->items[i];

		if (!family_matches(t, family))
			continue;
		for (size_t j = 0; j < t->n_chains && n < max; j++)
			if (filters(&t->chains[j]) &&
			    !(skip_xt_tables && fwpath_is_xt_chain(t, &t->chains[j])))
				out[n++] = (struct fwpath_layer){t, &t->chains[j], true};
	}
	/* Stable for equal priorities: the iptables view first. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && compare_layers(&out[j - 1], &out[j]) > 0; j--) {
			struct fwpath_layer tmp = out[j];

			out[j] = out[j - 1];
			out[j - 1] = tmp;
		}
	return n;
}

size_t fwpath_layers(const struct fwrules_ruleset *ipt, const struct fwrules_tables *nft,
                     bool skip_xt_tables, int family, struct fwpath_layer *out, size_t max)
{
	return collect_layers(ipt, nft, skip_xt_tables, family, "FORWARD", filters_forwarded, out,
	                      max);
}

size_t fwpath_input_layers(const struct fwrules_ruleset *ipt, const struct fwrules_tables *nft,
                           bool skip_xt_tables, int family, struct fwpath_layer *out, size_t max)
{
	return collect_layers(ipt, nft, skip_xt_tables, family, "INPUT", filters_input, out, max);
}

/* ---- MASQUERADE ------------------------------------------------------------------ */

struct masq_search {
	const struct fwrules_table *table;
	const struct fwpath_packet *pk;
	const char *prefer_out;
	bool *visited; /* one per chain: searched once, whatever the paths to it */
	struct fwpath_masq best, fallback;
	bool stopped;
};

static bool is_snat(const char *target)
{
	return strcmp(target, "MASQUERADE") == 0 || strcmp(target, "SNAT") == 0;
}

static void note_snat(struct masq_search *s, const struct fwrules_chain *c, size_t i,
                      enum applies src)
{
	const struct fwrules_rule *r = &c->rules[i];
	bool preferred = s->prefer_out && *s->prefer_out && !r->out_neg &&
	                 fwrules_iface_matches(r->out, s->prefer_out);
	struct fwpath_masq m = {true, s->table, c, r, i, preferred};

	/* A rule for another source network (Docker's 172.17.0.0/16) is
	 * only a fallback when the VPN's network is unknown. */
	if (src == APPLIES_ALL) {
		if (!s->best.found || (preferred && !s->best.preferred))
			s->best = m;
	} else if (!s->fallback.found && !*s->pk->src) {
		s->fallback = m;
	}
}

/* An ACCEPT or RETURN for all VPN traffic, whatever its way out. */
static bool ends_nat(const struct fwrules_rule *r, enum applies src)
{
	return src == APPLIES_ALL && !r->out[0] && !r->dst[0] && !fwrules_rule_narrowed(r) &&
	       !r->ct_states;
}

static void masq_walk(struct masq_search *s, const struct fwrules_chain *c, int depth)
{
	bool *seen = &s->visited[c - s->table->chains];

	if (*seen || depth > FWPATH_DEPTH_MAX)
		return;
	*seen = true;
	for (size_t i = 0; i < c->n_rules && !s->stopped; i++) {
		const struct fwrules_rule *r = &c->rules[i];
		enum applies src = addr_applies(r->src, r->src_neg, s->pk->src);
		const struct fwrules_chain *sub;

		if (src == APPLIES_NONE || (r->family && r->family != s->pk->family))
			continue;
		if (is_snat(r->target)) {
			note_snat(s, c, i, src);
			continue;
		}
		/* ACCEPT from POSTROUTING (or RETURN from it) for all VPN
		 * traffic ends NAT for it: later rules are not reached. */
		if (ends_nat(r, src) && (strcmp(r->target, "ACCEPT") == 0 ||
		                         (strcmp(r->target, "RETURN") == 0 && depth == 0))) {
			s->stopped = true;
			return;
		}
		if (ends_nat(r, src) && strcmp(r->target, "RETURN") == 0)
			return;
		sub = r->target[0] ? fwrules_find_chain(s->table, r->target) : NULL;
		if (sub)
			masq_walk(s, sub, depth + 1);
	}
}

int fwpath_find_masquerade(const struct fwrules_table *t, const struct fwrules_chain *base,
                           const char *vpn_net, const char *prefer_out, struct fwpath_masq *ret)
{
	struct fwpath_packet pk = {.in = "", .out = "", .src = vpn_net ? vpn_net : "", .dst = ""};
	struct masq_search s = {.table = t, .pk = &pk, .prefer_out = prefer_out};
	struct fwrules_net n;

	pk.family = *pk.src && fwrules_net_parse(pk.src, &n) == 0 ? n.family : 4;
	s.visited = calloc(t->n_chains ? t->n_chains : 1, sizeof(*s.visited));
	if (!s.visited)
		return -ENOMEM;
	masq_walk(&s, base, 0);
	free(s.visited);
	*ret = s.best.found ? s.best : s.fallback;
	return 0;
}
