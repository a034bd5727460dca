/* Absolute paths of test fixtures (the runner wants absolute program
 * paths), for the unit tests that run fixture programs. Define FIXTURES
 * (a directory below the repository, with a trailing slash) before
 * including this, and pass fixture_setup to cmocka_run_group_tests. */
#ifndef SPARKMON_TEST_FIXTURE_H
#define SPARKMON_TEST_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

static char fixture_dir[PATH_MAX];

static int fixture_setup(void **state)
{
	char cwd[PATH_MAX];

	(void)state;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	return snprintf(fixture_dir, sizeof(fixture_dir), "%s/" FIXTURES, cwd) <
	               (int)sizeof(fixture_dir)
	           ? 0
	           : -1;
}

/* Where the fixture is, or would be. */
static const char *fixture_path(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s%s", fixture_dir, name);
	return path;
}

/* The fixture's path; fails the test when it is missing. */
static const char *fixture(const char *name)
{
	const char *path = fixture_path(name);

	if (access(path, F_OK) != 0)
		fail_msg("fixture %s missing", path);
	return path;
}

#endif
