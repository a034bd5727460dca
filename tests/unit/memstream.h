/* What a printer writes to a FILE, as a string, for the unit tests that
 * check it. The stream's buffer pointer and size live on the heap, not in
 * the caller's frame: with them there, gcc -O3 takes the returned string
 * for a pointer into that frame (-Wdangling-pointer). */
#ifndef SPARKMON_TEST_MEMSTREAM_H
#define SPARKMON_TEST_MEMSTREAM_H

#include <stdio.h>
#include <stdlib.h>

struct memstream {
	char *text;
	size_t len;
	FILE *f;
};

/* A stream to print to (m->f); NULL when out of memory. */
static struct memstream *memstream_open(void)
{
	struct memstream *m = calloc(1, sizeof(*m));

	if (m && !(m->f = open_memstream(&m->text, &m->len))) {
		free(m);
		m = NULL;
	}
	return m;
}

/* Closes the stream and returns what was printed (the caller frees it);
 * NULL when the stream failed. */
static char *memstream_close(struct memstream *m)
{
	char *text = NULL;

	/* fclose writes the final buffer pointer into m->text. */
	if (fclose(m->f) == 0)
		text = m->text;
	else
		free(m->text);
	free(m);
	return text;
}

#endif
