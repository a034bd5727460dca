/* The parser of `nft -j list ruleset`: every table, its chains (base
 * chains with hook, type, priority and policy) and their rules, reduced to
 * the ruleset model of fwrules.h. */
#ifndef SPARKMON_NFTJSON_H
#define SPARKMON_NFTJSON_H

#include <stddef.h>

#include "probes/fwrules.h"

/* Parses the JSON that `nft -j list ruleset` prints. Expressions that are
 * not understood make a rule conditional (it applies to some packets
 * only), never a guess. Returns 0, or -EINVAL (not JSON, not an nft
 * ruleset, a rule of an unknown chain, a name too long) / -E2BIG /
 * -ENOMEM with the reason in err. *ret is written only on success; free it
 * with fwrules_tables_free(). */
int nftjson_parse(const char *buf, size_t len, struct fwrules_tables *ret, char *err,
                  size_t errlen);

#endif
