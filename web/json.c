#include "web/json.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/probetab.h"
#include "monitor/routercheck.h"
#include "monitor/sshcheck.h"
#include "probes/text.h"

static void rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

/* Every string of the document goes through here. json-c copies bytes as
 * they are, and one byte that is not UTF-8 makes the whole document
 * unreadable: probes keep valid text, and this catches whatever a cut or a
 * new source lets through. Valid text is added unchanged. */
static struct json_object *json_text(const char *s)
{
	size_t len = strlen(s);
	struct json_object *o;
	char *copy;

	if (text_utf8_valid(s, len))
		return json_object_new_string_len(s, (int)len);
	copy = strdup(s);
	if (!copy)
		return NULL;
	text_sanitize_utf8(copy);
	o = json_object_new_string(copy);
	free(copy);
	return o;
}

static void add_u64(struct json_object *obj, const char *key, uint64_t v)
{
	json_object_object_add(obj, key, json_object_new_uint64(v));
}

static struct json_object *checks_array(const struct verdict *v)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < v->count; i++) {
		const struct check *c = &v->checks[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_text(c->id));
		json_object_object_add(o, "status", json_text(verdict_status_lower(c->status)));
		json_object_object_add(o, "summary", json_text(c->summary));
		json_object_object_add(o, "hint", json_text(c->hint));
		if (c->n_fix) {
			struct json_object *fix = json_object_new_array_ext((int)c->n_fix);

			for (size_t j = 0; j < c->n_fix; j++)
				json_object_array_add(fix, json_text(c->fix[j]));
			json_object_object_add(o, "fix", fix);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *probes_object(const struct snapshot *snap)
{
	struct json_object *obj = json_object_new_object();

	for (int id = 0; id < PROBE__COUNT; id++) {
		const struct probe_outcome *p = &snap->probes[id];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "status",
		                       json_text(snapshot_probe_status_name(p->status)));
		json_object_object_add(o, "error", p->error[0] ? json_text(p->error) : NULL);
		json_object_object_add(o, "duration_seconds",
		                       json_object_new_double(p->duration_seconds));
		json_object_object_add(obj, probetab[id].name, o);
	}
	return obj;
}

/* An area's object, or null when its probe has no valid data. */
static bool area_valid(const struct snapshot *snap, enum probe_id id)
{
	return snap->probes[id].status == PROBE_OK;
}

static struct json_object *memory_object(const struct meminfo *m)
{
	struct json_object *o = json_object_new_object();

	add_u64(o, "total_bytes", m->total);
	add_u64(o, "available_bytes", m->available);
	add_u64(o, "used_bytes", m->used);
	add_u64(o, "free_bytes", m->free);
	add_u64(o, "buff_cache_bytes", m->buff_cache);
	add_u64(o, "swap_total_bytes", m->swap_total);
	add_u64(o, "swap_free_bytes", m->swap_free);
	json_object_object_add(o, "available_estimated",
	                       json_object_new_boolean(m->available_estimated));
	return o;
}

static struct json_object *boot_object(const struct forwarding_boot *b)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "enabled",
	                       b->value < 0 ? NULL : json_object_new_boolean(b->value));
	json_object_object_add(o, "source_file", b->file[0] ? json_text(b->file) : NULL);
	json_object_object_add(o, "source_line", b->file[0] ? json_object_new_int(b->line) : NULL);
	json_object_object_add(o, "turned_on_by",
	                       b->service == FORWARDING_BY_NONE
	                           ? NULL
	                           : json_object_new_string(forwarding_service_name(b->service)));
	json_object_object_add(o, "turned_on_by_unit",
	                       b->service_unit[0] ? json_text(b->service_unit) : NULL);
	return o;
}

static struct json_object *forwarding_object(const struct forwarding *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ipv4", json_object_new_boolean(f->ipv4));
	json_object_object_add(o, "ipv4_at_boot",
	                       f->boot4.value < 0 ? NULL : json_object_new_boolean(f->boot4.value));
	json_object_object_add(o, "boot_source_file",
	                       f->boot4.file[0] ? json_text(f->boot4.file) : NULL);
	json_object_object_add(o, "boot_source_line",
	                       f->boot4.file[0] ? json_object_new_int(f->boot4.line) : NULL);
	json_object_object_add(o, "ipv4_boot", boot_object(&f->boot4));
	json_object_object_add(o, "ipv6_carried", json_object_new_boolean(f->ipv6_carried));
	json_object_object_add(
	    o, "ipv6",
	    f->ipv6_carried && !f->ipv6_error[0] ? json_object_new_boolean(f->ipv6) : NULL);
	json_object_object_add(o, "ipv6_boot", f->ipv6_carried ? boot_object(&f->boot6) : NULL);
	return o;
}

/* Absent values are null, never 0. Decimals keep the digits nvidia-smi
 * printed (312.45, not 312.44999999999999). */
static struct json_object *gpu_number(bool has, double v)
{
	char buf[32];

	if (!has)
		return NULL;
	snprintf(buf, sizeof(buf), "%.15g", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *gpu_bytes(bool has, uint64_t v)
{
	return has ? json_object_new_uint64(v) : NULL;
}

static struct json_object *gpu_text(const char *s)
{
	return s[0] ? json_text(s) : NULL;
}

static struct json_object *gpu_device_object(const struct gpu_device *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "index", json_object_new_int((int)d->index));
	json_object_object_add(o, "uuid", gpu_text(d->uuid));
	json_object_object_add(o, "name", gpu_text(d->name));
	json_object_object_add(o, "driver_version", gpu_text(d->driver_version));
	json_object_object_add(o, "pstate", gpu_text(d->pstate));
	json_object_object_add(o, "temperature_celsius",
	                       gpu_number(d->has_temperature, d->temperature_c));
	json_object_object_add(o, "utilization_gpu_percent",
	                       gpu_number(d->has_utilization_gpu, d->utilization_gpu_pct));
	json_object_object_add(o, "utilization_memory_percent",
	                       gpu_number(d->has_utilization_memory, d->utilization_memory_pct));
	json_object_object_add(o, "memory_total_bytes",
	                       gpu_bytes(d->has_memory_total, d->memory_total_bytes));
	json_object_object_add(o, "memory_used_bytes",
	                       gpu_bytes(d->has_memory_used, d->memory_used_bytes));
	json_object_object_add(o, "power_draw_watts",
	                       gpu_number(d->has_power_draw, d->power_draw_w));
	json_object_object_add(o, "power_limit_watts",
	                       gpu_number(d->has_power_limit, d->power_limit_w));
	json_object_object_add(o, "clock_sm_mhz", gpu_number(d->has_clock_sm, d->clock_sm_mhz));
	json_object_object_add(o, "unified_memory", json_object_new_boolean(d->unified_memory));
	json_object_object_add(o, "invalid_fields", json_object_new_int((int)d->invalid_fields));
	return o;
}

static struct json_object *gpu_processes_array(const struct gpu_processes *list)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned i = 0; i < list->count; i++) {
		const struct gpu_process *p = &list->top[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_int((int)p->pid));
		json_object_object_add(o, "name", gpu_text(p->name));
		json_object_object_add(o, "gpu_uuid", gpu_text(p->gpu_uuid));
		json_object_object_add(o, "gpu_index",
		                       p->gpu_index < 0 ? NULL : json_object_new_int(p->gpu_index));
		json_object_object_add(o, "used_memory_bytes",
		                       gpu_bytes(p->has_used_memory, p->used_memory_bytes));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The last reading, whenever there is one: the daemon keeps serving it when
 * a later run fails, and says how old it is and that it is stale. With
 * unified memory (GB10) the GPU's memory is the system's: the memory
 * probe's figures are given under system_memory. */
static struct json_object *gpu_object(const struct snapshot *snap)
{
	const struct gpu *g = &snap->gpu;
	struct json_object *o, *arr, *mem = NULL;
	char stamp[32];

	if (!g->taken_at)
		return NULL;
	o = json_object_new_object();
	rfc3339(g->taken_at, stamp, sizeof(stamp));
	json_object_object_add(o, "taken_at", json_text(stamp));
	json_object_object_add(
	    o, "age_seconds",
	    json_object_new_int64(snap->generated_at > g->taken_at
	                              ? (int64_t)(snap->generated_at - g->taken_at)
	                              : 0));
	json_object_object_add(o, "stale",
	                       json_object_new_boolean(snap->probes[PROBE_GPU].status != PROBE_OK));
	json_object_object_add(o, "count", json_object_new_int((int)g->total));
	json_object_object_add(o, "unified_memory", json_object_new_boolean(g->unified_memory));
	if (g->unified_memory && area_valid(snap, PROBE_MEMORY)) {
		mem = json_object_new_object();
		json_object_object_add(mem, "source", json_text("memory"));
		add_u64(mem, "total_bytes", snap->memory.total);
		add_u64(mem, "used_bytes", snap->memory.used);
		add_u64(mem, "available_bytes", snap->memory.available);
	}
	json_object_object_add(o, "system_memory", mem);
	json_object_object_add(o, "unparsed_lines", json_object_new_int((int)g->unparsed_lines));
	json_object_object_add(o, "first_unparsed_line", gpu_text(g->first_unparsed));
	arr = json_object_new_array();
	for (unsigned i = 0; i < g->count; i++)
		json_object_array_add(arr, gpu_device_object(&g->devices[i]));
	json_object_object_add(o, "gpus", arr);
	json_object_object_add(o, "processes",
	                       g->processes_valid ? gpu_processes_array(&g->processes) : NULL);
	json_object_object_add(o, "processes_total",
	                       g->processes_valid ? json_object_new_int((int)g->processes.total)
	                                          : NULL);
	json_object_object_add(o, "processes_error", gpu_text(g->processes_error));
	return o;
}

static struct json_object *wireguard_ips(const struct wireguard_ip *ips, size_t n)
{
	struct json_object *arr = json_object_new_array_ext((int)n);
	char text[INET6_ADDRSTRLEN + 8];

	for (size_t i = 0; i < n; i++) {
		wireguard_format_ip(&ips[i], text, sizeof(text));
		json_object_array_add(arr, json_text(text));
	}
	return arr;
}

static struct json_object *wireguard_peer_object(const struct config *cfg,
                                                 const struct wireguard_peer *p, time_t now)
{
	struct json_object *o = json_object_new_object();
	int64_t age = verdict_peer_age(p, now);

	json_object_object_add(o, "public_key", json_text(p->public_key));
	json_object_object_add(o, "name", p->name[0] ? json_text(p->name) : NULL);
	json_object_object_add(o, "required", json_object_new_boolean(p->required));
	json_object_object_add(o, "state",
	                       json_text(verdict_peer_state_name(verdict_peer_state(cfg, p, now))));
	json_object_object_add(o, "endpoint",
	                       p->endpoint_text[0] ? json_text(p->endpoint_text) : NULL);
	json_object_object_add(o, "allowed_ips", wireguard_ips(p->allowed_ips, p->n_allowed_ips));
	/* Unix time as wg show dump prints it; 0 = never. */
	json_object_object_add(o, "latest_handshake", json_object_new_int64(p->last_handshake));
	json_object_object_add(o, "latest_handshake_age_seconds",
	                       age < 0 ? NULL : json_object_new_int64(age));
	add_u64(o, "rx_bytes", p->rx_bytes);
	add_u64(o, "tx_bytes", p->tx_bytes);
	json_object_object_add(o, "persistent_keepalive_seconds",
	                       json_object_new_int(p->persistent_keepalive));
	json_object_object_add(o, "protocol_version",
	                       p->protocol_version ? json_object_new_int64(p->protocol_version)
	                                           : NULL);
	return o;
}

/* ---- peers, streamed ------------------------------------------------------ */

/* A device's peers as a json-c array that holds no elements: its serializer
 * builds each peer's object, writes it and frees it before the next. The
 * tree of 1000 peers took 3.5 MiB while the document was written, more
 * than the text itself; this way the document costs its text and one
 * peer. It writes exactly what json-c writes for a real array (a unit test
 * compares both, in every format). */
struct streamed_peers {
	const struct config *cfg;
	const struct wireguard_device *device;
	time_t now;
};

static void put_indent(struct printbuf *pb, int level, int flags)
{
	if (!(flags & JSON_C_TO_STRING_PRETTY))
		return;
	for (int i = 0; i < level; i++)
		printbuf_memappend(pb, flags & JSON_C_TO_STRING_PRETTY_TAB ? "\t" : "  ",
		                   flags & JSON_C_TO_STRING_PRETTY_TAB ? 1 : 2);
}

/* An element written at level 0, moved to `level`: json-c escapes line
 * feeds inside strings, so every line feed in the text is layout. */
static void put_element(struct printbuf *pb, const char *text, size_t len, int level, int flags)
{
	const char *nl;

	while ((flags & JSON_C_TO_STRING_PRETTY) && (nl = memchr(text, '\n', len)) != NULL) {
		printbuf_memappend(pb, text, (int)(nl - text + 1));
		put_indent(pb, level, flags);
		len -= (size_t)(nl - text + 1);
		text = nl + 1;
	}
	printbuf_memappend(pb, text, (int)len);
}

static int streamed_peers_to_json(struct json_object *jso, struct printbuf *pb, int level,
                                  int flags)
{
	const struct streamed_peers *sp = json_object_get_userdata(jso);
	bool pretty = flags & JSON_C_TO_STRING_PRETTY;
	bool spaced = (flags & JSON_C_TO_STRING_SPACED) && !pretty;

	printbuf_memappend(pb, pretty ? "[\n" : "[", pretty ? 2 : 1);
	for (size_t i = 0; i < sp->device->n_peers; i++) {
		struct json_object *peer =
		    wireguard_peer_object(sp->cfg, &sp->device->peers[i], sp->now);
		const char *text;
		size_t len;

		if (!peer)
			return -1;
		if (i > 0)
			printbuf_memappend(pb, pretty ? ",\n" : ",", pretty ? 2 : 1);
		if (spaced)
			printbuf_memappend(pb, " ", 1);
		put_indent(pb, level + 1, flags);
		text = json_object_to_json_string_length(peer, flags, &len);
		if (text)
			put_element(pb, text, len, level + 1, flags);
		json_object_put(peer);
		if (!text)
			return -1;
	}
	if (pretty && sp->device->n_peers > 0)
		printbuf_memappend(pb, "\n", 1);
	put_indent(pb, level, flags);
	return spaced ? printbuf_memappend(pb, " ]", 2) : printbuf_memappend(pb, "]", 1);
}

static struct json_object *streamed_peers(const struct config *cfg,
                                          const struct wireguard_device *d, time_t now)
{
	struct json_object *arr = json_object_new_array();
	struct streamed_peers *sp = malloc(sizeof(*sp));

	if (!arr || !sp) {
		json_object_put(arr);
		free(sp);
		return NULL;
	}
	*sp = (struct streamed_peers){.cfg = cfg, .device = d, .now = now};
	json_object_set_serializer(arr, streamed_peers_to_json, sp, json_object_free_userdata);
	return arr;
}

static struct json_object *peers_array(const struct config *cfg, const struct wireguard_device *d,
                                       time_t now)
{
	struct json_object *peers = json_object_new_array_ext((int)d->n_peers);

	for (size_t i = 0; i < d->n_peers; i++)
		json_object_array_add(peers, wireguard_peer_object(cfg, &d->peers[i], now));
	return peers;
}

/* ---- devices ------------------------------------------------------------- */

static struct json_object *wireguard_device_object(const struct config *cfg,
                                                   const struct wireguard_device *d, time_t now,
                                                   bool stream)
{
	struct json_object *o = json_object_new_object();
	struct json_object *peers = stream ? streamed_peers(cfg, d, now) : peers_array(cfg, d, now);
	size_t up = 0;

	for (size_t i = 0; i < d->n_peers; i++)
		up += verdict_peer_state(cfg, &d->peers[i], now) == VERDICT_PEER_UP;
	json_object_object_add(o, "name", json_text(d->name));
	json_object_object_add(o, "backend", json_text(wireguard_backend_name(d->backend)));
	json_object_object_add(o, "exists", json_object_new_boolean(d->link_found));
	json_object_object_add(o, "ifindex",
	                       d->link_found ? json_object_new_int(d->ifindex) : NULL);
	json_object_object_add(o, "up", json_object_new_boolean(d->link_up));
	json_object_object_add(o, "oper_state", d->oper_state[0] ? json_text(d->oper_state) : NULL);
	json_object_object_add(o, "error", d->error ? json_text(d->error_text) : NULL);
	json_object_object_add(o, "addresses", wireguard_ips(d->addresses, d->n_addresses));
	json_object_object_add(o, "public_key",
	                       d->has_public_key ? json_text(d->public_key) : NULL);
	json_object_object_add(o, "listen_port",
	                       d->error ? NULL : json_object_new_int(d->listen_port));
	json_object_object_add(o, "fwmark", d->error ? NULL : json_object_new_int64(d->fwmark));
	json_object_object_add(o, "interrupted_dumps",
	                       d->backend == WIREGUARD_BACKEND_KERNEL
	                           ? json_object_new_int64(d->interrupted_dumps)
	                           : NULL);
	json_object_object_add(o, "wg_quick_file",
	                       d->wgquick_read ? json_text(d->wgquick_path) : NULL);
	json_object_object_add(o, "wg_quick_error",
	                       d->wgquick_error[0] ? json_text(d->wgquick_error) : NULL);
	json_object_object_add(
	    o, "wg_quick_listen_port",
	    d->wgquick_listen_port > 0 ? json_object_new_int(d->wgquick_listen_port) : NULL);
	add_u64(o, "peer_count", d->n_peers);
	add_u64(o, "peers_up", up);
	json_object_object_add(o, "peers", peers);
	return o;
}

static struct json_object *wireguard_object(const struct config *cfg, const struct wireguard *wg,
                                            bool stream)
{
	struct json_object *o = json_object_new_object();
	struct json_object *devs = json_object_new_array_ext((int)wg->n_devices);
	struct json_object *missing = json_object_new_array();

	for (size_t i = 0; i < wg->n_devices; i++)
		json_object_array_add(
		    devs, wireguard_device_object(cfg, &wg->devices[i], wg->collected_at, stream));
	for (size_t i = 0; i < wg->n_missing_required; i++)
		json_object_array_add(missing, json_text(wg->missing_required[i]));
	json_object_object_add(o, "auto_discovered", json_object_new_boolean(wg->auto_discovered));
	json_object_object_add(o, "interfaces", devs);
	json_object_object_add(o, "missing_required_peers", missing);
	return o;
}

struct json_object *json_wireguard_object(const struct config *cfg, const struct wireguard *wg)
{
	return wireguard_object(cfg, wg, false);
}

static struct json_object *text_or_null(const char *s)
{
	return s && s[0] ? json_text(s) : NULL;
}

static const char *firewall_result_name(enum fwpath_result r)
{
	switch (r) {
	case FWPATH_RULE_ACCEPTS:
		return "rule_accepts";
	case FWPATH_POLICY_ACCEPTS:
		return "policy_accepts";
	case FWPATH_RULE_DROPS:
		return "rule_drops";
	case FWPATH_POLICY_DROPS:
		return "policy_drops";
	case FWPATH_TOO_COMPLEX:
		return "too_complex";
	}
	return "unknown";
}

/* One base chain's decision for one interface, family and direction. */
static struct json_object *firewall_decision_object(const struct firewall_decision *d)
{
	struct json_object *x = json_object_new_object();

	json_object_object_add(x, "interface", json_text(d->iface));
	json_object_object_add(x, "family", json_object_new_int(d->family));
	json_object_object_add(x, "direction",
	                       json_object_new_string(d->direction == FWPATH_OUT ? "out" : "back"));
	json_object_object_add(x, "result", json_text(firewall_result_name(d->result)));
	json_object_object_add(x, "nothing_filters", json_object_new_boolean(d->nothing_filters));
	json_object_object_add(x, "native_nft", json_object_new_boolean(d->native));
	json_object_object_add(x, "table_family", text_or_null(d->table_family));
	json_object_object_add(x, "table", text_or_null(d->table));
	json_object_object_add(x, "base_chain", text_or_null(d->base_chain));
	json_object_object_add(x, "policy", text_or_null(d->policy));
	json_object_object_add(x, "chain", text_or_null(d->chain));
	json_object_object_add(x, "rule_number",
	                       d->rule_number ? json_object_new_int(d->rule_number) : NULL);
	json_object_object_add(x, "rule", text_or_null(d->rule));
	json_object_object_add(x, "after_docker", json_object_new_boolean(d->after_docker));
	return x;
}

static struct json_object *firewall_object(const struct firewall *fw)
{
	struct json_object *o = json_object_new_object();
	struct json_object *fwd = json_object_new_array();
	struct json_object *exp = json_object_new_array();
	struct json_object *input = json_object_new_array();
	struct json_object *masq = NULL;

	for (size_t i = 0; i < fw->n_decisions; i++)
		json_object_array_add(fwd, firewall_decision_object(&fw->decisions[i]));
	for (size_t i = 0; i < fw->n_input; i++)
		json_object_array_add(input, firewall_decision_object(&fw->input[i]));
	for (size_t i = 0; i < fw->n_expect; i++) {
		const struct postup_expectation *e = &fw->expect[i];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "command", json_text(e->command));
		json_object_object_add(x, "origin", json_text(e->origin));
		json_object_object_add(x, "understood", json_object_new_boolean(e->understood));
		json_object_object_add(x, "reason", text_or_null(e->reason));
		json_object_object_add(x, "checked", json_object_new_boolean(e->checked));
		json_object_object_add(x, "present",
		                       e->checked ? json_object_new_boolean(e->present) : NULL);
		json_object_array_add(exp, x);
	}
	if (fw->masq_found) {
		masq = json_object_new_object();
		json_object_object_add(masq, "table", json_text(fw->masq_table));
		json_object_object_add(masq, "native_nft",
		                       json_object_new_boolean(fw->masq_native));
		json_object_object_add(masq, "chain", json_text(fw->masq_chain));
		json_object_object_add(masq, "rule_number",
		                       json_object_new_int(fw->masq_rule_number));
		json_object_object_add(masq, "rule", json_text(fw->masq_rule));
		json_object_object_add(masq, "out_interface", text_or_null(fw->masq_out));
		json_object_object_add(masq, "out_negated",
		                       json_object_new_boolean(fw->masq_out_neg));
		json_object_object_add(
		    masq, "out_interface_exists",
		    fw->masq_out[0] ? json_object_new_boolean(fw->masq_out_exists) : NULL);
	}
	json_object_object_add(o, "iptables_save", json_text(fw->iptables_save));
	json_object_object_add(o, "backend", text_or_null(fw->backend));
	json_object_object_add(o, "legacy_tables_present",
	                       json_object_new_boolean(fw->legacy_tables_present));
	json_object_object_add(o, "forward_policy", json_text(fw->forward_policy));
	json_object_object_add(o, "docker", json_object_new_boolean(fw->docker));
	json_object_object_add(o, "filter_rules", json_object_new_int64(fw->filter_rules));
	json_object_object_add(o, "nat_rules", json_object_new_int64(fw->nat_rules));
	json_object_object_add(o, "wg_quick_file", text_or_null(fw->wgquick_path));
	json_object_object_add(o, "wg_quick_error", text_or_null(fw->wgquick_error));
	json_object_object_add(o, "vpn_subnet", text_or_null(fw->vpn_subnet));
	json_object_object_add(o, "vpn_subnet6", text_or_null(fw->vpn_subnet6));
	json_object_object_add(o, "ssh_port",
	                       fw->input_port ? json_object_new_int(fw->input_port) : NULL);
	json_object_object_add(o, "ufw", json_object_new_boolean(fw->ufw));
	json_object_object_add(o, "ssh_input", input);
	json_object_object_add(o, "ipv6", json_object_new_boolean(fw->ipv6));
	json_object_object_add(o, "ip6tables_save",
	                       fw->ipv6 ? json_text(fw->ip6tables_save) : NULL);
	json_object_object_add(o, "ipv6_error", text_or_null(fw->ipv6_error));
	json_object_object_add(o, "forward6_policy", text_or_null(fw->forward6_policy));
	json_object_object_add(o, "nft", text_or_null(fw->nft));
	json_object_object_add(o, "nft_read", json_object_new_boolean(fw->nft_read));
	json_object_object_add(o, "nft_error", text_or_null(fw->nft_error));
	json_object_object_add(o, "nft_tables", json_object_new_int64(fw->nft_tables));
	json_object_object_add(o, "nft_native_tables",
	                       json_object_new_int64(fw->nft_native_tables));
	json_object_object_add(o, "decisions_cut", json_object_new_boolean(fw->decisions_cut));
	json_object_object_add(o, "forward", fwd);
	json_object_object_add(o, "expected_rules", exp);
	json_object_object_add(o, "masquerade", masq);
	json_object_object_add(o, "default_route_interface", text_or_null(fw->default_if));
	json_object_object_add(o, "default_route_gateway", text_or_null(fw->default_via));
	return o;
}

static struct json_object *endpoint_requests(const struct endpoint_request *reqs, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "url", json_text(reqs[i].url));
		json_object_object_add(x, "ok", json_object_new_boolean(reqs[i].ok));
		json_object_object_add(x, "http_code",
		                       reqs[i].http_code ? json_object_new_int64(reqs[i].http_code)
		                                         : NULL);
		json_object_object_add(x, "total_seconds",
		                       json_object_new_double(reqs[i].total_seconds));
		json_object_object_add(x, "error", text_or_null(reqs[i].error));
		json_object_array_add(arr, x);
	}
	return arr;
}

/* "ipv6": {"interface": "eth0" | null, "addresses": ["2001:db8::5"],
 *          "hostname_addresses": [...], "hostname_error": null | "..."} */
static struct json_object *endpoint6_object(const struct endpoint6 *e)
{
	struct json_object *o = json_object_new_object();
	struct json_object *mine = json_object_new_array();
	struct json_object *records = json_object_new_array();

	for (size_t i = 0; i < e->n_addresses; i++)
		json_object_array_add(mine, json_text(e->addresses[i]));
	for (size_t i = 0; i < e->n_hostname_ips; i++)
		json_object_array_add(records, json_text(e->hostname_ips[i]));
	json_object_object_add(o, "interface", text_or_null(e->ifname));
	json_object_object_add(o, "addresses", mine);
	json_object_object_add(o, "hostname_addresses", records);
	json_object_object_add(o, "hostname_error", text_or_null(e->hostname_error));
	return o;
}

static struct json_object *endpoint_object(const struct endpoint *ep)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ips = json_object_new_array();
	char stamp[32];

	for (size_t i = 0; i < ep->n_hostname_ips; i++)
		json_object_array_add(ips, json_text(ep->hostname_ips[i]));
	json_object_object_add(o, "public_ip", ep->have_ip ? text_or_null(ep->public_ip) : NULL);
	json_object_object_add(o, "source_url", text_or_null(ep->source_url));
	json_object_object_add(o, "attempts", endpoint_requests(ep->attempts, ep->n_attempts));
	json_object_object_add(o, "remembered_ip",
	                       ep->have_remembered ? text_or_null(ep->remembered_ip) : NULL);
	rfc3339(ep->remembered_since, stamp, sizeof(stamp));
	json_object_object_add(o, "remembered_since",
	                       ep->have_remembered ? json_text(stamp) : NULL);
	json_object_object_add(o, "state_file", text_or_null(ep->state_path));
	json_object_object_add(o, "state_error", text_or_null(ep->state_error));
	json_object_object_add(o, "hostname", text_or_null(ep->hostname));
	json_object_object_add(o, "hostname_addresses", ips);
	json_object_object_add(o, "hostname_error", text_or_null(ep->hostname_error));
	json_object_object_add(o, "ipv6", endpoint6_object(&ep->v6));
	json_object_object_add(o, "probes", endpoint_requests(ep->probes, ep->n_probes));
	return o;
}

static struct json_object *ssh_listeners(const struct ssh *s)
{
	struct json_object *arr = json_object_new_array();

	for (uint32_t i = 0; i < s->n_listeners; i++) {
		const struct ssh_listener *l = &s->listeners[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "address", json_text(l->address));
		json_object_object_add(o, "reach", json_text(ssh_reach_name(l->reach)));
		json_object_object_add(o, "interface", text_or_null(l->ifname));
		json_object_object_add(o, "usable",
		                       json_object_new_boolean((int32_t)i == s->usable));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *ssh_object(const struct ssh *s)
{
	static const char *const sources[] = {[SSH_PORT_DEFAULT] = "default",
	                                      [SSH_PORT_SSHD] = "sshd_config",
	                                      [SSH_PORT_CONFIG] = "sparkmon.conf",
	                                      [SSH_PORT_LISTEN] = "sshd_config ListenAddress"};
	struct json_object *o = json_object_new_object();
	struct json_object *b = json_object_new_object();

	json_object_object_add(o, "port", json_object_new_int(s->port));
	json_object_object_add(o, "port_source", json_text(sources[s->port_source]));
	json_object_object_add(o, "port_file", text_or_null(s->port_file));
	json_object_object_add(o, "port_line",
	                       s->port_line ? json_object_new_int(s->port_line) : NULL);
	json_object_object_add(o, "sshd_config_error", text_or_null(s->sshd_config_error));
	json_object_object_add(o, "vpn_interface", text_or_null(s->vpn_ifname));
	json_object_object_add(o, "vpn_address", text_or_null(s->vpn_address));
	json_object_object_add(o, "lan_interface", text_or_null(s->lan_ifname));
	json_object_object_add(o, "lan_address", text_or_null(s->lan_address));
	json_object_object_add(o, "listeners", ssh_listeners(s));
	json_object_object_add(o, "listeners_total", json_object_new_int64(s->total_listeners));
	json_object_object_add(b, "state", json_text(ssh_banner_state_name(s->banner)));
	json_object_object_add(b, "target", text_or_null(s->banner_target));
	json_object_object_add(b, "line", text_or_null(s->banner_line));
	json_object_object_add(b, "software", text_or_null(s->banner_software));
	json_object_object_add(b, "error", text_or_null(s->banner_error));
	json_object_object_add(
	    b, "seconds",
	    s->banner == SSH_BANNER_NOT_TRIED ? NULL : json_object_new_double(s->banner_seconds));
	json_object_object_add(o, "banner", b);
	json_object_object_add(o, "up", json_object_new_boolean(sshcheck_up(s)));
	return o;
}

/* The router area (null when no router answered, the router probe being
 * skipped, failed or off):
 *
 *   "router": {
 *     "interface": "eth0", "address": "192.168.1.20", "prefix": 24,
 *     "gateway": "192.168.1.1", "port": 51820,
 *     "natpmp": {"state": "answered" | "no answer" | "refused",
 *                "external_ip": "203.0.113.7" | null, "error": null | "..."},
 *     "upnp": {"state": ..., "location": "http://192.168.1.1:5000/rootDesc.xml" | null,
 *              "service": "urn:...:WANIPConnection:1" | null,
 *              "external_ip": ... | null, "error": null | "..."},
 *     "mapping": {"state": "found" | "none" | "unknown",
 *                 "internal_client": "192.168.1.20" | null, "internal_port": 51820 | null,
 *                 "enabled": true | null, "description": "..." | null,
 *                 "error": null | "...", "listed": 3},
 *     "external_ip": "203.0.113.7" | null,
 *     "external_ip_kind": "public" | "private" | "shared" | ... | null,
 *     "port_mapping_ok": true | false | null,
 *     "cgnat": true | false | null
 *   }
 */
static struct json_object *tristate(int v)
{
	return v < 0 ? NULL : json_object_new_boolean(v);
}

static struct json_object *router_protocol(enum router_answer state, const char *ip,
                                           const char *error)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "state", json_text(router_answer_name(state)));
	json_object_object_add(o, "external_ip", text_or_null(ip));
	json_object_object_add(o, "error", text_or_null(error));
	return o;
}

static struct json_object *router_mapping(const struct router *r)
{
	struct json_object *o = json_object_new_object();
	bool found = r->mapping == ROUTER_MAPPING_FOUND;

	json_object_object_add(o, "state", json_text(router_mapping_name(r->mapping)));
	json_object_object_add(o, "internal_client", found ? json_text(r->mapping_client) : NULL);
	json_object_object_add(o, "internal_port",
	                       found ? json_object_new_int(r->mapping_port) : NULL);
	json_object_object_add(o, "enabled",
	                       found ? json_object_new_boolean(r->mapping_enabled) : NULL);
	json_object_object_add(o, "description", found ? json_text(r->mapping_description) : NULL);
	json_object_object_add(o, "error", text_or_null(r->mapping_error));
	json_object_object_add(o, "listed", json_object_new_int64(r->mappings_listed));
	return o;
}

static struct json_object *router_object(const struct snapshot *snap)
{
	const struct router *r = &snap->router;
	struct json_object *o = json_object_new_object();
	struct json_object *upnp = router_protocol(r->upnp, r->upnp_ip, r->upnp_error);

	json_object_object_add(o, "interface", json_text(r->ifname));
	json_object_object_add(o, "address", json_text(r->address));
	json_object_object_add(o, "prefix", json_object_new_int(r->prefix));
	json_object_object_add(o, "gateway", json_text(r->gateway));
	json_object_object_add(o, "port", json_object_new_int(r->port));
	json_object_object_add(o, "natpmp",
	                       router_protocol(r->natpmp, r->natpmp_ip, r->natpmp_error));
	json_object_object_add(upnp, "location", text_or_null(r->upnp_location));
	json_object_object_add(upnp, "service", text_or_null(r->upnp_service));
	json_object_object_add(o, "upnp", upnp);
	json_object_object_add(o, "mapping", router_mapping(r));
	json_object_object_add(o, "external_ip", text_or_null(r->external_ip));
	json_object_object_add(
	    o, "external_ip_kind",
	    r->external_ip[0] ? json_text(routercheck_kind_name(routercheck_kind(r->external_ip)))
	                      : NULL);
	json_object_object_add(o, "port_mapping_ok", tristate(routercheck_mapping_ok(r)));
	json_object_object_add(o, "cgnat", tristate(routercheck_cgnat_state(snap)));
	return o;
}

static struct json_object *status_document(const struct config *cfg, const struct snapshot *snap,
                                           const struct verdict *verdict, bool stream)
{
	struct json_object *doc = json_object_new_object();
	char stamp[32];

	(void)cfg;
	rfc3339(snap->generated_at, stamp, sizeof(stamp));
	json_object_object_add(doc, "status", json_text(verdict_status_lower(verdict->overall)));
	json_object_object_add(doc, "exit_code", json_object_new_int((int)verdict->overall));
	json_object_object_add(doc, "generated_at", json_text(stamp));
	json_object_object_add(doc, "host", json_text(snap->host));
	json_object_object_add(doc, "version", json_text(SPARKMON_VERSION));
	json_object_object_add(doc, "checks", checks_array(verdict));
	json_object_object_add(doc, "probes", probes_object(snap));
	json_object_object_add(
	    doc, "memory", area_valid(snap, PROBE_MEMORY) ? memory_object(&snap->memory) : NULL);
	json_object_object_add(
	    doc, "forwarding",
	    area_valid(snap, PROBE_FORWARDING) ? forwarding_object(&snap->forwarding) : NULL);
	json_object_object_add(doc, "gpu", gpu_object(snap));
	json_object_object_add(doc, "wireguard",
	                       area_valid(snap, PROBE_WIREGUARD)
	                           ? wireguard_object(cfg, &snap->wireguard, stream)
	                           : NULL);
	json_object_object_add(doc, "firewall",
	                       area_valid(snap, PROBE_FIREWALL) ? firewall_object(&snap->firewall)
	                                                        : NULL);
	json_object_object_add(doc, "endpoint",
	                       area_valid(snap, PROBE_ENDPOINT) ? endpoint_object(&snap->endpoint)
	                                                        : NULL);
	json_object_object_add(doc, "ssh",
	                       area_valid(snap, PROBE_SSH) ? ssh_object(&snap->ssh) : NULL);
	json_object_object_add(doc, "router",
	                       area_valid(snap, PROBE_ROUTER) ? router_object(snap) : NULL);
	return doc;
}

struct json_object *json_status_document(const struct config *cfg, const struct snapshot *snap,
                                         const struct verdict *verdict)
{
	return status_document(cfg, snap, verdict, false);
}

const char *json_status_text(const struct config *cfg, const struct snapshot *snap,
                             const struct verdict *verdict, int pretty,
                             struct json_object **ret_holder, size_t *ret_len)
{
	struct json_object *doc = status_document(cfg, snap, verdict, true);
	/* json-c writes '/' as "\/" by default, which makes paths and URLs hard
	 * to read and copy; the document is served as application/json with
	 * nosniff and never embedded in a <script>, so no escape is needed. The
	 * streamed peers receive these flags from json-c. */
	int flags =
	    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN) |
	    JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *text = doc ? json_object_to_json_string_length(doc, flags, ret_len) : NULL;

	if (!text) {
		json_object_put(doc);
		return NULL;
	}
	*ret_holder = doc;
	return text;
}

char *json_status_string(const struct config *cfg, const struct snapshot *snap,
                         const struct verdict *verdict, int pretty)
{
	struct json_object *holder;
	size_t len;
	const char *text = json_status_text(cfg, snap, verdict, pretty, &holder, &len);
	char *s = text ? strdup(text) : NULL;

	if (text)
		json_object_put(holder);
	return s;
}
