/* The status document shared by `sparkmon check --json` and /status.json. */
#ifndef SPARKMON_JSON_H
#define SPARKMON_JSON_H

#include <json-c/json.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"

/* Builds the document; the caller owns the result (json_object_put). */
struct json_object *json_status_document(const struct config *cfg, const struct snapshot *snap,
                                         const struct verdict *verdict);

/* The "wireguard" area alone: every interface, peer and allowed IP
 * (`sparkmon wireguard --json`), peer states judged with cfg; the caller
 * owns the result. */
struct json_object *json_wireguard_object(const struct config *cfg, const struct wireguard *wg);

/* The document serialized (pretty when asked) into json-c's own buffer,
 * without a copy: the text stays valid until json_object_put(*ret_holder).
 * The holder is good for nothing else (it refers to cfg and snap). NULL
 * when out of memory. */
const char *json_status_text(const struct config *cfg, const struct snapshot *snap,
                             const struct verdict *verdict, int pretty,
                             struct json_object **ret_holder, size_t *ret_len);

/* Same, as a string the caller frees. */
char *json_status_string(const struct config *cfg, const struct snapshot *snap,
                         const struct verdict *verdict, int pretty);

#endif
