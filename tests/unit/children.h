/* The children of the test process, whoever started them, for the unit
 * tests of code that starts programs (and must never lose one). */
#ifndef SPARKMON_TEST_CHILDREN_H
#define SPARKMON_TEST_CHILDREN_H

#include <stdio.h>
#include <unistd.h>

/* How many children this process has now (from /proc), -1 when unknown. */
static int count_children(void)
{
	char path[64], buf[32];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%31s", buf) == 1)
		n++;
	fclose(f);
	return n;
}

#endif
