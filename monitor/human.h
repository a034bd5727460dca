/* Numbers for people: sizes like free -h prints them, ages like "3m 20s". */
#ifndef SPARKMON_HUMAN_H
#define SPARKMON_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* 1536 MiB → "1.5 GiB"; below 1 KiB → "512 B". */
void human_bytes(uint64_t bytes, char *buf, size_t size);

/* 200 → "3m 20s"; 90061 → "1d 1h". */
void human_age(uint64_t seconds, char *buf, size_t size);

#endif
