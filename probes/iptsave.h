/* The parser of iptables-save and ip6tables-save output (either backend):
 * keeps the filter and nat tables as a struct fwrules_ruleset. */
#ifndef SPARKMON_IPTSAVE_H
#define SPARKMON_IPTSAVE_H

#include <stddef.h>

#include "probes/fwrules.h"

/* Parses iptables-save output (family 4) or ip6tables-save output (family
 * 6). Output that ends inside a table (no COMMIT) is truncated and refused:
 * a partial ruleset would give wrong answers. Returns 0, or
 * -EINVAL/-EBADMSG/-E2BIG/-ENOMEM with "line N: reason" in err. *ret is
 * written only on success; free it with fwrules_ruleset_free(). */
int iptsave_parse(const char *buf, size_t len, int family, struct fwrules_ruleset *ret, char *err,
                  size_t errlen);

/* The connection states of a --ctstate/--state list ("RELATED,ESTABLISHED")
 * as FWRULES_CT_* bits; -EINVAL for a name that is not one. */
int iptsave_parse_states(const char *list, unsigned *ret);

#endif
