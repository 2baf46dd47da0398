/*
 * cursor.h - list cursors for keyset pagination (DESIGN.md section 4): the sort key of the
 * last item of a page, (a 64-bit key such as createdAt ms or viewCount, the ObjectId that
 * breaks ties), as base64url("<key>.<24 hex>"). Opaque to clients; not signed, because it
 * only says where to start and every value is checked as it is read.
 */
#ifndef STREMORA_CURSOR_H
#define STREMORA_CURSOR_H

#include <stdint.h>

#include "str.h"

struct arena;

/* Returns the cursor for (key, id_hex) in a, or NULL if a is full or key < 0. */
char *cursor_format(struct arena *a, int64_t key, const char *id_hex);
/* Reads a cursor made by cursor_format. Returns 0, or -1 for anything else. */
int cursor_parse(struct str s, int64_t *key, char id_hex[25]);

#endif
