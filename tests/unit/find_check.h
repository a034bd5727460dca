/* A check of a verdict by id, for the unit tests that evaluate. */
#ifndef SPARKMON_TEST_FIND_CHECK_H
#define SPARKMON_TEST_FIND_CHECK_H

#include <string.h>

#include "monitor/verdict.h"

/* NULL when the verdict has no check of that id. */
static const struct check *find_check(const struct verdict *v, const char *id)
{
	for (size_t i = 0; i < v->count; i++)
		if (strcmp(v->checks[i].id, id) == 0)
			return &v->checks[i];
	return NULL;
}

#endif
