/*
 * clock.c - the clocks in the units callers want.
 */
#include "clock.h"

#include <time.h>

static int64_t
us_of(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_mono_us(void)
{
    return us_of(CLOCK_MONOTONIC);
}

int64_t
clock_real_ms(void)
{
    return us_of(CLOCK_REALTIME) / 1000;
}

int64_t
clock_mono_ms(void)
{
    return clock_mono_us() / 1000;
}
