/*
 * ctl.h - stremoractl's commands that live in their own files.
 */
#ifndef STREMORA_CTL_H
#define STREMORA_CTL_H

#include <stdint.h>

struct db;

/* What stremoractl seed makes: users, videos, comments on the hot video, channels each user
 * follows. */
struct seed_sizes {
    long users, videos, comments, subscriptions;
};
/* stremoractl seed: inserts a reproducible data set (seed.c). Returns the exit status. */
int ctl_seed(struct db *db, const struct seed_sizes *z, uint64_t seed);

#endif
