/* Monotonic and wall clocks. */
#ifndef ASC_CORE_CLOCK_H
#define ASC_CORE_CLOCK_H

#include <stdint.h>

/* Monotonic nanoseconds (CLOCK_MONOTONIC). */
uint64_t asc_clock_ns(void);
/* Wall-clock milliseconds since the epoch. */
uint64_t asc_clock_wall_ms(void);
/* Writes an RFC 3339 UTC timestamp with milliseconds ("2026-01-02T03:04:05.678Z")
 * into out (at least 25 bytes). */
void asc_clock_rfc3339(uint64_t wall_ms, char out[64]);
/* Parse an RFC 3339 timestamp ("2026-01-02T03:04:05Z", optional fraction,
 * "Z" or "+hh:mm"/"-hh:mm") into unix milliseconds. Returns 0 on success,
 * -1 when s is not one (or lies before 1970 or after 9999). */
int asc_clock_parse_rfc3339(const char *s, int64_t *ms);

#endif
