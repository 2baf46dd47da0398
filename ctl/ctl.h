/*
 * ctl.h - stremoractl's commands that live in their own files.
 */
#ifndef STREMORA_CTL_H
#define STREMORA_CTL_H

#include <stdbool.h>
#include <stdint.h>

struct db;

/* What stremoractl seed makes: users, videos, comments on the hot video, channels each user
 * follows. */
struct seed_sizes {
    long users, videos, comments, subscriptions;
};
/* stremoractl seed: inserts a reproducible data set (seed.c). Returns the exit status. */
int ctl_seed(struct db *db, const struct seed_sizes *z, uint64_t seed);
/* stremoractl recount [--dry-run]: every counter rebuilt from its source documents
 * (recount.c). Returns the exit status: 0 all right (or fixed), 1 some were wrong
 * (--dry-run) or changed meanwhile, 2 the database failed. */
int ctl_recount(struct db *db, bool dry_run);

#endif
