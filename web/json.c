#include "web/json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/probetab.h"

static void rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
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

		json_object_object_add(o, "id", json_object_new_string(c->id));
		json_object_object_add(o, "status",
		                       json_object_new_string(verdict_status_lower(c->status)));
		json_object_object_add(o, "summary", json_object_new_string(c->summary));
		json_object_object_add(o, "hint", json_object_new_string(c->hint));
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

		json_object_object_add(
		    o, "status", json_object_new_string(snapshot_probe_status_name(p->status)));
		json_object_object_add(o, "error",
		                       p->error[0] ? json_object_new_string(p->error) : NULL);
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

static struct json_object *forwarding_object(const struct forwarding *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ipv4", json_object_new_boolean(f->ipv4));
	json_object_object_add(o, "ipv4_at_boot",
	                       f->boot_value < 0 ? NULL : json_object_new_boolean(f->boot_value));
	json_object_object_add(o, "boot_source_file",
	                       f->boot_file[0] ? json_object_new_string(f->boot_file) : NULL);
	json_object_object_add(o, "boot_source_line",
	                       f->boot_file[0] ? json_object_new_int(f->boot_line) : NULL);
	return o;
}

struct json_object *json_status_document(const struct config *cfg, const struct snapshot *snap,
                                         const struct verdict *verdict)
{
	struct json_object *doc = json_object_new_object();
	char stamp[32];

	(void)cfg;
	rfc3339(snap->generated_at, stamp, sizeof(stamp));
	json_object_object_add(doc, "status",
	                       json_object_new_string(verdict_status_lower(verdict->overall)));
	json_object_object_add(doc, "exit_code", json_object_new_int((int)verdict->overall));
	json_object_object_add(doc, "generated_at", json_object_new_string(stamp));
	json_object_object_add(doc, "host", json_object_new_string(snap->host));
	json_object_object_add(doc, "version", json_object_new_string(SPARKMON_VERSION));
	json_object_object_add(doc, "checks", checks_array(verdict));
	json_object_object_add(doc, "probes", probes_object(snap));
	json_object_object_add(
	    doc, "memory", area_valid(snap, PROBE_MEMORY) ? memory_object(&snap->memory) : NULL);
	json_object_object_add(
	    doc, "forwarding",
	    area_valid(snap, PROBE_FORWARDING) ? forwarding_object(&snap->forwarding) : NULL);
	return doc;
}

char *json_status_string(const struct config *cfg, const struct snapshot *snap,
                         const struct verdict *verdict, int pretty)
{
	struct json_object *doc = json_status_document(cfg, snap, verdict);
	/* json-c escapes '/' by default, so no string can close a <script>. */
	int flags =
	    pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
	char *s = strdup(json_object_to_json_string_ext(doc, flags));

	json_object_put(doc);
	return s;
}
