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

/* Same, serialized (pretty when asked); the caller frees the string. */
char *json_status_string(const struct config *cfg, const struct snapshot *snap,
                         const struct verdict *verdict, int pretty);

#endif
