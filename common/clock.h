/*
 * clock.h - the monotonic clock, for durations and time-to-live checks: unlike the wall
 * clock (db_now_ms, for times that are stored or shown) it never jumps when the system
 * time is set. On Linux it is one clock for every process of the host, so values written
 * by one worker (host.h rows) can be compared by another.
 */
#ifndef STREMORA_CLOCK_H
#define STREMORA_CLOCK_H

#include <stdint.h>

/* Microseconds and milliseconds of CLOCK_MONOTONIC. */
int64_t clock_mono_us(void);
int64_t clock_mono_ms(void);
/* Milliseconds since the epoch (the wall clock: for times stored or shown). */
int64_t clock_real_ms(void);

#endif
