/* Text helpers shared by the line parsers (sysctl.d files, wg-quick files). */
#ifndef SPARKMON_TEXT_H
#define SPARKMON_TEXT_H

/* Trims a NUL-terminated string in place: spaces and tabs at the start,
 * spaces, tabs and a CR (a file written on Windows) at the end. Returns a
 * pointer into s; the end is cut by writing NULs. */
char *text_trim(char *s);

#endif
