/* `sparkmon status`: a report for a person at a terminal — the checks,
 * then the details of each area. */
#ifndef SPARKMON_REPORT_H
#define SPARKMON_REPORT_H

#include <stdio.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"

void report_print(const struct config *cfg, const struct snapshot *snap,
                  const struct verdict *verdict, FILE *out);

#endif
