/*
 * ctl.h - stremoractl's commands that live in their own files.
 */
#ifndef STREMORA_CTL_H
#define STREMORA_CTL_H

#include <stdint.h>

struct db;

/* stremoractl seed: inserts a reproducible data set (seed.c). Returns the exit status. */
int ctl_seed(struct db *db, long users, long videos, uint64_t seed);

#endif
