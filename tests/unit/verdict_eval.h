/* Evaluating one check of a snapshot, for the unit tests of the verdict. */
#ifndef SPARKMON_TEST_VERDICT_EVAL_H
#define SPARKMON_TEST_VERDICT_EVAL_H

#include <stdio.h>
#include <string.h>

#include "monitor/verdict.h"
#include "tests/unit/find_check.h"

/* Evaluates only the check `id` (so that areas left NOT_RUN in a test's
 * snapshot stay out) into *v; returns that check, or NULL when it does
 * not apply. */
static const struct check *eval_check(const struct config *cfg, const struct snapshot *snap,
                                      const char *id, struct verdict *v)
{
	char list[CHECK_ID_MAX], bad[CHECK_ID_MAX];
	struct check_filter filter;

	snprintf(list, sizeof(list), "%s", id);
	assert_int_equal(verdict_parse_filter(list, &filter, bad, sizeof(bad)), 0);
	verdict_evaluate(cfg, snap, &filter, v);
	return find_check(v, id);
}

/* The check `id` applies, with exactly this status, summary and hint. */
static void verdict_is(const struct config *cfg, const struct snapshot *snap, const char *id,
                       enum check_status status, const char *summary, const char *hint)
{
	struct verdict v;
	const struct check *c = eval_check(cfg, snap, id, &v);

	if (!c)
		fail_msg("%s: absent, expected %s", id, verdict_status_upper(status));
	if (c->status != status)
		fail_msg("%s: %s, expected %s (summary '%s')", id, verdict_status_upper(c->status),
		         verdict_status_upper(status), c->summary);
	assert_string_equal(c->summary, summary);
	assert_string_equal(c->hint, hint);
	assert_int_equal(v.overall, status);
}

/* The check `id` does not apply to this snapshot: selected alone, it
 * leaves only the UNKNOWN that says no selected check applies. */
static void verdict_absent(const struct config *cfg, const struct snapshot *snap, const char *id)
{
	struct verdict v;
	const struct check *c = eval_check(cfg, snap, id, &v);

	if (c)
		fail_msg("%s: %s '%s', expected absent", id, verdict_status_upper(c->status),
		         c->summary);
	assert_int_equal(v.count, 1);
	assert_string_equal(v.checks[0].id, "selection");
	assert_int_equal(v.overall, CHECK_UNKNOWN);
}

#endif
