/* `sparkmon check` output for cron and monitoring plugins: one status line
 * with perfdata, then one line per check that is not OK. */
#ifndef SPARKMON_CHECK_H
#define SPARKMON_CHECK_H

#include <stdio.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"

/* Writes "SPARKMON <STATUS> - <summary> | <perfdata>" and the detail lines. */
void check_print_text(const struct config *cfg, const struct snapshot *snap,
                      const struct verdict *verdict, FILE *out);

/* Copies text for a plugin line: '|' (the perfdata separator) becomes '/',
 * control characters become '?', so no name can forge a line or perfdata. */
void check_sanitize(const char *text, char *buf, size_t size);

#endif
