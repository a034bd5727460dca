#include "monitor/wire.h"

#include "monitor/config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "monitor/config.h"
#include "monitor/probetab.h"

/* ---- encoding -------------------------------------------------------------- */

struct builder {
	char *buf;
	size_t len, cap;
	int error;
};

static void put(struct builder *b, const void *p, size_t n)
{
	if (b->error)
		return;
	if (n > WIRE_FRAME_MAX - b->len) {
		b->error = -E2BIG;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;

		while (cap < b->len + n)
			cap *= 2;
		grown = realloc(b->buf, cap);
		if (!grown) {
			b->error = -ENOMEM;
			return;
		}
		b->buf = grown;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void put_u64(struct builder *b, uint64_t v)
{
	put(b, &v, sizeof(v));
}

/* A device without its pointers, then what they point to. */
static void put_device(struct builder *b, const struct wireguard_device *dev)
{
	struct wireguard_device d = *dev;

	d.peers = NULL;
	d.all_allowed_ips = NULL;
	d.addresses = NULL;
	d.peers_cap = d.n_peers;
	d.all_allowed_ips_cap = d.n_all_allowed_ips;
	d.addresses_cap = d.n_addresses;
	put(b, &d, sizeof(d));
	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wireguard_peer p = dev->peers[i];

		p.allowed_ips = NULL;
		put(b, &p, sizeof(p));
	}
	if (dev->n_all_allowed_ips)
		put(b, dev->all_allowed_ips, dev->n_all_allowed_ips * sizeof(struct wireguard_ip));
	if (dev->n_addresses)
		put(b, dev->addresses, dev->n_addresses * sizeof(struct wireguard_ip));
}

static void put_wireguard(struct builder *b, const struct wireguard *wg)
{
	struct wireguard w = *wg;

	w.devices = NULL;
	w.missing_required = NULL;
	put(b, &w, sizeof(w));
	for (size_t i = 0; i < wg->n_devices; i++)
		put_device(b, &wg->devices[i]);
	if (wg->n_missing_required)
		put(b, wg->missing_required,
		    wg->n_missing_required * sizeof(*wg->missing_required));
}

int wire_encode_result(const struct snapshot *snap, enum probe_id id, char **ret, size_t *ret_len)
{
	struct wire_header h = {.magic = WIRE_MAGIC, .version = WIRE_VERSION, .type = WIRE_RESULT};
	struct builder b = {0};
	uint32_t pid = (uint32_t)id;

	if ((unsigned)id >= PROBE__COUNT)
		return -EINVAL;
	put(&b, &h, sizeof(h));
	put(&b, &pid, sizeof(pid));
	put(&b, &snap->probes[id], sizeof(snap->probes[id]));
	if (id == PROBE_WIREGUARD) {
		put_wireguard(&b, &snap->wireguard);
	} else {
		put_u64(&b, probetab[id].area_size);
		put(&b, (const char *)snap + probetab[id].area_offset, probetab[id].area_size);
	}
	if (b.error) {
		free(b.buf);
		return b.error;
	}
	h.length = (uint32_t)(b.len - sizeof(h));
	memcpy(b.buf, &h, sizeof(h));
	*ret = b.buf;
	*ret_len = b.len;
	return 0;
}

void wire_encode_heartbeat(const struct wire_heartbeat *hb, char buf[WIRE_HEARTBEAT_SIZE])
{
	struct wire_header h = {.magic = WIRE_MAGIC,
	                        .version = WIRE_VERSION,
	                        .type = WIRE_HEARTBEAT,
	                        .length = sizeof(*hb)};

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), hb, sizeof(*hb));
}

int wire_encode_config(int read_result, const char *text, size_t len, char **ret, size_t *ret_len)
{
	struct wire_header h = {.magic = WIRE_MAGIC, .version = WIRE_VERSION, .type = WIRE_CONFIG};
	int32_t rr = read_result;
	char *buf;

	if (len > CONFIG_FILE_MAX)
		return -E2BIG;
	h.length = (uint32_t)(sizeof(rr) + len);
	buf = malloc(sizeof(h) + h.length);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &rr, sizeof(rr));
	if (len)
		memcpy(buf + sizeof(h) + sizeof(rr), text, len);
	*ret = buf;
	*ret_len = sizeof(h) + h.length;
	return 0;
}

void wire_config_of(const void *frame, int *ret_read_result, const char **ret_text, size_t *ret_len)
{
	struct wire_header h;
	int32_t rr;

	memcpy(&h, frame, sizeof(h));
	memcpy(&rr, (const char *)frame + sizeof(h), sizeof(rr));
	*ret_read_result = rr;
	*ret_text = (const char *)frame + sizeof(h) + sizeof(rr);
	*ret_len = h.length - sizeof(rr);
}

/* ---- decoding -------------------------------------------------------------- */

struct cursor {
	const char *p;
	size_t left;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct cursor *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* The next n bytes, or NULL when the frame is cut. */
static const void *take(struct cursor *c, size_t n)
{
	const void *p = c->p;

	if (n > c->left)
		return NULL;
	c->p += n;
	c->left -= n;
	return p;
}

static int take_into(struct cursor *c, void *dst, size_t n, const char *what)
{
	const void *p = take(c, n);

	if (!p)
		return bad(c, "cut inside %s", what);
	memcpy(dst, p, n);
	return 0;
}

/* count elements of size bytes each, copied into a fresh array (NULL for
 * none); the count is checked against what is left before anything is
 * allocated, so that it cannot overflow or ask for more than arrived. */
static int take_array(struct cursor *c, size_t count, size_t size, void **ret, const char *what)
{
	void *a;

	*ret = NULL;
	if (count == 0)
		return 0;
	if (count > c->left / size)
		return bad(c, "%zu %s do not fit in the frame", count, what);
	a = malloc(count * size);
	if (!a)
		return -ENOMEM;
	memcpy(a, take(c, count * size), count * size);
	*ret = a;
	return 0;
}

#define TERMINATED(s) (memchr((s), '\0', sizeof(s)) != NULL)

static bool ip_valid(const struct wireguard_ip *ip)
{
	return (ip->family == AF_INET && ip->cidr <= 32) ||
	       (ip->family == AF_INET6 && ip->cidr <= 128);
}

static int check_peer(struct cursor *c, const struct wireguard_device *dev,
                      const struct wireguard_peer *p)
{
	sa_family_t fam = p->endpoint.sa.sa_family;

	if (!TERMINATED(p->public_key) || !TERMINATED(p->name) || !TERMINATED(p->endpoint_text))
		return bad(c, "a peer's text is not terminated");
	if (fam != AF_UNSPEC && fam != AF_INET && fam != AF_INET6)
		return bad(c, "a peer's endpoint has family %u", (unsigned)fam);
	if (p->allowed_ips_first > dev->n_all_allowed_ips ||
	    p->n_allowed_ips > dev->n_all_allowed_ips - p->allowed_ips_first)
		return bad(c, "a peer's allowed IPs lie outside its device's");
	return 0;
}

static int check_device(struct cursor *c, const struct wireguard_device *d)
{
	if (!TERMINATED(d->name) || !TERMINATED(d->oper_state) || !TERMINATED(d->error_text) ||
	    !TERMINATED(d->public_key) || !TERMINATED(d->wgquick_path) ||
	    !TERMINATED(d->wgquick_error))
		return bad(c, "a device's text is not terminated");
	if ((unsigned)d->backend > WIREGUARD_BACKEND_USERSPACE)
		return bad(c, "a device's backend is %u", (unsigned)d->backend);
	if (d->n_peers > WIRE_PEERS_MAX || d->n_all_allowed_ips > WIRE_PEERS_MAX * 16 ||
	    d->n_addresses > WIRE_PEERS_MAX)
		return bad(c, "a device's counts are out of range");
	return 0;
}

/* The arrays that follow a device, each checked. */
static int take_device_arrays(struct cursor *c, struct wireguard_device *d, size_t n_peers,
                              size_t n_ips, size_t n_addrs)
{
	void *a;
	int r;

	if ((r = take_array(c, n_peers, sizeof(struct wireguard_peer), &a, "peers")) < 0)
		return r;
	d->peers = a;
	d->n_peers = d->peers_cap = n_peers;
	if ((r = take_array(c, n_ips, sizeof(struct wireguard_ip), &a, "allowed IPs")) < 0)
		return r;
	d->all_allowed_ips = a;
	d->n_all_allowed_ips = d->all_allowed_ips_cap = n_ips;
	if ((r = take_array(c, n_addrs, sizeof(struct wireguard_ip), &a, "addresses")) < 0)
		return r;
	d->addresses = a;
	d->n_addresses = d->addresses_cap = n_addrs;
	for (size_t i = 0; i < n_ips; i++)
		if (!ip_valid(&d->all_allowed_ips[i]))
			return bad(c, "an allowed IP has family %d", d->all_allowed_ips[i].family);
	for (size_t i = 0; i < n_addrs; i++)
		if (!ip_valid(&d->addresses[i]))
			return bad(c, "an address has family %d", d->addresses[i].family);
	for (size_t i = 0; i < n_peers; i++) {
		struct wireguard_peer *p = &d->peers[i];

		r = check_peer(c, d, p);
		if (r < 0)
			return r;
		p->allowed_ips =
		    p->n_allowed_ips ? d->all_allowed_ips + p->allowed_ips_first : NULL;
	}
	return 0;
}

/* One device and its arrays, into *d, which owns what it points to even
 * when this fails (wireguard_device_free() frees it). */
static int take_device(struct cursor *c, struct wireguard_device *d)
{
	struct wireguard_device raw;
	int r;

	r = take_into(c, &raw, sizeof(raw), "a device");
	if (r < 0)
		return r;
	r = check_device(c, &raw);
	if (r < 0)
		return r;
	*d = raw;
	d->peers = NULL;
	d->all_allowed_ips = d->addresses = NULL;
	d->n_peers = d->n_all_allowed_ips = d->n_addresses = 0;
	d->peers_cap = d->all_allowed_ips_cap = d->addresses_cap = 0;
	return take_device_arrays(c, d, raw.n_peers, raw.n_all_allowed_ips, raw.n_addresses);
}

static int take_wireguard(struct cursor *c, struct wireguard *ret)
{
	struct wireguard w;
	void *missing;
	size_t n_devices, n_missing;
	int r;

	r = take_into(c, &w, sizeof(w), "the WireGuard facts");
	if (r < 0)
		return r;
	n_devices = w.n_devices;
	n_missing = w.n_missing_required;
	if (n_devices > WIRE_DEVICES_MAX || n_missing > WIRE_PEERS_MAX)
		return bad(c, "%zu devices, %zu missing peers: out of range", n_devices, n_missing);
	w.devices = NULL;
	w.missing_required = NULL;
	w.n_devices = w.n_missing_required = 0;
	if (n_devices) {
		w.devices = calloc(n_devices, sizeof(*w.devices));
		if (!w.devices)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n_devices; i++) {
		w.n_devices = i + 1;
		r = take_device(c, &w.devices[i]);
		if (r < 0)
			goto fail;
	}
	r = take_array(c, n_missing, sizeof(*w.missing_required), &missing, "missing peers");
	if (r < 0)
		goto fail;
	w.missing_required = missing;
	w.n_missing_required = n_missing;
	for (size_t i = 0; i < n_missing; i++) {
		if (!TERMINATED(w.missing_required[i])) {
			r = bad(c, "a missing peer's text is not terminated");
			goto fail;
		}
	}
	*ret = w;
	return 0;
fail:
	wireguard_free(&w);
	return r;
}

/* ---- the plain parts ------------------------------------------------------- */

static int check_gpu(struct cursor *c, const struct gpu *g)
{
	if (g->count > GPU_MAX || g->processes.count > GPU_PROCESSES_MAX)
		return bad(c, "GPU counts out of range");
	if (!TERMINATED(g->first_unparsed) || !TERMINATED(g->processes_error))
		return bad(c, "GPU text is not terminated");
	for (unsigned i = 0; i < g->count; i++) {
		const struct gpu_device *d = &g->devices[i];

		if (!TERMINATED(d->uuid) || !TERMINATED(d->name) ||
		    !TERMINATED(d->driver_version) || !TERMINATED(d->pstate))
			return bad(c, "GPU text is not terminated");
	}
	for (unsigned i = 0; i < g->processes.count; i++)
		if (!TERMINATED(g->processes.top[i].gpu_uuid) ||
		    !TERMINATED(g->processes.top[i].name))
			return bad(c, "GPU process text is not terminated");
	return 0;
}

static bool request_terminated(const struct endpoint_request *r)
{
	return TERMINATED(r->url) && TERMINATED(r->error);
}

static int check_endpoint6(struct cursor *c, const struct endpoint6 *e)
{
	if (e->n_addresses > ENDPOINT6_IPS_MAX || e->n_hostname_ips > ENDPOINT6_IPS_MAX)
		return bad(c, "endpoint IPv6 counts out of range");
	if (!TERMINATED(e->ifname) || !TERMINATED(e->hostname_error))
		return bad(c, "endpoint IPv6 text is not terminated");
	for (size_t i = 0; i < e->n_addresses; i++)
		if (!TERMINATED(e->addresses[i]))
			return bad(c, "endpoint IPv6 text is not terminated");
	for (size_t i = 0; i < e->n_hostname_ips; i++)
		if (!TERMINATED(e->hostname_ips[i]))
			return bad(c, "endpoint IPv6 text is not terminated");
	return 0;
}

static int check_endpoint(struct cursor *c, const struct endpoint *e)
{
	if (e->n_attempts > ENDPOINT_URLS_MAX || e->n_probes > ENDPOINT_URLS_MAX ||
	    e->n_hostname_ips > ENDPOINT_IPS_MAX)
		return bad(c, "endpoint counts out of range");
	if (!TERMINATED(e->public_ip) || !TERMINATED(e->source_url) || !TERMINATED(e->state_path) ||
	    !TERMINATED(e->remembered_ip) || !TERMINATED(e->state_error) ||
	    !TERMINATED(e->hostname) || !TERMINATED(e->hostname_error))
		return bad(c, "endpoint text is not terminated");
	for (size_t i = 0; i < e->n_attempts; i++)
		if (!request_terminated(&e->attempts[i]))
			return bad(c, "endpoint text is not terminated");
	for (size_t i = 0; i < e->n_probes; i++)
		if (!request_terminated(&e->probes[i]))
			return bad(c, "endpoint text is not terminated");
	for (size_t i = 0; i < e->n_hostname_ips; i++)
		if (!TERMINATED(e->hostname_ips[i]))
			return bad(c, "endpoint text is not terminated");
	return check_endpoint6(c, &e->v6);
}

/* What a renderer indexes or reads up to a NUL must be in bounds. */
static bool boot_valid(const struct forwarding_boot *b)
{
	return b->value >= -1 && b->value <= 1 && b->procps_value >= -1 && b->procps_value <= 1 &&
	       (unsigned)b->service <= FORWARDING_BY_NETWORKD && TERMINATED(b->file) &&
	       TERMINATED(b->refused_file) && TERMINATED(b->refused_value) &&
	       TERMINATED(b->procps_file) && TERMINATED(b->service_file) &&
	       TERMINATED(b->service_unit);
}

static int check_forwarding(struct cursor *c, const struct forwarding *f)
{
	if (!boot_valid(&f->boot4) || !boot_valid(&f->boot6))
		return bad(c, "forwarding boot facts out of range or not terminated");
	if (!TERMINATED(f->ipv6_carried_by) || !TERMINATED(f->ipv6_error))
		return bad(c, "forwarding text is not terminated");
	return 0;
}

static bool listener_valid(const struct ssh_listener *l)
{
	return (l->family == AF_INET || l->family == AF_INET6) &&
	       (unsigned)l->reach <= SSH_REACH_OTHER && TERMINATED(l->address) &&
	       TERMINATED(l->ifname);
}

static int check_ssh(struct cursor *c, const struct ssh *s)
{
	if (s->n_listeners > SSH_LISTENERS_MAX || s->total_listeners < s->n_listeners ||
	    /* A part never read is all zeros: usable 0 of no listener. */
	    s->usable < -1 || s->usable >= (int32_t)(s->n_listeners ? s->n_listeners : 1) ||
	    (unsigned)s->banner > SSH_BANNER_FAILED || (unsigned)s->port_source > SSH_PORT_LISTEN)
		return bad(c, "ssh facts out of range");
	if (!TERMINATED(s->port_file) || !TERMINATED(s->sshd_config_error) ||
	    !TERMINATED(s->vpn_ifname) || !TERMINATED(s->vpn_address) ||
	    !TERMINATED(s->lan_ifname) || !TERMINATED(s->lan_address) ||
	    !TERMINATED(s->banner_target) || !TERMINATED(s->banner_line) ||
	    !TERMINATED(s->banner_software) || !TERMINATED(s->banner_error))
		return bad(c, "ssh text is not terminated");
	for (unsigned i = 0; i < SSH_LISTEN_KEPT; i++)
		if (!TERMINATED(s->listen[i].value) || !TERMINATED(s->listen[i].file))
			return bad(c, "ssh text is not terminated");
	for (uint32_t i = 0; i < s->n_listeners; i++)
		if (!listener_valid(&s->listeners[i]))
			return bad(c, "an ssh listener is out of range or not terminated");
	return 0;
}

static int check_router(struct cursor *c, const struct router *r)
{
	return router_valid(r) ? 0 : bad(c, "router facts out of range or not terminated");
}

static bool decisions_valid(const struct firewall_decision *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned)d[i].result > FWPATH_TOO_COMPLEX ||
		    (unsigned)d[i].direction > FWPATH_BACK || !TERMINATED(d[i].iface) ||
		    !TERMINATED(d[i].table_family) || !TERMINATED(d[i].table) ||
		    !TERMINATED(d[i].base_chain) || !TERMINATED(d[i].policy) ||
		    !TERMINATED(d[i].chain) || !TERMINATED(d[i].rule))
			return false;
	return true;
}

/* The firewall's counts index its arrays, and its decisions' texts are
 * printed: both checked. */
static bool expectation_valid(const struct postup_expectation *e)
{
	return TERMINATED(e->command) && TERMINATED(e->origin) && TERMINATED(e->reason) &&
	       TERMINATED(e->table) && TERMINATED(e->chain) && TERMINATED(e->target) &&
	       TERMINATED(e->in) && TERMINATED(e->out) && TERMINATED(e->src) && TERMINATED(e->dst);
}

static bool firewall_texts_valid(const struct firewall *f)
{
	return TERMINATED(f->iptables_save) && TERMINATED(f->ip6tables_save) &&
	       TERMINATED(f->nft) && TERMINATED(f->nft_error) && TERMINATED(f->backend) &&
	       TERMINATED(f->forward_policy) && TERMINATED(f->ipv6_error) &&
	       TERMINATED(f->forward6_policy) && TERMINATED(f->wgquick_path) &&
	       TERMINATED(f->wgquick_error) && TERMINATED(f->vpn_subnet) &&
	       TERMINATED(f->vpn_subnet6) && TERMINATED(f->masq_table) &&
	       TERMINATED(f->masq_rule) && TERMINATED(f->masq_chain) && TERMINATED(f->masq_out) &&
	       TERMINATED(f->default_if) && TERMINATED(f->default_via) &&
	       TERMINATED(f->default6_if) && TERMINATED(f->postup_line) &&
	       TERMINATED(f->postdown_line);
}

static int check_firewall(struct cursor *c, const struct firewall *f)
{
	if (f->n_decisions > FIREWALL_DECISIONS_MAX || f->n_input > FIREWALL_INPUT_MAX ||
	    f->n_ifaces > FIREWALL_IFACES_MAX || f->n_expect > FIREWALL_EXPECT_MAX)
		return bad(c, "firewall counts out of range");
	if (!firewall_texts_valid(f))
		return bad(c, "firewall text is not terminated");
	for (size_t i = 0; i < f->n_expect; i++)
		if (!expectation_valid(&f->expect[i]))
			return bad(c, "a PostUp expectation's text is not terminated");
	if (!decisions_valid(f->decisions, f->n_decisions) ||
	    !decisions_valid(f->input, f->n_input))
		return bad(c, "a firewall decision is out of range or not terminated");
	for (size_t i = 0; i < f->n_ifaces; i++)
		if (!TERMINATED(f->ifaces[i]))
			return bad(c, "firewall text is not terminated");
	return 0;
}

static int check_plain(struct cursor *c, enum probe_id id, const void *part)
{
	switch (id) {
	case PROBE_FIREWALL:
		return check_firewall(c, part);
	case PROBE_SSH:
		return check_ssh(c, part);
	case PROBE_ROUTER:
		return check_router(c, part);
	case PROBE_FORWARDING:
		return check_forwarding(c, part);
	case PROBE_GPU:
		return check_gpu(c, part);
	case PROBE_ENDPOINT:
		return check_endpoint(c, part);
	default:
		return 0;
	}
}

static int check_outcome(struct cursor *c, const struct probe_outcome *o)
{
	if ((unsigned)o->status > PROBE_SKIPPED)
		return bad(c, "probe status %u", (unsigned)o->status);
	if (!TERMINATED(o->error))
		return bad(c, "the probe's error is not terminated");
	return 0;
}

static int apply_result(struct cursor *c, struct snapshot *snap)
{
	struct probe_outcome outcome;
	struct wireguard wg;
	uint32_t id = 0;
	uint64_t size = 0;
	void *part;
	int r;

	if ((r = take_into(c, &id, sizeof(id), "the probe id")) < 0)
		return r;
	if (id >= PROBE__COUNT)
		return bad(c, "probe id %u", (unsigned)id);
	if ((r = take_into(c, &outcome, sizeof(outcome), "the outcome")) < 0 ||
	    (r = check_outcome(c, &outcome)) < 0)
		return r;
	if (id == PROBE_WIREGUARD) {
		if ((r = take_wireguard(c, &wg)) < 0)
			return r;
		if (c->left) {
			wireguard_free(&wg);
			return bad(c, "%zu bytes after the WireGuard facts", c->left);
		}
		wireguard_free(&snap->wireguard);
		snap->wireguard = wg;
		snap->probes[id] = outcome;
		return 0;
	}
	if ((r = take_into(c, &size, sizeof(size), "the part's size")) < 0)
		return r;
	if (size != probetab[id].area_size || c->left != size)
		return bad(c, "a part of %llu bytes in %zu for %s, which has %zu",
		           (unsigned long long)size, c->left, probetab[id].name,
		           probetab[id].area_size);
	/* Checked in a copy of its own: in the receive buffer a part lies
	 * wherever the frames before it ended, not aligned for its struct. */
	part = malloc(size ? (size_t)size : 1);
	if (!part)
		return bad(c, "no memory for a part of %llu bytes", (unsigned long long)size);
	memcpy(part, take(c, (size_t)size), (size_t)size);
	r = check_plain(c, (enum probe_id)id, part);
	if (r == 0) {
		memcpy((char *)snap + probetab[id].area_offset, part, (size_t)size);
		snap->probes[id] = outcome;
	}
	free(part);
	return r;
}

int64_t wire_frame_size(const void *buf, size_t len)
{
	struct wire_header h;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != WIRE_MAGIC)
		return -EBADMSG;
	if (h.version != WIRE_VERSION)
		return -EPROTONOSUPPORT;
	if (h.type != WIRE_RESULT && h.type != WIRE_HEARTBEAT && h.type != WIRE_CONFIG)
		return -EBADMSG;
	if (h.length > WIRE_FRAME_MAX - sizeof(h))
		return -E2BIG;
	return (int64_t)(sizeof(h) + h.length);
}

int wire_apply(const void *frame, size_t len, struct snapshot *snap, struct wire_heartbeat *ret_hb,
               enum wire_type *ret_type, char *err, size_t errlen)
{
	struct cursor c = {.p = frame, .left = len, .err = err, .errlen = errlen};
	struct wire_header h;
	int64_t size = wire_frame_size(frame, len);
	int r;

	if (size <= 0 || (uint64_t)size != len)
		return bad(&c, "a frame of %zu bytes whose header says %lld", len, (long long)size);
	take_into(&c, &h, sizeof(h), "the header");
	if (h.type == WIRE_HEARTBEAT) {
		struct wire_heartbeat hb;

		if (c.left != sizeof(hb))
			return bad(&c, "a heartbeat of %zu bytes", c.left);
		take_into(&c, &hb, sizeof(hb), "the heartbeat");
		if (hb.overdue_probe < -1 || hb.overdue_probe >= PROBE__COUNT)
			return bad(&c, "heartbeat names probe %d", (int)hb.overdue_probe);
		*ret_hb = hb;
		*ret_type = WIRE_HEARTBEAT;
		return 0;
	}
	if (h.type == WIRE_CONFIG) {
		int32_t rr = 0;

		if (c.left < sizeof(rr) || c.left - sizeof(rr) > CONFIG_FILE_MAX)
			return bad(&c, "a configuration of %zu bytes", c.left);
		r = take_into(&c, &rr, sizeof(rr), "the read result");
		if (r < 0)
			return r;
		/* 0, or an errno the reader can have seen. */
		if (rr > 0 || rr < -4095 || (rr < 0 && c.left))
			return bad(&c, "a configuration read result of %d", (int)rr);
		*ret_type = WIRE_CONFIG;
		return 0;
	}
	r = apply_result(&c, snap);
	if (r == 0)
		*ret_type = WIRE_RESULT;
	return r;
}
